"""A reindex that runs children, stopped: kill -9, SIGTERM and SIGINT of its main
process, and a child killed alone (as the out-of-memory killer does).

After each stop, within 2 s no process of that reindex remains, the reindex
lock is free, the previous index answers the same counts (or, past the commit
point, the new ones), and the next reindex runs to the end. The moments are
chosen by the kill hook of test_faults (events, never delays): stepped over
the phases of a dry run, and every time the main process waits for its
children (topic fitting, the parallel writers).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from searchapp import documents, indexer, parallel, reindex, store
from searchapp.topics import fitting
from searchapp.errors import IndexWriteError

from ._procs import descendants, group, still_running_after
from .test_faults import answers, leftovers, pick_targets, reindex_args, run_cli, spawn_cli, versions  # noqa: F401

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")

EXIT = {signal.SIGKILL: -signal.SIGKILL, signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGINT: 1}
AFTER_COMMIT = ("commit", "swap", "finishing")


@pytest.fixture
def in_parallel(monkeypatch):
    """Every full rebuild in two processes, whatever its size (forked children inherit this)."""
    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", 0)


def lock_is_free(index_dir: Path) -> bool:
    try:
        with store.reindex_lock(index_dir):
            return True
    except Exception:
        return False


def parallel_args(corpus: Path, index_dir: Path, full: bool) -> list[str]:
    args = reindex_args(corpus, index_dir, full)
    args[args.index("--procs") + 1] = "2"
    return args


def moments(dry: dict, waits: int) -> list[tuple]:
    """Stepped events (one a phase), the critical calls of the swap, and up to
    ``waits`` of the main process's waits for its children in each phase (in
    the first third of them: how many there are varies from run to run)."""
    targets = [t for t in pick_targets(dry, per_phase=1) if t[0] == "event"]
    swap_calls = [n for n, _name, phase in dry["calls"] if phase == "swap"]
    targets += [("syscall", n, "before") for n in swap_calls[:2]]
    for phase in sorted({phase for _, phase in dry["waits"]}):
        usable = max(1, sum(1 for _, p in dry["waits"] if p == phase) // 3)
        picks = sorted({1 + round(j * (usable - 1) / max(waits - 1, 1)) for j in range(min(waits, usable))})
        targets += [("wait", phase, k) for k in picks]
    return targets


def check_stopped(versions, index_dir: Path, signum: int, code: int, report: dict, err: str, pgid: int) -> str:
    """What a stop must leave; returns the phase it hit."""
    # Outside reindex() (parsing the command line) SIGTERM takes its default action.
    assert code == EXIT[signum] or (code == -signum and not report["children"]), (report, code, err[-500:])
    # Every process of that reindex (its process group: those forked at the very moment too) ends.
    assert still_running_after(group(pgid) | set(report["children"]), within=2.0) == set(), report
    assert lock_is_free(index_dir), report
    phase = report["phase"]
    seen = answers(index_dir)
    assert seen == versions["before"] or (seen == versions["after"] and phase in AFTER_COMMIT), (report, seen)
    if signum != signal.SIGKILL:  # a clean stop removes its unfinished build
        assert not list(index_dir.glob(".building-*")), report
    summary = reindex(versions["new"], index_dir, procs=2)
    assert summary.total == versions["after"][0] and answers(index_dir) == versions["after"], report
    assert leftovers(index_dir) == [], report
    return phase


DRY: dict[bool, dict] = {}


def dry_run(versions, tmp_path: Path, full: bool) -> dict:
    if full not in DRY:
        index_dir = tmp_path / "dry" / "index"
        shutil.copytree(versions["pristine"], index_dir)
        code, _, err, dry = run_cli(parallel_args(versions["new"], index_dir, full), tmp_path / "dry", dry_run=True)
        assert code == 0, err
        DRY[full] = dry
    return DRY[full]


@pytest.mark.slow
@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_a_stopped_reindex_leaves_no_process_and_a_working_index(versions, tmp_path, in_parallel, signum, full):
    dry = dry_run(versions, tmp_path, full)
    waits = {phase for _, phase in dry["waits"]}
    # "setup": the slow formats read ahead into the text cache (issue 12)
    # An incremental run reads no slow format ahead: the new corpus's Markdown notes are the old
    # ones' bytes (written anew, so only their times changed: changes.FileTable skips them).
    assert waits == ({"setup", "fitting", "writing"} if full else {"fitting"}), waits
    targets = moments(dry, waits=3)
    phases = Counter()
    pids: list[int] = []
    for number, target in enumerate(targets):
        work = tmp_path / f"k{number}"
        index_dir = work / "index"
        shutil.copytree(versions["pristine"], index_dir)
        code, _, err, report = run_cli(parallel_args(versions["new"], index_dir, full), work, target=target,
                                       signum=signum, pids=pids)
        if report is None:  # this run woke up fewer times than the dry run
            assert code == 0, (target, code, err[-500:])
            phases["finished before the moment"] += 1
            continue
        phases[check_stopped(versions, index_dir, signum, code, report, err, pids[-1])] += 1
        phases["with children running"] += bool(report["children"])
        shutil.rmtree(work)
    print(f"\n{signum.name} of `searchapp reindex{' --full' if full else ''} --procs 2` at {len(targets)} "
          f"moments: {dict(phases)}")
    assert phases["with children running"] >= (2 if full else 1), phases


# -- one large file: the Reuters JSON Lines, stopped from outside -------------------------

def wait_for_children(pid: int, proc: subprocess.Popen, other_than: set[int]) -> set[int]:
    """The first children of ``pid`` not in ``other_than``, once they appear
    (an event: /proc read until then, no delay chosen in advance)."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        found = descendants(pid) - other_than
        if found:
            return found
        time.sleep(0.02)
    pytest.fail(f"no new child of {pid} appeared (exit {proc.poll()})")


