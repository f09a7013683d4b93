"""Fixtures shared by the test modules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The kill and fault tests fork `searchapp reindex` children under a profile hook
# that counts every call. scikit-learn and SciPy's statistics, which searchapp
# imports only when it fits topics (searchapp.nltk_import), are imported here
# once, so that the children inherit them instead of importing them each time
# under the hook (five times the events of the rest of a small reindex).
import scipy.stats  # noqa: E402,F401
import sklearn.feature_extraction.text  # noqa: E402,F401
import sklearn.model_selection  # noqa: E402,F401
import sklearn.svm  # noqa: E402,F401


@pytest.fixture(scope="session")
def shared_corpora() -> Path:
    """The folder of real corpora (``../shared/corpora`` or ``$SEARCHAPP_CORPORA``).

    Tests that need it are skipped when it is absent, unless
    ``SEARCHAPP_REQUIRE_CORPORA=1``, which turns the skip into a failure (CI).
    """
    configured = os.environ.get("SEARCHAPP_CORPORA")
    default = Path(__file__).resolve().parents[2] / "shared" / "corpora"
    path = Path(configured) if configured else default
    if not path.is_dir():
        reason = f"real corpora not found at {path} (set SEARCHAPP_CORPORA to their folder)"
        if os.environ.get("SEARCHAPP_REQUIRE_CORPORA") == "1":
            pytest.fail(reason + " and SEARCHAPP_REQUIRE_CORPORA=1", pytrace=False)
        pytest.skip(reason)
    return path


DATA_CORPUS = Path(__file__).parent / "data" / "corpus"
SEED_CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="session")
def built_index(tmp_path_factory) -> Path:
    """An index of tests/data/corpus, built once per session (read-only for tests)."""
    from searchapp import reindex

    index_dir = tmp_path_factory.mktemp("data-index") / "index"
    summary = reindex(DATA_CORPUS, index_dir, procs=1)
    assert summary.rejected == [], summary.rejected
    return index_dir


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory) -> Path:
    """An index of the project's corpus/ (the seed report), built once per session,
    with automatic entities when the ``entities`` extra is installed."""
    from searchapp import reindex

    index_dir = tmp_path_factory.mktemp("seed-index") / "index"
    from searchapp.entities import extractor_status

    reindex(SEED_CORPUS, index_dir, procs=1, entities=extractor_status().available)
    return index_dir


@pytest.fixture
def data_search(built_index):
    from searchapp import SearchIndex

    with SearchIndex.open(built_index) as index:
        yield index
