"""Processes that do not outlive their parent: a build's workers, each worker's kernel and its Chromium.

On Linux the kernel delivers a chosen signal to a process when its parent exits (prctl PR_SET_PDEATHSIG), however
the parent ends, SIGKILL included. Elsewhere these are no-ops and the build's own clean-up on SIGINT/SIGTERM is
what stops them.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from contextlib import contextmanager

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Ask to be sent ``sig`` when the parent process exits (and exit now if it already has)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), sig)


def become_subreaper() -> bool:
    """Adopt orphans (Linux): a process that notebook code started and abandoned (setsid, then fork again) is given to
    this process instead of init when its parent ends, so that :func:`kill_strays` finds it. Whether it took effect."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _session(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[3])
    except (OSError, IndexError, ValueError):
        return None


def kill_strays() -> list[int]:
    """Kill what a finished variant left behind: every child of this process in a session other than its own (an
    adopted orphan, a kernel), with everything below it. The worker's own helpers (the kernel template, Playwright
    and the Chromium below it) are in its session or below them, and stay."""
    mine = os.getsid(0)
    strays = [pid for pid in children() if _session(pid) not in (mine, None)]
    doomed = kill_all(strays + [d for pid in strays for d in descendants(pid)])
    for pid in doomed:  # those that were (or became, as orphans) this process's children: reap them
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return doomed


def children(pid: int | None = None) -> list[int]:
    """The live child processes of ``pid`` (default: this process), from /proc."""
    pid = os.getpid() if pid is None else pid
    out = []
    try:
        entries = os.listdir("/proc")
    except OSError:
        return out
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and has not exited (a zombie has)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def descendants(pid: int | None = None) -> list[int]:
    """Children of ``pid`` (default: this process), their children, and so on."""
    found, todo = [], [os.getpid() if pid is None else pid]
    while todo:
        kids = children(todo.pop())
        found.extend(kids)
        todo.extend(kids)
    return found


def kill_all(pids: list[int], sig: int = signal.SIGKILL) -> list[int]:
    """Send ``sig`` to each of ``pids``; returns those it reached (the others had gone already)."""
    killed = []
    for pid in pids:
        try:
            os.kill(pid, sig)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def kill_descendants(sig: int = signal.SIGKILL) -> list[int]:
    """Send ``sig`` to every process below this one (kernels, Chromium); returns their PIDs."""
    return kill_all(descendants(), sig)


@contextmanager
def deferred_signals(signals: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM)):
    """Hold SIGINT and SIGTERM while a step that must finish runs (putting outputs and records in place): the
    signals that arrive are collected in the list yielded, for the caller to act on once the step is done. Only the
    main thread can set signal handlers; elsewhere this defers nothing."""
    got: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield got
        return
    previous = {sig: signal.signal(sig, lambda number, frame: got.append(number)) for sig in signals}
    try:
        yield got
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
