"""A watchdog that turns a stall into exit 3 naming what was being read, instead of a hang.

libgit2 1.9 spins forever on some damaged objects (a truncated loose object), inside calls that
hold the GIL, so no thread of this process could notice. The `keysweep` command therefore forks
once at start (`supervise`): the child runs the scan; the parent only waits. The child beats a
heart in a shared page (`beat`, called wherever work makes progress: object reads, scans,
worker messages) and names what it starts (`doing`). When the heart has not beaten for
`KEYSWEEP_STALL_SECONDS` (default 120), the parent kills the child (and its workers, a process
group of their own) and exits 3 with the name of the last thing started.

A child that dies of a signal (the out-of-memory killer's SIGKILL, a SIGSEGV) is a failed scan
as a stall is: the parent says so, names what the child was doing, has the caller write failed
reports (`failed`) and exits 3 — never 137 with no word.

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

from scanner.errors import EXIT_FAILED

DEFAULT_STALL_SECONDS = 120.0
STALL_ENV = "KEYSWEEP_STALL_SECONDS"
_LABEL_BYTES = 1000
_OBJECT_MARK = struct.pack("H", 0xFFFF)  # the label is a raw object id
_PHASE = 10 + _LABEL_BYTES  # one byte: 1 while the rules run over what the label names
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
        _page[_PHASE] = 0
        beat()


def reading(oid: bytes) -> None:
    """Name the object libgit2 is about to read (cheap: the 20 raw bytes, formatted only on a stall)."""
    if _page is not None:
        _page[0:8] = struct.pack("d", time.monotonic())
        _page[8:10] = _OBJECT_MARK
        _page[10:30] = oid
        _page[_PHASE] = 0


def scanning(label: str | None = None) -> None:
    """Progress: the rules start on a text — the object last read, or `label` (a path) — so a
    stall now is a pathological text for a pattern, not libgit2."""
    if _page is not None:
        if label is not None:
            _name(label)
        _page[_PHASE] = 1
        beat()


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


def supervise(
    run: Callable[[], int],
    escape: Callable[[str], str] = lambda s: s,
    failed: Callable[[str], None] = lambda _message: None,
) -> int:
    """Run `run` in a forked child under the watchdog; returns its exit code (3 on a stall or a
    child killed by a signal, after `failed(message)` has written the failed reports)."""
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
        message = _wait(pid, page, _stall_seconds(), done_r)
    finally:
        os.close(done_r)
    if isinstance(message, int):
        return message
    print(f"keysweep: scan failed: {escape(message)}", file=sys.stderr)
    sys.stderr.flush()
    try:
        failed(message)
    except Exception as e:  # noqa: BLE001 - reporting the failure must not hide it
        print(f"keysweep: could not write the failed reports ({type(e).__name__})", file=sys.stderr)
    return EXIT_FAILED


def _doing(page: mmap.mmap) -> str:
    """What the child last said it was doing, for the failure message."""
    if page[8:10] == _OBJECT_MARK:
        what = f"object {page[10:30].hex()}"
        if not page[_PHASE]:
            return f"reading {what} (a damaged object can make libgit2 spin)"
    else:
        (n,) = struct.unpack("H", page[8:10])
        what = page[10 : 10 + n].decode("utf-8", "replace")
        if not page[_PHASE]:
            return what or "scanning"
    return f"matching the rules against {what or 'a text'} (a pathological text for a pattern)"


def _signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _wait(pid: int, page: mmap.mmap, limit: float, done: int) -> int | str:
    """The child's exit code, or the message of its failure (a stall, a signal)."""
    forward = (signal.SIGINT, signal.SIGTERM)
    for sig in forward:  # the child decides how to end; the parent only relays
        signal.signal(sig, lambda s, _f: _kill(pid, s))
    ended = False  # the child's end of the pipe is closed: it is exiting, reap it promptly
    while True:
        got, status = os.waitpid(pid, os.WNOHANG)
        if got == pid:
            if os.WIFEXITED(status):
                return os.WEXITSTATUS(status)
            if not os.WIFSIGNALED(status):
                return EXIT_FAILED
            died = os.WTERMSIG(status)
            with suppress(ProcessLookupError, PermissionError):  # its workers, if any are left
                os.killpg(pid, signal.SIGKILL)
            why = " (the out-of-memory killer sends it)" if died == signal.SIGKILL else ""
            return f"the scanning process was killed by {_signal_name(died)}{why} while {_doing(page)}"
        last = struct.unpack("d", page[0:8])[0]
        if time.monotonic() - last > limit:
            what = _doing(page)
            _kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return f"no progress for {limit:g} s while {what}"
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
