"""A watchdog that turns a stall into exit 3 naming what was being read, instead of a hang.

libgit2 1.9 spins forever on some damaged objects (a truncated loose object), inside calls that
hold the GIL, so no thread of this process could notice. The `keysweep` command therefore forks
once at start (`supervise`): the child runs the scan; the parent only waits. The child beats a
heart in a shared page (`beat`, called wherever work makes progress: object reads, scans,
worker messages) and names what it starts (`doing`). When the heart has not beaten for
`KEYSWEEP_STALL_SECONDS` (default 120), the parent kills the child (and its workers, a process
group of their own) and exits 3 with the name of the last thing started.

`main()` called in-process (the tests) never forks: `beat` and `doing` are then no-ops.
"""

from __future__ import annotations

import mmap
import os
import select
import signal
import struct
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

DEFAULT_STALL_SECONDS = 120.0
STALL_ENV = "KEYSWEEP_STALL_SECONDS"
EXIT_FAILED = 3
_LABEL_BYTES = 1000
_OBJECT_MARK = struct.pack("H", 0xFFFF)  # the label is a raw object id
_page: mmap.mmap | None = None  # set in the supervised child only


def beat() -> None:
    """Progress: the scan is alive."""
    if _page is not None:
        _page[0:8] = struct.pack("d", time.monotonic())


def _name(label: str) -> None:
    if _page is not None:
        raw = label.encode("utf-8", "replace")[:_LABEL_BYTES]
        _page[8:10] = struct.pack("H", len(raw))
        _page[10 : 10 + len(raw)] = raw
        beat()


def reading(oid: bytes) -> None:
    """Name the object libgit2 is about to read (cheap: the 20 raw bytes, formatted only on a stall)."""
    if _page is not None:
        _page[0:8] = struct.pack("d", time.monotonic())
        _page[8:10] = _OBJECT_MARK
        _page[10:30] = oid


@contextmanager
def doing(label: str) -> Iterator[None]:
    """Name the next step that may stall (e.g. "reading the working tree's status"); the label
    reaches the user only in the watchdog's message, so it must not hold a secret."""
    _name(label)
    try:
        yield
    finally:
        beat()


def _stall_seconds() -> float:
    try:
        got = float(os.environ.get(STALL_ENV, DEFAULT_STALL_SECONDS))
    except ValueError:
        return DEFAULT_STALL_SECONDS
    return got if got > 0 else DEFAULT_STALL_SECONDS


def supervise(run: Callable[[], int], escape: Callable[[str], str] = lambda s: s) -> int:
    """Run `run` in a forked child under the watchdog; returns its exit code (3 on a stall)."""
    global _page
    if not hasattr(os, "fork"):
        return run()
    page = mmap.mmap(-1, mmap.PAGESIZE)
    page[0:8] = struct.pack("d", time.monotonic())
    sys.stdout.flush()
    sys.stderr.flush()
    done_r, done_w = os.pipe()  # EOF on it: the child has ended (no polling delay on a short scan)
    pid = os.fork()
    if pid == 0:  # the child: the scan itself, in a process group of its own with its workers
        os.close(done_r)
        os.setpgid(0, 0)
        _page = page
        code = EXIT_FAILED
        try:
            code = run()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(done_w)
    try:
        return _wait(pid, page, _stall_seconds(), escape, done_r)
    finally:
        os.close(done_r)


def _wait(pid: int, page: mmap.mmap, limit: float, escape: Callable[[str], str], done: int) -> int:
    forward = (signal.SIGINT, signal.SIGTERM)
    for sig in forward:  # the child decides how to end; the parent only relays
        signal.signal(sig, lambda s, _f: _kill(pid, s))
    ended = False  # the child's end of the pipe is closed: it is exiting, reap it promptly
    while True:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            if os.WIFEXITED(status):
                return os.WEXITSTATUS(status)
            return 128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else EXIT_FAILED
        last = struct.unpack("d", page[0:8])[0]
        if time.monotonic() - last > limit:
            if page[8:10] == _OBJECT_MARK:
                what = f"reading object {page[10:30].hex()}"
            else:
                (n,) = struct.unpack("H", page[8:10])
                what = page[10 : 10 + n].decode("utf-8", "replace") or "scanning"
            _kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print(
                f"keysweep: scan failed: no progress for {limit:g} s while {escape(what)}"
                " (a damaged object can make libgit2 spin); nothing was reported",
                file=sys.stderr,
            )
            return EXIT_FAILED
        if ended:
            time.sleep(0.002)
            continue
        ready, _, _ = select.select([done], [], [], min(0.2, limit / 10))
        ended = bool(ready) and not os.read(done, 1)


def _kill(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with suppress(ProcessLookupError):
            os.kill(pid, sig)
