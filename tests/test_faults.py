"""Crash safety of the index: ``kill -9`` of ``searchapp reindex`` at many points, and a full disk.

Kill points. ``searchapp reindex`` runs in a child process (forked from this
one, so that it needs no new interpreter and ``import`` of its own) with a
``sys.setprofile`` hook that counts what the process does and sends itself
SIGKILL at a chosen moment:

- *stepped* points: the n-th profile event (a Python or C function call or
  return anywhere), spread evenly over each phase of a dry run: parsing the
  corpus, writing documents, Whoosh's commit, the swap (meta, rename, CURRENT,
  pruning) and the set-up around them;
- *syscall* points: just before and just after each ``os.replace``,
  ``os.rename``, ``os.fsync``, ``os.unlink``, ``os.rmdir`` and ``os.mkdir`` the
  run makes, where a torn update would show if there were one.

A few more runs are real ``python -m searchapp reindex`` processes killed from
outside after stepped delays. After every kill the previous index must open
and answer the same queries with the same counts (or, when the kill came after
the commit point, the new counts: never a mix), and the next ``searchapp
reindex`` must finish (the dead process's lock freed, its leftovers removed)
and answer with the new counts.

Disk full: ``OSError(ENOSPC)`` injected after a byte budget into every file the
index writes (budgets stepped over the whole run), and a real, small tmpfs
when the test may mount one: a clear error and the old index intact.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from searchapp import IndexLockedError, SearchAppError, SearchIndex, indexer, reindex, store
from searchapp.cli import main as cli_main

from ._procs import descendants, still_running_after

SRC = Path(__file__).resolve().parents[1] / "src"

# -- the corpus: an "old" version and a "new" one that differs in every query ----

SOURCES = ("Desk A", "Desk B", "Desk C")


def _native(date: str, title: str, source: str, topics: str, body: str) -> str:
    return f"date {date} {title}\nSource: {source}\nTopics: {topics}\n\n{body}\n"


def write_corpus(folder: Path, version: str) -> None:
    """40 native reports, 6 Markdown ones and a JSON Lines file of 20; ``new``
    adds 12 reports, rewrites 8 and deletes 6 (every count below changes)."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "text").mkdir(parents=True)
    (folder / "notes").mkdir()
    (folder / "feeds").mkdir()
    new = version == "new"
    for i in range(40):
        if new and i >= 34:
            continue  # deleted
        word = "revised" if new and i < 8 else "original"
        body = f"Report number {i} about alpha shipments and {word} findings. " + "filler text " * 30
        if i % 3 == 0:
            body += " beta cargo."
        (folder / "text" / f"r{i:02d}.txt").write_text(
            _native(f"2023-{i % 12 + 1:02d}-15", f"Alpha report {i}", SOURCES[i % 3], "trade; ports", body))
    for i in range(6):
        (folder / "notes" / f"n{i}.md").write_text(
            f"---\ntitle: Gamma note {i}\ndate: 2024-02-0{i + 1}\nsource: Desk B\ntags: [notes]\n---\n"
            f"Gamma observations, number {i}. " + "more words here " * 20 + "\n")
    records = [{"id": f"w{i}", "date": f"2022-06-{i + 1:02d}", "source": "Wire",
                "title": f"Wire item {i}", "topics": ["wire"], "body": f"Beta wire item {i} on delta routes."}
               for i in range(20)]
    (folder / "feeds" / "wire.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    if new:
        for i in range(12):
            (folder / "text" / f"added{i:02d}.txt").write_text(
                _native("2025-01-10", f"Added alpha report {i}", "Desk D", "fresh",
                        f"Fresh alpha and epsilon news {i}. " + "padding words " * 25))


QUERIES: tuple[tuple[str, dict], ...] = (
    ("", {}),
    ("alpha", {}),
    ("revised", {}),
    ("original", {}),
    ("beta", {}),
    ("epsilon", {}),
    ("", {"source": "Desk A"}),
    ("", {"source": "Desk D"}),
    ("", {"date_from": "2025"}),
    ("", {"topic": "trade"}),
    ("title:alpha", {"sort": "newest"}),
)


def answers(index_dir: Path) -> tuple[int, ...]:
    """The counts the queries get, and the document count: what a user sees."""
    with SearchIndex.open(index_dir) as index:
        counts = [index.search(q, **kw).total for q, kw in QUERIES]
        counts.append(index.doc_count())
    return tuple(counts)


# -- running `searchapp reindex` in a forked child ---------------------------------

CRITICAL = {os.replace: "os.replace", os.rename: "os.rename", os.fsync: "os.fsync",
            os.unlink: "os.unlink", os.rmdir: "os.rmdir", os.mkdir: "os.mkdir"}
PHASES = ("setup", "parsing", "fitting", "writing", "commit", "swap")
_SWAP = {"publish", "prune", "write_meta", "atomic_write"}
_COMMIT = {"commit", "_commit_toc", "_finalize_segment"}
_WRITING = {"add_document", "delete_by_term", "add_files_in_parts"}
_PARSING = {"parse_file", "discover", "parse_jsonl", "parse_native", "extract_markdown", "read_text"}
_FITTING = {"_fit_all"}


def phase_of(frame) -> str:
    names = set()
    while frame is not None:
        names.add(frame.f_code.co_name)
        frame = frame.f_back
    for phase, markers in (("swap", _SWAP), ("commit", _COMMIT), ("fitting", _FITTING), ("writing", _WRITING),
                           ("parsing", _PARSING)):
        if names & markers:
            return phase
    return "setup"


class KillHook:
    """A profile hook that counts events and critical calls, and kills the process at one.

    ``target`` is ``("event", n)``, ``("syscall", k, "before"|"after")`` or
    ``("wait", phase, k)`` (the k-th ``select.select`` of the parent waiting
    for its children in that phase, the moment they run); with ``None`` it only records (a dry run):
    total events, a sample of the phase every ``SAMPLE`` events, the critical
    calls and the waits. ``signum`` is the signal it sends itself; the report
    names the processes under it at that moment.
    """

    SAMPLE = 50

    def __init__(self, target, report: Path, signum: int = signal.SIGKILL) -> None:
        self.target = target
        self.report = report
        self.signum = signum
        self.pid = os.getpid()
        self.waits: list[tuple[int, str]] = []
        self.events = 0
        self.critical = 0
        self.samples: list[tuple[int, str]] = []
        self.calls: list[tuple[int, str, str]] = []
        self.pending_after = False

    def __call__(self, frame, event, arg) -> None:
        if os.getpid() != self.pid:  # a forked child, before its at-fork hook removed this one
            sys.setprofile(None)
            return
        self.events += 1
        n = self.events
        if self.pending_after and event in ("c_return", "c_exception"):
            self.pending_after = False
            self.kill(frame, f"after {CRITICAL.get(arg, '?')}")
        is_critical = event == "c_call" and arg in CRITICAL
        if is_critical:
            self.critical += 1
        if event == "c_call" and arg is select.select and frame.f_code.co_name == "_follow":
            phase = phase_of(frame)
            self.waits.append((n, phase))
            same = sum(1 for _, p in self.waits if p == phase)
            if self.target is not None and self.target[0] == "wait" and self.target[1:] == (phase, same):
                self.kill(frame, f"waiting for children ({phase} {same})")
        if self.target is None:
            if n % self.SAMPLE == 0:
                self.samples.append((n, phase_of(frame)))
            if is_critical:
                self.calls.append((self.critical, CRITICAL[arg], phase_of(frame)))
        elif self.target[0] == "event" and n == self.target[1]:
            self.kill(frame, f"{event} {getattr(arg, '__name__', '') or frame.f_code.co_name}")
        elif is_critical and self.target[0] == "syscall" and self.critical == self.target[1]:
            if self.target[2] == "before":
                self.kill(frame, f"before {CRITICAL[arg]}")
            else:
                self.pending_after = True

    def kill(self, frame, where: str) -> None:
        sys.setprofile(None)
        self.report.write_text(json.dumps({"phase": phase_of(frame), "where": where, "event": self.events,
                                           "children": sorted(descendants(os.getpid()))}))
        os.kill(os.getpid(), self.signum)

    def dump(self) -> None:
        self.report.write_text(json.dumps({"events": self.events, "samples": self.samples, "calls": self.calls,
                                           "waits": self.waits}))


def run_cli(args: list[str], workdir: Path, target=None, dry_run: bool = False, timeout: float = 120,
            signum: int = signal.SIGKILL, pids: list[int] | None = None):
    """Run ``searchapp <args>`` in a forked child; return (exit status or -signal, stdout, stderr, report).

    The processes the child forks in turn run without the kill hook; the child
    leads a process group of its own (its pid is appended to ``pids``)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out, err, report = workdir / "stdout", workdir / "stderr", workdir / "report.json"
    report.unlink(missing_ok=True)
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 70
        try:
            os.setpgid(0, 0)  # a process group of its own: all of that reindex, to find them after a kill
            os.chdir(workdir)
            for fd, path in ((1, out), (2, err)):
                handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(handle, fd)
                os.close(handle)
            sys.stdout = open(1, "w", closefd=False)
            sys.stderr = open(2, "w", closefd=False)
            hook = KillHook(target, report, signum) if (target is not None or dry_run) else None
            if hook is not None:
                os.register_at_fork(after_in_child=lambda: sys.setprofile(None))
                sys.setprofile(hook)
            try:
                cli_main.main(args, prog_name="searchapp", standalone_mode=True)
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
            finally:
                sys.setprofile(None)
                if dry_run:
                    hook.dump()
                sys.stdout.flush()
                sys.stderr.flush()
        except BaseException:  # noqa: BLE001 - anything at all: say so and leave
            import traceback

            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    if pids is not None:
        pids.append(pid)  # also its process group
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"searchapp {' '.join(args)} did not finish within {timeout} s")
        time.sleep(0.01)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    data = json.loads(report.read_text()) if report.exists() else None
    return code, out.read_text(), err.read_text(), data


def reindex_args(corpus: Path, index_dir: Path, full: bool) -> list[str]:
    return ["reindex", "--corpus", str(corpus), "--index", str(index_dir), "--procs", "1", "--json"] + (
        ["--full"] if full else [])


def leftovers(index_dir: Path) -> list[str]:
    """What a finished reindex must not leave: builds, temp files, unpublished generations."""
    current = store.current_generation(index_dir)
    out = [p.name for p in index_dir.glob(".building-*")]
    out += [p.name for p in index_dir.glob("*.tmp")]
    if current is not None:
        out += [f"{current.name}/{p.name}" for p in current.glob("*.tmp")]
        out += [p.name for p in index_dir.glob(store.GEN_PREFIX + "*") if p.name > current.name]
    gens = list(index_dir.glob(store.GEN_PREFIX + "*"))
    if len(gens) > 2:
        out.append(f"{len(gens)} generations")
    return sorted(out)


# The calls that make a change visible at once: a kill right after one is a moment of its own.
AFTER_TOO = {"os.replace", "os.rename"}


def pick_targets(dry: dict, per_phase: int) -> list[tuple]:
    """Stepped event targets (``per_phase`` spread over each phase's samples) and
    every critical call: before it, and after it too for a rename."""
    by_phase: dict[str, list[int]] = {}
    for event, phase in dry["samples"]:
        # Not the very end: a run differs from the dry run by a few events (warm caches).
        if event <= dry["events"] * 0.995:
            by_phase.setdefault(phase, []).append(event)
    targets: list[tuple] = []
    for phase in PHASES:
        events = by_phase.get(phase, [])
        if not events:
            continue
        k = min(per_phase, len(events))
        picks = sorted({events[round(j * (len(events) - 1) / max(k - 1, 1))] for j in range(k)})
        targets += [("event", e) for e in picks]
    calls = dry["calls"]
    for i, (number, name, phase) in enumerate(calls):
        same = lambda j: 0 <= j < len(calls) and calls[j][1:] == (name, phase)  # noqa: E731
        if same(i - 1) and same(i + 1):
            continue  # inside a run of like calls (fsync of each file of a generation): its ends suffice
        targets.append(("syscall", number, "before"))
        if name in AFTER_TOO:  # after any other call is before the next one
            targets.append(("syscall", number, "after"))
    return targets


# -- kill -9 at many points -----------------------------------------------------------

@pytest.fixture(scope="module")
def versions(tmp_path_factory):
    """The old and new corpora, the pristine index of the old one, and both answers."""
    base = tmp_path_factory.mktemp("faults")
    old, new = base / "old", base / "new"
    write_corpus(old, "old")
    write_corpus(new, "new")
    pristine = base / "pristine"
    reindex(old, pristine, procs=1)
    fresh = base / "fresh-new"
    reindex(new, fresh, procs=1)
    before, after = answers(pristine), answers(fresh)
    differing = [q for q, a, b in zip(QUERIES + (("doc_count", {}),), before, after) if a == b]
    assert not differing, f"old and new corpora must differ in every count: {differing}"
    return {"old": old, "new": new, "pristine": pristine, "before": before, "after": after, "base": base}


FIGURES: dict[str, Counter] = {}


@pytest.mark.slow
@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
def test_kill_9_at_every_phase_and_syscall_leaves_a_working_index(versions, tmp_path, full):
    mode = "full" if full else "incremental"
    args_for = lambda index_dir: reindex_args(versions["new"], index_dir, full)  # noqa: E731
    # A dry run on a copy: how many events, in which phases, which critical calls.
    dry_index = tmp_path / "dry" / "index"
    shutil.copytree(versions["pristine"], dry_index)
    code, out, err, dry = run_cli(args_for(dry_index), tmp_path / "dry", dry_run=True)
    assert code == 0, err
    assert answers(dry_index) == versions["after"]
    targets = pick_targets(dry, per_phase=3)
    phases_seen = {phase for _, phase in dry["samples"]}
    first_swap = min(event for event, phase in dry["samples"] if phase == "swap")
    assert {"parsing", "writing", "commit", "swap"} <= phases_seen, phases_seen

    figures = Counter()
    problems = []
    for number, target in enumerate(targets):
        work = tmp_path / f"k{number}"
        index_dir = work / "index"
        shutil.copytree(versions["pristine"], index_dir)
        code, out, err, report = run_cli(args_for(index_dir), work, target=target)
        if code != -signal.SIGKILL:
            problems.append(f"{target}: not killed (exit {code}): {err[-300:]}")
            continue
        phase = report["phase"]
        if phase == "setup" and report["event"] > first_swap:
            phase = "finishing"  # after the swap: closing up, printing the summary
        figures[f"killed in {phase}"] += 1
        # The previous index still opens and answers as before (or, past the commit
        # point, exactly as the new corpus): never a mix, never an error.
        try:
            seen = answers(index_dir)
        except SearchAppError as e:
            problems.append(f"{target} ({phase}, {report['where']}): index unusable after the kill: {e}")
            continue
        if seen == versions["before"]:
            figures["old index answered"] += 1
        elif seen == versions["after"] and phase in ("commit", "swap", "finishing"):
            figures["new index answered (killed after the commit point)"] += 1
        else:
            problems.append(f"{target} ({phase}, {report['where']}): answers {seen}, "
                            f"expected {versions['before']} (old) or {versions['after']} (new)")
            continue
        # The next reindex (incremental, as a user would run it) finishes and is complete.
        code, out, err, _ = run_cli(reindex_args(versions["new"], index_dir, False), work / "again")
        if code != 0:
            problems.append(f"{target} ({phase}): the next reindex failed ({code}): {err[-400:]}")
            continue
        if answers(index_dir) != versions["after"]:
            problems.append(f"{target} ({phase}): after the next reindex, answers {answers(index_dir)}")
        left = leftovers(index_dir)
        if left:
            problems.append(f"{target} ({phase}, {report['where']}): left behind after the next reindex: {left}")
        figures["recovered"] += 1
        shutil.rmtree(work)
    figures["kill points"] = len(targets)
    FIGURES[mode] = figures
    print(f"\nkill -9 of `searchapp reindex{' --full' if full else ''}`: {len(targets)} kill points "
          f"({len(dry['calls'])} critical calls x before/after, the rest stepped over "
          f"{dry['events']} profile events): {dict(figures)}")
    assert not problems, "\n".join(problems)
    assert figures["recovered"] == len(targets)


@pytest.mark.slow
def test_kill_9_during_the_first_build_then_the_next_reindex_builds_it(versions, tmp_path):
    """No previous index: a kill leaves "no index yet" (a clear 503-style error), never a broken one."""
    args_for = lambda index_dir: reindex_args(versions["old"], index_dir, True)  # noqa: E731
    code, _, err, dry = run_cli(args_for(tmp_path / "dry" / "index"), tmp_path / "dry", dry_run=True)
    assert code == 0, err
    targets = pick_targets(dry, per_phase=1)
    outcomes = Counter()
    for number, target in enumerate(targets):
        work = tmp_path / f"k{number}"
        code, _, err, report = run_cli(args_for(work / "index"), work, target=target)
        assert code == -signal.SIGKILL, err
        try:
            seen = answers(work / "index")
        except SearchAppError as e:
            assert "run `searchapp reindex`" in str(e), e
            outcomes["no index yet"] += 1
        else:
            assert seen == versions["before"], (target, report)
            outcomes["complete index"] += 1
        code, _, err, _ = run_cli(reindex_args(versions["old"], work / "index", False), work / "again")
        assert code == 0, err
        assert answers(work / "index") == versions["before"]
        assert leftovers(work / "index") == [], (target, report)
    print(f"\nkill -9 of the first build: {len(targets)} kill points: {dict(outcomes)}")
    assert sum(outcomes.values()) == len(targets)


def spawn_cli(args: list[str], workdir: Path, **kwargs) -> subprocess.Popen:
    """``searchapp <args>`` as a real process (its own interpreter), stopped before
    it starts until a line arrives on its stdin."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEARCHAPP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC)] + [p for p in sys.path if p])
    code = ("import sys; from searchapp.cli import main; sys.stdin.readline(); "
            "main(sys.argv[1:], prog_name='searchapp')")
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=workdir, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


@pytest.mark.slow
def test_kill_9_from_outside_after_stepped_delays(versions, tmp_path):
    """Real `searchapp reindex --full` processes, SIGKILLed from outside while they work."""
    corpus = tmp_path / "corpus"
    shutil.copytree(versions["new"], corpus)
    body = " ".join(f"word{i}" for i in range(200))
    (corpus / "feeds" / "bulk.jsonl").write_text(
        "\n".join(json.dumps({"id": f"b{i}", "title": f"Bulk {i}", "body": body}) for i in range(400)) + "\n")
    expected_dir = tmp_path / "expected"
    started = time.perf_counter()
    reindex(corpus, expected_dir, full=True, procs=1)
    build_s = time.perf_counter() - started
    expected = answers(expected_dir)
    fractions = (0.05, 0.3, 0.6, 0.9, 1.5)
    procs = []
    for number, fraction in enumerate(fractions):  # all start (and import) at once, then wait
        index_dir = tmp_path / f"x{number}" / "index"
        shutil.copytree(versions["pristine"], index_dir)
        args = ["reindex", "--corpus", str(corpus), "--index", str(index_dir), "--full", "--procs", "1"]
        procs.append((fraction, index_dir, spawn_cli(args, index_dir.parent)))
    outcomes = Counter()
    try:
        for fraction, index_dir, proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
            deadline = time.monotonic() + 60
            while not list(index_dir.glob(".building-*")) and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)  # the build has started
            time.sleep(build_s * fraction)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=30)
            building = bool(list(index_dir.glob(".building-*")))
            seen = answers(index_dir)
            if proc.returncode == -signal.SIGKILL:
                outcomes["killed while building" if building else "killed outside the build"] += 1
                assert seen in (versions["before"], expected), (fraction, seen)
                outcomes["old index answered" if seen == versions["before"] else "new index answered"] += 1
            else:
                assert proc.returncode == 0
                outcomes["finished before the kill"] += 1
                assert seen == expected
            code, _, err, _ = run_cli(reindex_args(corpus, index_dir, False), index_dir.parent / "again")
            assert code == 0, err
            assert answers(index_dir) == expected and leftovers(index_dir) == []
    finally:
        for _, _, proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    print(f"\nexternal kill -9 after {fractions} x the build time ({build_s:.2f} s): {dict(outcomes)}")
    assert outcomes["killed while building"] >= 2, outcomes


