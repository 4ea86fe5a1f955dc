"""Stopping a worker like a machine would stop: the worker and everything it started.

The worker runs each job in a session of its own (so that its signals reach the job and never
the worker), which also puts the job out of reach of a signal to the worker's group. A hard
kill therefore freezes the worker's group, finds every descendant through ``/proc`` and kills
each of their groups, so no job survives its machine and keeps writing into its folder.
"""

import contextlib
import os
import signal
from pathlib import Path

PROC = Path("/proc")


def _parents() -> dict[int, int]:
    """pid -> parent pid of every process we can see (Linux); empty elsewhere."""
    parents: dict[int, int] = {}
    for entry in PROC.glob("[0-9]*/stat") if PROC.is_dir() else ():
        try:
            text = entry.read_text()
        except OSError:
            continue
        # the command name, in parentheses, may itself hold spaces and parentheses
        fields = text[text.rindex(")") + 2 :].split()
        parents[int(entry.parent.name)] = int(fields[1])
    return parents


def descendants(pid: int) -> list[int]:
    parents = _parents()
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def kill_tree(leader: int) -> None:
    """SIGKILL to the group ``leader`` leads and to the group of every process below it.

    The group is stopped first, so that it cannot start anything while its tree is read.
    """
    _signal_group(leader, signal.SIGSTOP)
    groups = {leader}
    for pid in descendants(leader):
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(pid))
    groups.discard(os.getpgid(0))
    for group in groups:
        _signal_group(group, signal.SIGKILL)
