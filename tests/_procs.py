"""Helpers for tests that kill processes: who descends from whom, and waiting for an exit."""

from __future__ import annotations

import os
import select
import time
from pathlib import Path


def parents(field: int = 1) -> dict[int, int]:
    """pid -> parent pid (``field`` 2: process group), of every process now running (not zombies)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                out[int(entry.name)] = int(fields[field])
    return out


def descendants(pid: int) -> set[int]:
    """Every live process under ``pid``."""
    table = parents()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in table.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def group(pgid: int) -> set[int]:
    """Every live process of the process group ``pgid``."""
    return {pid for pid, group in parents(field=2).items() if group == pgid}


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def still_running_after(pids, within: float) -> set[int]:
    """Wait until each of ``pids`` has exited (woken by its exit, not by polling
    on a clock), at most ``within`` seconds; those still running then."""
    fds = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            continue
    deadline = time.monotonic() + within
    try:
        while fds:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select(list(fds), [], [], left)
            for fd in ready:
                os.close(fd)
                del fds[fd]
        return {pid for pid in fds.values() if running(pid)}
    finally:
        for fd in fds:
            os.close(fd)
