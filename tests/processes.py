"""Processes of a test run, read from /proc."""

from __future__ import annotations

import os
from pathlib import Path


def children(pid: int) -> list[int]:
    """The ids of `pid`'s child processes (each /proc/<id>/stat names its parent)."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = Path(f"/proc/{d}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d))
    return out