@pytest.mark.slow
def test_a_waiting_reindex_takes_over_from_a_killed_one(versions, tmp_path):
    """`reindex --wait` blocks on the lock of a running reindex and finishes once it is killed;
    one without --wait says another reindex is running."""
    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)
    holder = spawn_cli(reindex_args(versions["new"], index_dir, True), tmp_path / "holder")
    waiter = spawn_cli(reindex_args(versions["new"], index_dir, False) + ["--wait"], tmp_path / "waiter")
    try:
        # The holder stops for good right after it has taken the lock.
        holder.stdin.write("go\n")
        holder.stdin.flush()
        lock = index_dir / store.LOCK
        deadline = time.monotonic() + 60
        while str(holder.pid) not in (lock.read_text() if lock.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(holder.pid, signal.SIGSTOP)
        assert str(holder.pid) in lock.read_text()
        with pytest.raises(IndexLockedError, match="another reindex is already running"):
            reindex(versions["new"], index_dir)
        waiter.stdin.write("go\n")
        waiter.stdin.flush()
        assert wait_blocked_on_a_lock(waiter), "the waiter did not wait for the lock"
        os.kill(holder.pid, signal.SIGKILL)
        holder.communicate(timeout=30)
        out, err = waiter.communicate(timeout=120)
        assert waiter.returncode == 0, err
        assert json.loads(out)["total"] == versions["after"][0]
        assert answers(index_dir) == versions["after"] and leftovers(index_dir) == []
    finally:
        for proc in (holder, waiter):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def wait_blocked_on_a_lock(proc: subprocess.Popen) -> bool:
    """Whether ``proc`` comes to wait for a file lock (``/proc/locks`` lists it
    with ``->``), or ends before; /proc read until then, at most a minute."""
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        with open("/proc/locks") as fh:
            if any("->" in line and f" {proc.pid} " in line for line in fh):
                return True
        time.sleep(0.01)
    return False


# -- disk full ------------------------------------------------------------------------

class FullDisk:
    """Files opened for writing share a byte budget; a write past it fails with ENOSPC
    (after writing what still fits, as a real disk does)."""

    def __init__(self) -> None:
        self.budget: int | None = None
        self.written = 0
        self.failed_on: str | None = None
        self.full_for: str | None = None  # or: fail the first write to a file with this in its name

    def opener(self, real_open):
        def fake_open(file, mode="r", *args, **kwargs):
            handle = real_open(file, mode, *args, **kwargs)
            return _Limited(handle, self, str(file)) if set(mode) & set("wax+") else handle
        return fake_open


class _Limited:
    def __init__(self, handle, disk: FullDisk, name: str) -> None:
        self._handle, self._disk, self._name = handle, disk, name

    def write(self, data):
        disk = self._disk
        if disk.full_for is not None and disk.full_for in os.path.basename(self._name):
            disk.failed_on = disk.failed_on or self._name
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._name)
        if disk.budget is not None and disk.written + len(data) > disk.budget:
            room = max(0, disk.budget - disk.written)
            if room:
                self._handle.write(data[:room])
            disk.written += room
            disk.failed_on = disk.failed_on or self._name
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._name)
        disk.written += len(data)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


