"""The one way searchapp runs work in other processes.

A child is forked (its code and the caller's state are inherited, nothing is
pickled on the way in) and, before it does anything else:

- dies with its parent: ``PR_SET_PDEATHSIG`` on Linux sends it SIGKILL when the
  parent ends, however it ends (``kill -9`` included); elsewhere its next
  message fails on the closed pipe and it stops;
- closes every descriptor it inherited but its pipe to the parent, so the
  parent's reindex lock (an ``flock``, shared by every copy of the descriptor)
  is freed when the parent dies, never held by an orphan;
- ignores SIGINT (a Ctrl-C reaches the whole process group: the parent stops
  its children itself) and takes SIGTERM's default action.

A child sends messages (any picklable value) on its pipe and ends with its
result, or with the error it raised. The parent follows every child at once
(:func:`run`); a child that ends without a result (killed alone, as the
out-of-memory killer does) fails the whole run with :class:`ChildProcessError`,
and when the parent stops for any reason (an error, SIGINT, SIGTERM) it kills
and reaps every child before the error goes on.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
import weakref
from typing import Any, Callable, Iterator

Send = Callable[[Any], None]
Work = Callable[[Send], Any]  # runs in the child; its return value is the result
OnMessage = Callable[[int, Any], None]  # (child number, message) in the parent

_HEADER = struct.Struct("!cQ")  # kind (b"m" message, b"r" result, b"e" error), length
_PR_SET_PDEATHSIG = 1


def run(works: list[Work], on_message: OnMessage | None = None, name: str = "worker") -> list[Any]:
    """Run each of ``works`` in a child process of its own; return their results in order.

    :param on_message: called in the parent for every message a child sends.
    :param name: what the children are, for error messages ("indexing process").
    :raises ChildProcessError: a child ended without a result (killed, or it
        crashed outside Python).
    :raises BaseException: the error a child raised, raised again here (as
        itself when it survives pickling, else as its gist).
    """
    children: list[tuple[int, int]] = []
    try:
        for work in works:
            _fork(work, children)
        outcomes = _follow([fd for _, fd in children], on_message)
        statuses = [os.waitpid(pid, 0)[1] for pid, _ in children]
    except BaseException:
        kill(pid for pid, _ in children)
        raise
    for number, (outcome, status) in enumerate(zip(outcomes, statuses)):
        if outcome is None:
            raise ChildProcessError(f"{name} {number} ended without a result ({_how(status)})")
        if outcome[0] == b"e":
            raise outcome[1]
    return [outcome[1] for outcome in outcomes]


def map_items(function: Callable[[int], Any], count: int, procs: int, name: str = "worker") -> list[Any]:
    """``[function(i) for i in range(count)]``, spread over ``procs`` child processes.

    Child ``k`` takes items ``k, k + procs, ...`` (neighbouring items often
    cost alike, so each child gets a fair share).
    """
    procs = max(1, min(procs, count))

    def share(k: int) -> Work:
        return lambda send: [function(i) for i in range(k, count, procs)]

    results: list[Any] = [None] * count
    for k, values in enumerate(run([share(k) for k in range(procs)], name=name)):
        results[k::procs] = values
    return results


def kill(pids) -> None:
    """SIGKILL each child and reap it."""
    pids = list(pids)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


@contextlib.contextmanager
def sigterm_stops() -> Iterator[None]:
    """SIGTERM raises ``SystemExit(143)`` in the main thread while inside, so
    that ``finally`` blocks run (children killed, unfinished builds removed)
    as they do for a KeyboardInterrupt. Elsewhere (another thread) a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- the child ------------------------------------------------------------------

_STOPS = {signal.SIGINT, signal.SIGTERM}


def _fork(work: Work, children: list[tuple[int, int]]) -> None:
    """Fork a child for ``work`` and add it to ``children``. SIGINT and SIGTERM
    wait meanwhile: one between the fork and the bookkeeping would lose a child."""
    parent = os.getpid()
    read_end, write_end = os.pipe()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 1
            try:
                os.close(read_end)
                _detach(parent, keep=write_end, mask=mask)
                code = _serve(work, write_end)
            finally:
                os._exit(code)
        children.append((pid, read_end))
        os.close(write_end)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _detach(parent: int, keep: int | tuple[int, ...], mask) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):  # no prctl: the pipe still stops it
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)
    close_inherited(keep)


def close_inherited(keep: int | tuple[int, ...]) -> None:
    """Close every file descriptor above 2 but ``keep`` (one or several)."""
    keep = (keep,) if isinstance(keep, int) else keep
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        fds = list(range(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024))
    for fd in fds:
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _serve(work: Work, pipe: int) -> int:
    def send(message: Any) -> None:
        _write(pipe, b"m", message)

    try:
        try:
            result = work(send)
        finally:
            close_helpers()
    except BrokenPipeError:
        return 1  # the parent is gone: nobody wants the result
    except BaseException as e:
        try:
            _write(pipe, b"e", _portable(e, traceback.format_exc()))
        except OSError:
            pass
        return 1
    try:
        _write(pipe, b"r", result)
    except OSError:
        return 1
    return 0


def _write(pipe: int, kind: bytes, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_HEADER.pack(kind, len(data)) + data)
    while view:
        view = view[os.write(pipe, view):]