@pytest.mark.slow
@pytest.mark.parametrize("signum, moment", [(signal.SIGKILL, "fitting"), (signal.SIGTERM, "writing"),
                                            (signal.SIGINT, "fitting")],
                         ids=["kill-9-fitting", "term-writing", "int-fitting"])
def test_stopping_a_reindex_of_the_reuters_jsonl(versions, shared_corpora, tmp_path, signum, moment):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(shared_corpora / "reuters21578" / "reuters21578.jsonl.gz", corpus)
    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)
    args = ["reindex", "--corpus", str(corpus), "--index", str(index_dir), "--full", "--procs", "2"]
    proc = spawn_cli(args, tmp_path / "run")
    try:
        proc.stdin.write("go\n")
        proc.stdin.flush()
        children = wait_for_children(proc.pid, proc, set())  # the topic-fitting processes
        if moment == "writing":
            children = wait_for_children(proc.pid, proc, children)  # the writers, one per run of reports
        children |= descendants(proc.pid)
        proc.send_signal(signum)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == EXIT[signum]
    assert still_running_after(children, within=2.0) == set()
    assert lock_is_free(index_dir)
    assert answers(index_dir) == versions["before"]
    if signum != signal.SIGKILL:
        assert not list(index_dir.glob(".building-*"))
    assert reindex(versions["new"], index_dir, procs=2).total == versions["after"][0]
    assert answers(index_dir) == versions["after"] and leftovers(index_dir) == []


# -- a child killed alone ----------------------------------------------------------------

def _kill_self() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_a_writer_killed_alone_fails_the_rebuild_and_keeps_the_old_index(versions, tmp_path, in_parallel,
                                                                        monkeypatch):
    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)
    real = documents.add_files

    def killed_on_the_feed(writer, pieces, *args, **kwargs):
        if any(piece.file.relpath == "feeds/wire.jsonl" for piece in pieces):
            _kill_self()
        return real(writer, pieces, *args, **kwargs)

    monkeypatch.setattr(documents, "add_files", killed_on_the_feed)
    with pytest.raises(IndexWriteError) as failure:
        reindex(versions["new"], index_dir, full=True, procs=2)
    assert str(failure.value) == (
        f"cannot write the index in {index_dir}: indexing process 0 ended without a result (killed by SIGKILL, "
        "as the out-of-memory killer does); searches still use the last complete index")
    monkeypatch.undo()
    assert answers(index_dir) == versions["before"] and lock_is_free(index_dir)
    assert not list(index_dir.glob(".building-*"))


def test_a_topic_fitting_process_killed_alone_fails_the_run(versions, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)
    parent, real = os.getpid(), fitting._fit_one
    calls = []

    def killed_in_a_child(X, y):
        calls.append(1)
        if os.getpid() != parent:
            _kill_self()
        return real(X, y)

    monkeypatch.setattr(fitting, "_fit_one", killed_in_a_child)
    with pytest.raises(IndexWriteError, match=r"topic-fitting process 0 ended without a result \(killed by SIGKILL"):
        reindex(versions["new"], index_dir, full=True, procs=2)
    assert calls == []  # nothing was fitted in the main process
    monkeypatch.undo()
    assert answers(index_dir) == versions["before"] and lock_is_free(index_dir)


def test_a_new_index_missing_reports_is_not_published(versions, tmp_path, in_parallel, monkeypatch):
    """The count check before CURRENT moves: here the workers report one report more than they wrote."""
    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)
    real = parallel.add_files_in_parts
    monkeypatch.setattr(parallel, "add_files_in_parts", lambda *a, **k: real(*a, **k) + [("phantom", None)])
    expected = versions["after"][-1]
    with pytest.raises(IndexWriteError) as failure:
        reindex(versions["new"], index_dir, full=True, procs=2)
    assert str(failure.value) == (
        f"cannot write the index in {index_dir}: the new index holds {expected} reports where {expected + 1} "
        "were added (a lost indexing process?): it was not published; searches still use the last complete index")
    assert answers(index_dir) == versions["before"] and leftovers(index_dir) == []
