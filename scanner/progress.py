"""Progress of long sweeps for a person watching a terminal (the CLI's stderr)."""

from __future__ import annotations

import time
from typing import TextIO


class TermProgress:
    """Progress of long sweeps on stderr: one redrawn line on a TTY, a plain line every 10 s
    otherwise; nothing at all for sweeps that finish within 2 s."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.t0 = time.monotonic()
        self.phase = ""
        self.phase_t0 = self.t0
        self.last = 0.0
        self.drawn = False

    def update(self, phase: str, done: int, total: int, nbytes: int) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.phase, self.phase_t0 = phase, now
        if now - self.t0 < 2.0 or now - self.last < (0.25 if self.tty else 10.0):
            return
        self.last = now
        took = max(now - self.phase_t0, 1e-6)
        rate = done / took
        eta = f"{(total - done) / rate:.0f}s" if rate > 0 else "?"
        mb = nbytes / 1e6
        text = (
            f"keysweep: {phase} {done}/{total} ({100 * done // max(total, 1)}%), "
            f"{mb:.0f} MB at {mb / took:.0f} MB/s, {rate:.0f} objects/s, ETA {eta}"
        )
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
