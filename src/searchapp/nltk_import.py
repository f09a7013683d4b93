"""NLTK's tokenizer and stemmer, imported without the SciPy and scikit-learn modules NLTK's package pulls in.

``import nltk`` runs every NLTK module: its collocation measures import
``scipy.stats`` for a Fisher test, its classifiers and its transition parser
scikit-learn and ``scipy.sparse``. That is 1.5 of NLTK's 2 s of import CPU,
and some 1,500 modules, in every process (the CLI, the server, each reindex),
for code searchapp never runs. While NLTK is imported, those packages are
hidden (unless something has imported one already: then nothing is hidden);
NLTK falls back as it does without them, and afterwards each name it would have
imported from them is a stand-in that imports the real one when first used, so
NLTK answers as before (``tests/test_nltk_import.py`` checks every stand-in).
Import this module before anything else imports NLTK (only ``analysis`` does).
"""

from __future__ import annotations

import importlib
import sys

_HIDDEN = ("scipy.stats", "scipy.sparse", "sklearn")
# NLTK module -> {name: (module it comes from, attribute or None for the module)}, NLTK 3.8 to 3.10
STAND_INS = {
    "nltk.metrics.association": {"fisher_exact": ("scipy.stats", "fisher_exact")},
    "nltk.classify.scikitlearn": {"DictVectorizer": ("sklearn.feature_extraction", "DictVectorizer"),
                                  "LabelEncoder": ("sklearn.preprocessing", "LabelEncoder")},
    "nltk.parse.transitionparser": {"array": ("numpy", "array"), "sparse": ("scipy.sparse", None),
                                    "svm": ("sklearn.svm", None),
                                    "load_svmlight_file": ("sklearn.datasets", "load_svmlight_file")},
}


class Deferred:
    """A name NLTK imports from a hidden package: the real one, imported when first used."""

    def __init__(self, module: str, name: str | None) -> None:
        self._module, self._name = module, name

    def target(self):
        found = importlib.import_module(self._module)
        return found if self._name is None else getattr(found, self._name)

    def __call__(self, *args, **kwargs):
        return self.target()(*args, **kwargs)

    def __getattr__(self, attr: str):
        return getattr(self.target(), attr)

    def __repr__(self) -> str:
        return f"<{self._module}{'.' + self._name if self._name else ''}, imported when first used>"


def _import_nltk() -> None:
    if "nltk" in sys.modules or any(name in sys.modules for name in _HIDDEN):
        import nltk  # noqa: F401 - nothing to save
        return
    for name in _HIDDEN:
        sys.modules[name] = None  # an import of it raises ImportError
    try:
        import nltk  # noqa: F401
    finally:
        for name in _HIDDEN:
            if sys.modules.get(name, False) is None:
                del sys.modules[name]
    for module, names in STAND_INS.items():
        loaded = sys.modules.get(module)
        for name, (source, attr) in names.items():
            # missing, or NLTK's own fallback in its place
            if loaded is not None and getattr(getattr(loaded, name, None), "__module__", module) == module:
                setattr(loaded, name, Deferred(source, attr))


_import_nltk()

from nltk.stem.snowball import SnowballStemmer  # noqa: E402
from nltk.tokenize import RegexpTokenizer  # noqa: E402

try:  # NLTK 3.10 bounds every regexp match with a timeout
    from nltk import redos
except ImportError:  # older NLTK compiles with re: no guard to leave out
    redos = None

__all__ = ["RegexpTokenizer", "SnowballStemmer", "redos"]
