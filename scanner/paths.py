"""Where keysweep keeps its own caches (the compiled matcher, the parsed rules)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "KEYSWEEP_CACHE_HOME"


def cache_home() -> Path:
    """`$KEYSWEEP_CACHE_HOME`, else `$XDG_CACHE_HOME/keysweep`, else `~/.cache/keysweep`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keysweep"