@pytest.fixture
def full_disk(monkeypatch):
    """Every file Whoosh and the index store write goes through one FullDisk."""
    import builtins

    from whoosh.filedb import filestore

    disk = FullDisk()
    monkeypatch.setattr(filestore, "open", disk.opener(builtins.open), raising=False)
    monkeypatch.setattr(store, "open", disk.opener(builtins.open), raising=False)
    return disk


def gen_listing(index_dir: Path) -> dict[str, list[str]]:
    return {p.name: sorted(q.name for q in p.iterdir()) for p in index_dir.iterdir() if p.is_dir()}


@pytest.mark.parametrize("full, procs", [(True, 1), (False, 1), (True, 2)],
                         ids=["full", "incremental", "full-parallel"])
def test_disk_full_at_any_point_is_a_clear_error_and_keeps_the_old_index(versions, tmp_path, full_disk, full,
                                                                         procs, monkeypatch):
    """With two processes, each worker inherits the budget left when it was forked."""
    monkeypatch.setattr(indexer, "PARALLEL_MIN_BYTES", 0)
    measure = tmp_path / "measure"
    shutil.copytree(versions["pristine"], measure)
    reindex(versions["new"], measure, full=full, procs=1)
    total = full_disk.written
    # Byte budgets over the run, then the small files written last (whose sizes vary
    # by a few bytes from run to run), by name.
    share = total // procs  # what each worker writes, about
    points = [(b, None) for b in sorted({0, 1} | {share * k // 10 for k in range(1, 10)})]
    points += [(None, store.META)] + ([(None, store.CURRENT)] if full else [])
    outcomes = Counter()
    for number, (budget, name) in enumerate(points):
        index_dir = tmp_path / f"b{number}"
        shutil.copytree(versions["pristine"], index_dir)
        listing = gen_listing(index_dir)
        full_disk.budget, full_disk.full_for, full_disk.written, full_disk.failed_on = budget, name, 0, None
        with pytest.raises(SearchAppError) as failure:
            reindex(versions["new"], index_dir, full=full, procs=procs)
        full_disk.budget = full_disk.full_for = None
        message = str(failure.value)
        seen = answers(index_dir)
        after_commit = not full and seen == versions["after"]
        if after_commit:  # the commit went through; what is written after it failed
            assert message == (f"cannot finish writing the index in {index_dir}: No space left on device; the "
                               "update itself was committed and searches use it (the next reindex completes "
                               "the rest)"), message
            outcomes["failed after the commit (new index)"] += 1
        else:
            assert message == (f"cannot write the index in {index_dir}: No space left on device; "
                               "searches still use the last complete index"), message
            assert seen == versions["before"], (budget, full_disk.failed_on)
            # Nothing of the failed run is left: no build, no partial segment files.
            assert gen_listing(index_dir) == listing, (budget, full_disk.failed_on)
            outcomes["old index intact"] += 1
        assert leftovers(index_dir) == [], (budget, full_disk.failed_on)
        with store.reindex_lock(index_dir):  # free: no child of the failed run holds it
            pass
        # Space freed: the next reindex works.
        summary = reindex(versions["new"], index_dir, procs=1)
        assert summary.total == versions["after"][0] and answers(index_dir) == versions["after"]
        shutil.rmtree(index_dir)
    print(f"\ndisk full during a {'full' if full else 'incremental'} reindex at {len(points)} points "
          f"(budgets 0..{total} bytes, then the small files written last): {dict(outcomes)}")


def test_disk_full_in_the_cli_is_one_line_and_exit_1(versions, tmp_path, full_disk):
    from click.testing import CliRunner

    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)
    full_disk.budget = 2000
    result = CliRunner().invoke(cli_main, reindex_args(versions["new"], index_dir, True))
    full_disk.budget = None
    assert result.exit_code == 1, result.output
    assert result.output == (f"Error: cannot write the index in {index_dir}: No space left on device; "
                             "searches still use the last complete index\n")
    assert answers(index_dir) == versions["before"]


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 1 MiB filesystem (tmpfs), where the test may mount one (root on Linux)."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    if not sys.platform.startswith("linux") or os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root on Linux (the simulated full disk runs everywhere)")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def error_of(action) -> str:
    """The message of the SearchAppError ``action`` raises (the exception itself not kept)."""
    try:
        action()
    except SearchAppError as e:
        return str(e)
    pytest.fail("no error raised")


def used_bytes(path: Path) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


@pytest.mark.parametrize("full", [True, False], ids=["full", "incremental"])
def test_a_real_full_disk_is_a_clear_error_and_gives_its_space_back(versions, tmp_path, small_tmpfs, full):
    index_dir = small_tmpfs / "index"
    reindex(versions["old"], index_dir, procs=1)
    used = used_bytes(small_tmpfs)
    corpus = tmp_path / "corpus"
    shutil.copytree(versions["new"], corpus)
    words = [f"w{i:05d}" for i in range(20000)]  # distinct words: the index grows well past 1 MiB
    (corpus / "feeds" / "huge.jsonl").write_text("\n".join(
        json.dumps({"id": f"h{i}", "title": f"Huge {i}", "body": " ".join(words[i * 7 % 20000:][:300])})
        for i in range(2000)) + "\n")
    message = error_of(lambda: reindex(corpus, index_dir, full=full, procs=1))
    assert message.startswith(f"cannot write the index in {index_dir}: No space left on device")
    assert answers(index_dir) == versions["before"]
    assert leftovers(index_dir) == []
    # What the failed run wrote is deleted: once the error is handled (and with it the
    # writer's last open files), the disk is as full as before (within a few blocks).
    gc.collect()
    assert used_bytes(small_tmpfs) - used <= 64 * 1024, (used, used_bytes(small_tmpfs))
    (corpus / "feeds" / "huge.jsonl").unlink()
    assert reindex(corpus, index_dir, full=full, procs=1).total == versions["after"][0]
    assert answers(index_dir) == versions["after"]


def test_an_interrupt_right_after_the_commit_point_keeps_the_committed_index(versions, tmp_path, monkeypatch):
    """Ctrl-C between Whoosh's new TOC and the end of the commit: the clean-up of a
    failed run must not delete the files the new TOC already uses."""
    from whoosh import index as whoosh_index

    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(whoosh_index, "clean_files", interrupted)
    with pytest.raises(KeyboardInterrupt):
        reindex(versions["new"], index_dir, procs=1)
    monkeypatch.undo()
    assert answers(index_dir) == versions["after"]
    assert reindex(versions["new"], index_dir, procs=1).total == versions["after"][0]
    assert answers(index_dir) == versions["after"] and leftovers(index_dir) == []


def _children(pid: int) -> set[int]:
    """Processes whose parent is ``pid`` (Linux /proc)."""
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists() or (os.cpu_count() or 1) < 2,
                    reason="needs Linux /proc and two cores")
