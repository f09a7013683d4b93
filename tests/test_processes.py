"""The one way searchapp runs work in other processes (searchapp.processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from searchapp import processes

from ._procs import still_running_after

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="needs Linux /proc")


def test_results_come_back_in_order_with_every_message():
    messages = []

    def work(n):
        def run(send):
            for k in range(3):
                send((n, k))
            return n * 10
        return run

    results = processes.run([work(n) for n in range(3)], lambda child, m: messages.append((child, m)))
    assert results == [0, 10, 20]
    assert sorted(messages) == [(n, (n, k)) for n in range(3) for k in range(3)]


def test_map_items_is_the_list_comprehension_spread_over_children():
    parent = os.getpid()
    assert processes.map_items(lambda i: (i * i, os.getpid() != parent), 7, 3) == [(i * i, True) for i in range(7)]


def test_a_large_result_crosses_the_pipe_whole():
    assert processes.run([lambda send: b"x" * (5 << 20)]) == [b"x" * (5 << 20)]


def test_an_error_in_a_child_is_raised_again_in_the_parent():
    def fails(send):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError) as failure:
        processes.run([lambda send: 1, fails])
    assert (failure.value.errno, failure.value.strerror) == (28, "No space left on device")


def test_an_error_that_does_not_pickle_keeps_its_gist():
    class Odd(Exception):
        def __init__(self, a, b):
            super().__init__(f"{a}-{b}")

    def fails(send):
        raise Odd(1, 2)

    with pytest.raises(RuntimeError, match="a child process failed: Odd: 1-2"):
        processes.run([fails])


def test_a_child_killed_alone_fails_the_run():
    def killed(send):
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(ChildProcessError) as failure:
        processes.run([lambda send: 1, killed], name="indexing process")
    assert str(failure.value) == ("indexing process 1 ended without a result "
                                  "(killed by SIGKILL, as the out-of-memory killer does)")


def test_a_child_keeps_no_inherited_descriptor(tmp_path):
    held = open(tmp_path / "lock", "w")  # stands for the reindex lock
    try:
        [fds] = processes.run([lambda send: sorted(int(fd) for fd in os.listdir("/proc/self/fd"))])
    finally:
        held.close()
    assert len([fd for fd in fds if fd > 2]) == 2  # its pipe to the parent, and listdir's own


def test_the_parents_lock_is_not_held_by_a_child(tmp_path):
    import fcntl

    lock = tmp_path / "lock"
    with open(lock, "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)

        def try_lock(send):
            with open(lock, "w") as other:
                try:
                    fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    return "held"
                return "free"

        assert processes.run([try_lock]) == ["held"]  # the parent has it
    assert processes.run([try_lock]) == ["free"]


ORPHANED = """
import os, signal
from searchapp import processes
def wait_forever(send):
    send(os.getpid())
    while True:
        signal.pause()
processes.run([wait_forever, wait_forever], lambda n, pid: print(pid, flush=True))
"""


def test_children_die_with_their_parent():
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"))
    proc = subprocess.Popen([sys.executable, "-c", ORPHANED], stdout=subprocess.PIPE, text=True, env=env)
    children = {int(proc.stdout.readline()), int(proc.stdout.readline())}
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert still_running_after(children, within=2.0) == set()


def test_sigterm_raises_system_exit_in_the_main_thread_only_inside():
    before = signal.getsignal(signal.SIGTERM)
    with processes.sigterm_stops():
        with pytest.raises(SystemExit) as stopped:
            os.kill(os.getpid(), signal.SIGTERM)
            signal.sigtimedwait([], 0)  # let the handler run
    assert stopped.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before
