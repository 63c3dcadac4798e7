"""keysweep: find leaked LLM provider keys in git history, bundles and source maps."""

from __future__ import annotations

__version__ = "0.1.0"