def _portable(error: BaseException, trace: str) -> BaseException:
    """The error itself when it survives pickling, else its gist (an OSError keeps its errno)."""
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:
        if isinstance(error, OSError):
            return OSError(error.errno, error.strerror or str(error))
        last = trace.strip().splitlines()[-1] if trace.strip() else ""
        return RuntimeError(f"a child process failed: {type(error).__name__}: {error} ({last})")


# -- a helper: one long-lived child answering calls, each with a deadline --------

class Helper:
    """A child process that runs ``function(request)`` for each :meth:`call`, one at a time.

    Started at the first call and kept for the next ones (no fork per call); a
    call that runs past its deadline kills the child, and the next call starts
    a new one. ``setup`` runs in the child first (e.g. a memory bound with
    ``resource.setrlimit``). The child dies with its parent and closes every
    inherited descriptor but its two pipes, like the children of :func:`run`.
    Use it as a context manager, or :meth:`close` it: no child outlives it.
    """

    def __init__(self, function: Callable[[Any], Any], setup: Callable[[], None] | None = None) -> None:
        self._function = function
        self._setup = setup
        self._child: tuple[int, int, int] | None = None  # pid, request fd, reply fd
        self._owner = os.getpid()
        _HELPERS.add(self)

    def __enter__(self) -> "Helper":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def call(self, request: Any, timeout: float) -> Any:
        """``function(request)`` in the child; its error is raised again here.

        :raises TimeoutError: no answer within ``timeout`` seconds (the child was killed).
        :raises ChildProcessError: the child ended without an answer (killed, crashed).
        """
        if self._owner != os.getpid():  # inherited by a fork: that child is not ours
            self._child, self._owner = None, os.getpid()
        if self._child is None:
            self._child = self._start()
        try:
            _write(self._child[1], b"m", request)
            kind, value = self._answer(self._child[2], time.monotonic() + timeout)
        except BaseException:
            self.close()
            raise
        if kind == b"e":
            raise value
        return value

    def close(self) -> None:
        """Kill and reap the child, if any."""
        if self._child is not None and self._owner == os.getpid():
            kill([self._drop()])

    def _drop(self) -> int:
        pid, requests, replies = self._child
        self._child = None
        for fd in (requests, replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        return pid

    def _start(self) -> tuple[int, int, int]:
        parent = os.getpid()
        down_read, down_write = os.pipe()
        up_read, up_write = os.pipe()
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
        try:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                try:
                    _detach(parent, keep=(down_read, up_write), mask=mask)
                    if self._setup is not None:
                        self._setup()
                    _answer_calls(self._function, down_read, up_write)
                finally:
                    os._exit(1)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(down_read)
        os.close(up_write)
        return pid, down_write, up_read

    def _answer(self, fd: int, deadline: float) -> tuple[bytes, Any]:
        buffer = bytearray()
        while True:
            left = deadline - time.monotonic()
            ready = select.select([fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                raise TimeoutError("no answer within the time limit")
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                status = os.waitpid(self._drop(), 0)[1]
                raise ChildProcessError(f"the helper process ended without an answer ({_how(status)})")
            buffer += chunk
            for frame in _frames(buffer):
                return frame


_HELPERS: "weakref.WeakSet[Helper]" = weakref.WeakSet()


def close_helpers() -> None:
    """Stop every helper this process started (a child of :func:`run` does, before it ends)."""
    for helper in list(_HELPERS):
        helper.close()


def _answer_calls(function: Callable[[Any], Any], requests: int, replies: int) -> None:
    """The helper child's loop: a request in, a result (or error) out, until the pipe closes."""
    buffer = bytearray()
    while True:
        chunk = os.read(requests, 1 << 16)
        if not chunk:
            return
        buffer += chunk
        for _kind, request in _frames(buffer):
            try:
                kind, value = b"r", function(request)
            except BaseException as e:
                kind, value = b"e", _portable(e, traceback.format_exc())
            _write(replies, kind, value)


# -- the parent -----------------------------------------------------------------

def _follow(fds: list[int], on_message: OnMessage | None) -> list[tuple | None]:
    """Read every child's messages until each pipe closes; each one's last
    (kind, value) outcome, or None when it sent none."""
    number = {fd: n for n, fd in enumerate(fds)}
    buffers = {fd: bytearray() for fd in fds}
    outcomes: list[tuple | None] = [None] * len(fds)
    try:
        while buffers:
            ready, _, _ = select.select(list(buffers), [], [])
            for fd in ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    os.close(fd)
                    del buffers[fd]
                    continue
                buffer = buffers[fd]
                buffer += chunk
                for kind, value in _frames(buffer):
                    if kind == b"m":
                        if on_message is not None:
                            on_message(number[fd], value)
                    else:
                        outcomes[number[fd]] = (kind, value)
    finally:
        for fd in buffers:
            os.close(fd)
    return outcomes


def _frames(buffer: bytearray) -> Iterator[tuple[bytes, Any]]:
    """The whole frames at the start of ``buffer``, removed from it."""
    while len(buffer) >= _HEADER.size:
        kind, length = _HEADER.unpack_from(buffer)
        end = _HEADER.size + length
        if len(buffer) < end:
            return
        value = pickle.loads(bytes(buffer[_HEADER.size:end]))
        del buffer[:end]
        yield kind, value


def _how(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        hint = ", as the out-of-memory killer does" if number == signal.SIGKILL else ""
        return f"killed by {name}{hint}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
