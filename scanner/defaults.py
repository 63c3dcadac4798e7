"""Default values every layer agrees on, at the bottom so that no layer imports another for a
constant (the resolved config in `config.py`, `findings.py`, the sources and the entry points)."""

from __future__ import annotations

DEFAULT_FINGERPRINT_KEY = b"keysweep-fingerprint-v1"
"""The fingerprint key when the config names none (ARCHITECTURE.md §4)."""
DEFAULT_SIZE_CAP = 32 * 1024 * 1024
"""Files and blobs over this many bytes are skipped as `too-large`."""
DEFAULT_FAIL_ON = "high"
"""The gate's threshold when neither the command line (the Action's input) nor the config sets one."""
ENGINE_ENV = "KEYSWEEP_ENGINE"
GROUP_KEY_ENV = "KEYSWEEP_FINGERPRINT_KEY"  # the organisation's secret that groups weak secrets across runs
ENGINES = ("auto", "hyperscan", "python")

# days a key may sit at HEAD before it is reported "never rotated" (`max-key-age`, issue 24)
DEFAULT_MAX_KEY_AGE = 90
