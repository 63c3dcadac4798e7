"""Where keysweep keeps its own caches (the compiled matcher, the parsed rules), and how it
writes them."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

CACHE_ENV = "KEYSWEEP_CACHE_HOME"


def cache_home() -> Path:
    """`$KEYSWEEP_CACHE_HOME`, else `$XDG_CACHE_HOME/keysweep`, else `~/.cache/keysweep`."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keysweep"


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `path` whole or not at all (a temporary file renamed over it); False when the
    directory cannot be written, which for a cache only costs the work again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError:
        return False
    return True