def test_kill_9_of_a_parallel_full_reindex_leaves_no_worker_behind(versions, tmp_path):
    """The parallel rebuild forks a worker per part; when its parent is killed the
    workers must stop (not keep writing into the next run's build) and the next
    reindex, parallel too, must finish with the right answers."""
    corpus = tmp_path / "corpus"
    shutil.copytree(versions["new"], corpus)
    body = " ".join(f"term{i % 997} bulk" for i in range(400))
    for part in range(2):  # two big files: each worker stays on one file for a while
        (corpus / "feeds" / f"bulk{part}.jsonl").write_text("\n".join(
            json.dumps({"id": f"b{part}-{i}", "title": f"Bulk {i}", "body": body}) for i in range(260)) + "\n")
    expected_dir = tmp_path / "expected"
    reindex(corpus, expected_dir, full=True, procs=1)
    expected = answers(expected_dir)
    index_dir = tmp_path / "index"
    shutil.copytree(versions["pristine"], index_dir)
    proc = spawn_cli(["reindex", "--corpus", str(corpus), "--index", str(index_dir), "--full", "--procs", "2"],
                     tmp_path / "run")
    try:
        proc.stdin.write("go\n")
        proc.stdin.flush()
        line = proc.stderr.readline()
        while line.startswith("read "):  # issue 12: the slow formats read ahead first
            line = proc.stderr.readline()
        assert line.startswith("indexed "), line  # a worker has written reports
        workers = _children(proc.pid)
        assert len(workers) >= 2, "the parallel rebuild did not start its workers"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        assert answers(index_dir) == versions["before"]
        # The next reindex at once, while the orphaned workers may still run.
        code, out, err, _ = run_cli(["reindex", "--corpus", str(corpus), "--index", str(index_dir),
                                     "--full", "--procs", "2", "--json"], tmp_path / "again")
        assert code == 0, err
        assert answers(index_dir) == expected
        assert still_running_after(workers, within=2.0) == set(), "workers of the killed reindex still run"
        assert answers(index_dir) == expected and leftovers(index_dir) == []
        current = store.current_generation(index_dir)
        assert not [p.name for p in current.iterdir() if p.name.startswith(".part-") or p.name.endswith(".tmp")]
        print(f"\nparallel rebuild killed with {len(workers)} workers running: workers gone, next reindex complete")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
