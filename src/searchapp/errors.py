"""The one family of errors searchapp raises.

``str(e)`` is a sentence a user can act on; ``status`` is the HTTP code the web
app answers with.
"""

from __future__ import annotations


class SearchAppError(Exception):
    """Base class of every error searchapp raises on purpose."""

    status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Exception pickles and copies as ``cls(*self.args)``, but these
        # constructors take data (path, reason, ...), not the message: rebuild
        # from the message, then restore every attribute.
        return _restore, (type(self), self.message), self.__dict__


def _restore(cls: type, message: str) -> "SearchAppError":
    error = cls.__new__(cls)
    SearchAppError.__init__(error, message)
    return error


class ConfigError(SearchAppError):
    """A setting or settings file is wrong."""

    status = 500


class ListenError(ConfigError):
    """The web server cannot listen on the configured address."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        self.host = host
        self.port = port
        self.reason = reason
        super().__init__(f"cannot listen on {host}:{port} ({reason}): choose another port or host")


class CorpusError(SearchAppError):
    """A corpus file (or one line of it) cannot be read as a report."""

    status = 422

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class IndexNotFoundError(SearchAppError):
    """There is no index at the given place yet."""

    status = 503

    def __init__(self, index_dir: str) -> None:
        self.index_dir = index_dir
        super().__init__(
            f"no search index in {index_dir!s}: run `searchapp reindex` to build one"
        )


class SchemaVersionError(SearchAppError):
    """The index was built by another version of searchapp's analysis/schema."""

    status = 503

    def __init__(self, index_dir: str, found: object, expected: object) -> None:
        self.index_dir = index_dir
        self.found = found
        self.expected = expected
        super().__init__(
            f"the index in {index_dir!s} has schema version {found}, this searchapp "
            f"needs {expected}: rebuild it with a full reindex"
        )


class IndexLockedError(SearchAppError):
    """Another reindex holds the index."""

    status = 409

    def __init__(self, index_dir: str) -> None:
        self.index_dir = index_dir
        super().__init__(
            f"another reindex is already running on {index_dir!s}; "
            "wait for it to finish"
        )


class IndexWriteError(SearchAppError):
    """The index could not be written (a full disk, no permission); the last
    complete index stays in use."""

    status = 500

    def __init__(self, index_dir: str, reason: str) -> None:
        self.index_dir = index_dir
        self.reason = reason
        super().__init__(
            f"cannot write the index in {index_dir!s}: {reason}; "
            "searches still use the last complete index"
        )


class CommittedWriteError(IndexWriteError):
    """The update was committed (searches use it) but what goes with it could not
    be written: the next reindex writes it again."""

    def __init__(self, index_dir: str, reason: str) -> None:  # noqa: super() would say the opposite
        self.index_dir = index_dir
        self.reason = reason
        SearchAppError.__init__(self, f"cannot finish writing the index in {index_dir}: {reason}; the update "
                                "itself was committed and searches use it (the next reindex completes the rest)")


class QueryError(SearchAppError):
    """The query or one of the search parameters is wrong."""

    status = 400


class ReportNotFoundError(SearchAppError):
    """No report with the given id."""

    status = 404

    def __init__(self, report_id: str) -> None:
        self.report_id = report_id
        super().__init__(f"no report with id {report_id!r}")


class AlertStoreError(SearchAppError):
    """The saved-searches database cannot be used (locked, read-only, corrupt);
    searching is not affected."""

    status = 503

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"the saved searches database {path!s} {reason}; searching still works"
        )


class SavedSearchError(SearchAppError):
    """A saved search cannot be added, found or removed as asked."""

    status = 400

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status


class DeliveryError(SearchAppError):
    """An alert could not be delivered (e-mail or webhook); it is retried at the next run."""

    status = 502

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"delivery by {channel} failed: {reason}; it is retried at the next run")
