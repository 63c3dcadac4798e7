"""Shared helpers of the labelled corpus: the pinned package list and the cache layout.

Cache (default ~/.cache/keysweep/corpus, outside the checkout so that scanning the
repository never reads real package contents; or $KEYSWEEP_CORPUS_CACHE):
    archives/<archive>          the downloaded archive, sha256-checked
    src/<slug>/...              its unpacked contents (one dir per package; `.fetched` marks completion)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES = HERE / "packages.txt"
TRIAGE = HERE / "triage.json"
KEY_FORMATS = HERE.parent / "data" / "key-formats.csv"
MARKER = ".fetched"


@dataclass(frozen=True, slots=True)
class Package:
    ecosystem: str  # pypi | npm
    kind: str  # sdist | wheel | - (npm)
    name: str
    version: str
    archive: str
    sha256: str

    @property
    def slug(self) -> str:
        return f"{self.ecosystem}-{self.name.lstrip('@').replace('/', '__')}-{self.version}"


def cache_dir() -> Path:
    env = os.environ.get("KEYSWEEP_CORPUS_CACHE")
    return Path(env).resolve() if env else Path.home() / ".cache" / "keysweep" / "corpus"


def load_packages(path: Path = PACKAGES) -> list[Package]:
    out: list[Package] = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 6:
            raise ValueError(f"{path}:{n}: expected 6 columns, got {len(parts)}")
        out.append(Package(*parts))
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_text(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def unpacked(pkg: Package, cache: Path | None = None) -> Path | None:
    """The package's unpacked dir when fetched completely, else None."""
    d = (cache or cache_dir()) / "src" / pkg.slug
    return d if (d / MARKER).is_file() else None


def redact(secret: str) -> str:
    """A preview safe to print: prefix up to 4 chars, last 2, length — never an 8-char window."""
    return f"{secret[:4]}…{secret[-2:]} ({len(secret)})" if len(secret) >= 12 else f"…({len(secret)})"
