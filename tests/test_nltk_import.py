"""searchapp imports NLTK without SciPy's statistics and sparse matrices or scikit-learn, and
NLTK still answers as before: every name it would have imported resolves to the real one."""

import json
import subprocess
import sys

from searchapp import nltk_import

FRESH = """
import importlib, json, runpy, sys
{first}
ns = runpy.run_path({path!r})  # the module on its own, as the first import of NLTK
STAND_INS, Deferred = ns["STAND_INS"], ns["Deferred"]
out = {{"loaded": sorted(m for m in ("scipy.stats", "scipy.sparse", "sklearn") if m in sys.modules)}}
from searchapp.analysis import analyze
out["analysed"] = analyze("The corrupted officials")
resolved = {{}}
for module, names in STAND_INS.items():
    for name, (source, attr) in names.items():
        found = getattr(sys.modules[module], name)
        real = importlib.import_module(source)
        real = real if attr is None else getattr(real, attr)
        resolved[module + "." + name] = (found.target() if isinstance(found, Deferred) else found) is real
out["resolved"] = resolved
from nltk.metrics import BigramAssocMeasures
import scipy.stats
out["fisher"] = [BigramAssocMeasures.fisher(8, (15828, 4675), 14307668),
                 scipy.stats.fisher_exact([[8, 15820], [4667, 14287173]], alternative="less")[1]]
from nltk.classify import SklearnClassifier
from sklearn.naive_bayes import BernoulliNB
train = [({{"oil": True}}, "energy"), ({{"wheat": True}}, "grain")] * 3
out["classified"] = SklearnClassifier(BernoulliNB()).train(train).classify_many([{{"oil": True}}, {{"wheat": True}}])
print(json.dumps(out))
"""


def _run(first: str = "") -> dict:
    done = subprocess.run([sys.executable, "-c", FRESH.format(first=first, path=nltk_import.__file__)], capture_output=True,
                          text=True, check=True, timeout=120)
    return json.loads(done.stdout)


def test_searchapp_imports_none_of_them_and_nltk_still_works():
    out = _run()
    assert out["analysed"] == ["corrupt", "offici"]
    assert out["loaded"] == []
    assert out["resolved"] and all(out["resolved"].values()), out["resolved"]
    nltk_p, scipy_p = out["fisher"]
    assert nltk_p == scipy_p and 0 < scipy_p < 1
    assert out["classified"] == ["energy", "grain"]


def test_a_package_imported_first_leaves_nltk_as_it_is():
    out = _run("import scipy.stats")
    assert out["analysed"] == ["corrupt", "offici"] and "scipy.stats" in out["loaded"]
    assert all(out["resolved"].values()) and out["fisher"][0] == out["fisher"][1]
