"""The compiled hyperscan database, built once per ruleset and loaded on later runs.

Compiling every rule costs more than a small range scan; a serialized database loads in
milliseconds. The file is keyed by ruleset hash and hyperscan version, written atomically, and
any unreadable or mismatched file is simply rebuilt.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scanner.detect.engine import Matcher
from scanner.detect.prefilter import DATABASE_FORMAT, HyperscanPrefilter, hyperscan
from scanner.model import Rule
from scanner.paths import CACHE_ENV, cache_home, write_atomic
from scanner.rules import ruleset_hash

__all__ = ["CACHE_ENV", "cache_home", "load_matcher"]


def _path(rules: Sequence[Rule]) -> Path | None:
    if hyperscan is None:
        return None
    version = getattr(hyperscan, "__version__", "0")
    return cache_home() / f"matcher-{ruleset_hash(rules)}-f{DATABASE_FORMAT}-hs{version}.db"


def load_matcher(rules: Sequence[Rule], engine: str) -> Matcher:
    """A Matcher for `rules`, from the cached database when there is one."""
    path = _path(rules) if engine != "python" else None
    if path is not None:
        try:
            return Matcher(rules, engine, path.read_bytes())
        except Exception:  # noqa: BLE001 - missing, stale or corrupt: rebuild below
            pass
    matcher = Matcher(rules, engine)
    if path is not None and isinstance(matcher.prefilter, HyperscanPrefilter):
        write_atomic(path, matcher.prefilter.serialize())  # a read-only home: compiled again next time
    return matcher
