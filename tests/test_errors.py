"""Every error class survives pickling (a worker process sends it back) and
copying (``dataclasses.asdict`` deep-copies the rejected files of a summary),
and its message names no command-line flag (cli.py adds those)."""

from __future__ import annotations

import copy
import inspect
import pickle
import re

import pytest

from searchapp import errors

# One instance of every class in errors.py, built with data of its own kind.
EXAMPLES = {
    errors.SearchAppError: ("something is wrong",),
    errors.ConfigError: ("setting 'port' must be a whole number",),
    errors.ListenError: ("127.0.0.1", 8000, "Address already in use"),
    errors.CorpusError: ("a/b.jsonl", "invalid JSON", 7),
    errors.IndexNotFoundError: ("/srv/index",),
    errors.SchemaVersionError: ("/srv/index", 3, 4),
    errors.IndexLockedError: ("/srv/index",),
    errors.IndexWriteError: ("/srv/index", "no space left on device"),
    errors.CommittedWriteError: ("/srv/index", "no space left on device"),
    errors.QueryError: ("unknown sort 'best'",),
    errors.ReportNotFoundError: ("x:1",),
    errors.AlertStoreError: ("/srv/alerts.db", "is locked by another program"),
    errors.SavedSearchError: ("no saved search named 'oil'", 404),
    errors.DeliveryError: ("webhook", "HTTP 500 from the receiver"),
}


def test_every_class_of_the_module_has_an_example():
    classes = {obj for _, obj in inspect.getmembers(errors, inspect.isclass)
               if issubclass(obj, errors.SearchAppError)}
    assert classes == set(EXAMPLES)


def _same(a: errors.SearchAppError, b: errors.SearchAppError) -> None:
    assert type(b) is type(a)
    assert str(b) == str(a)
    assert vars(b) == vars(a)
    assert b.status == a.status


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda c: c.__name__)
def test_pickle_and_copy_round_trips_keep_message_and_data(cls):
    error = cls(*EXAMPLES[cls])
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        _same(error, pickle.loads(pickle.dumps(error, protocol)))
    _same(error, copy.copy(error))
    _same(error, copy.deepcopy(error))


def test_corpus_error_keeps_its_reason_through_pickle():
    error = pickle.loads(pickle.dumps(errors.CorpusError("c/x.txt", "empty file")))
    assert (error.path, error.reason, error.line, str(error)) == ("c/x.txt", "empty file", None, "c/x.txt: empty file")


def test_a_subclass_defined_elsewhere_round_trips_too():
    error = pickle.loads(pickle.dumps(_Outside("q7", 3)))
    assert (str(error), error.qid, error.rank) == ("query q7 at rank 3", "q7", 3)


class _Outside(errors.SearchAppError):
    def __init__(self, qid: str, rank: int) -> None:
        self.qid, self.rank = qid, rank
        super().__init__(f"query {qid} at rank {rank}")


@pytest.mark.parametrize("cls", list(EXAMPLES), ids=lambda c: c.__name__)
def test_messages_name_no_command_line_flag(cls):
    assert not re.search(r"(^|\s|`)--[a-z]", str(cls(*EXAMPLES[cls])))


def test_schema_and_lock_messages_say_what_is_wrong():
    assert str(errors.SchemaVersionError("/i", 3, 4)) == (
        "the index in /i has schema version 3, this searchapp needs 4: rebuild it with a full reindex")
    assert str(errors.IndexLockedError("/i")) == "another reindex is already running on /i; wait for it to finish"
