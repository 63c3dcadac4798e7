"""Where the tests find the checkout's files, wherever a test module sits under tests/."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
"""The repository's root: action.yml, README.md, docs/, node_modules/."""
TESTS = ROOT / "tests"
DATA = TESTS / "data"
GOLDEN = TESTS / "golden"
SCHEMAS = TESTS / "schemas"
