"""Progress of long sweeps for a person watching a terminal (the CLI's stderr)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO

RATE_AFTER = 1.0  # seconds into a phase before a rate or an ETA means anything


class TermProgress:
    """Progress of long sweeps on stderr: one redrawn line on a TTY, a plain line every 10 s
    otherwise; nothing at all for sweeps that finish within 2 s.

    `nbytes` is what the current phase has read so far; rates are per phase and left out in a
    phase's first second (a line drawn just after a phase began once read "2000000000 objects/s")."""

    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.tty = stream.isatty()
        self.t0 = clock()
        self.phase = ""
        self.phase_t0 = self.t0
        self.last = 0.0
        self.drawn = False

    def update(self, phase: str, done: int, total: int, nbytes: int) -> None:
        now = self.clock()
        if phase != self.phase:
            self.phase, self.phase_t0 = phase, now
        if now - self.t0 < 2.0 or now - self.last < (0.25 if self.tty else 10.0):
            return
        self.last = now
        text = f"keysweep: {phase} {done}/{total} ({100 * done // max(total, 1)}%)"
        mb = nbytes / 1e6
        if nbytes:
            text += f", {mb:.0f} MB"
        took = now - self.phase_t0
        if took >= RATE_AFTER:
            rate = done / took
            if nbytes:
                text += f" at {mb / took:.0f} MB/s"
            text += f", {rate:.0f} objects/s"
            if rate > 0 and total > done:
                text += f", ETA {(total - done) / rate:.0f}s"
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False
