"""The history cache (`--cache DIR`, ARCHITECTURE.md §5): what a full sweep learnt, minus secrets.

One file per (keysweep version, ruleset hash, config hash, repository, PATH): a pickle holding

- the repository state it describes: pack names and sizes, loose object ids, ref tips, HEAD, the
  shallow list and the index entries — when all are unchanged, the sweep's result is reused;
- the sweep's intermediate state: every object id by kind, commit and tag headers, which blobs and
  messages matched (ids only), unreadable ids, and the trees that lead to matched blobs — when
  objects were added, only the new ones are read, and provenance is computed again;
- the result: the places of every matched text and the provenance of every secret, keyed by the
  SHA-256 of the secret (never the secret itself).

Texts that matched are read and scanned again on every run (a handful of blobs), so the cache
holds no secret, no matched text and no position that only the secret could give. The cache is
trusted input: it is unpickled, so a cache directory must be as trusted as the code (keep it in
the CI cache of the same repository, never in a place others can write to).
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanner.paths import write_atomic

FORMAT = (
    3  # 3: places say whether HEAD holds them (`Place.at_head`); 2: the sweep's types moved, secret_id keys
)


def cache_key(*parts: object) -> str:
    h = hashlib.sha256()
    for p in (FORMAT, *parts):
        h.update(repr(p).encode("utf-8", "backslashreplace"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CacheUse:
    """What a sweep made of its cache file, for the log (the Action says it: a cache that is
    never found, or never reused, should not go unnoticed)."""

    found: str  # "found", or why not: "no cache file", "damaged", "made for another …"
    reused: str  # how much of it was reused: "all of it …", "N of M objects …", "none: …"


# cache file → what the last sweep of this process made of it (one sweep per Action run)
USES: dict[str, CacheUse] = {}


class HistoryCache:
    """One cache file in DIR; loading a missing, damaged or foreign file gives None."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.path = directory / f"history-{key}.pickle"
        self.key = key
        self.found = "not loaded"

    def record(self, reused: str) -> None:
        """Say how much of the loaded cache the sweep reused (see `USES`)."""
        USES[str(self.path)] = CacheUse(self.found, reused)

    def load(self) -> dict[str, Any] | None:
        self.found = "no cache file for this repository, keysweep version and ruleset"
        try:
            with open(self.path, "rb") as f:
                data = pickle.load(f)
        except FileNotFoundError:
            return None
        except (
            OSError,
            EOFError,
            pickle.UnpicklingError,
            AttributeError,
            ImportError,
            IndexError,
            TypeError,
            ValueError,
        ):
            self.found = "the cache file is damaged"
            return None
        if not isinstance(data, dict) or data.get("key") != self.key:
            self.found = "the cache file is of another shape"
            return None
        self.found = "found"
        return data

    def save(self, data: dict[str, Any]) -> None:
        """Write atomically; a cache that cannot be written is skipped (the scan still counts)."""
        data = {**data, "key": self.key}
        write_atomic(self.path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
