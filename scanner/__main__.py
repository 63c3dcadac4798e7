"""`python -m scanner` is the same as the `keysweep` command."""

from __future__ import annotations

import sys

from scanner.cli import entry

sys.exit(entry())
