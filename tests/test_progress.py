"""The progress line a person watching a long sweep reads: per-phase bytes and rates, and no rate
at all until a phase has run for a second."""

from __future__ import annotations

import io
from pathlib import Path

import pygit2
import pytest

from scanner.config import ScanConfig
from scanner.detect.engine import Matcher
from scanner.model import Rule
from scanner.pipeline import scan
from scanner.progress import TermProgress
from tests.repo_builder import cache_history_repo, pack_all


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rates_are_per_phase_and_wait_for_the_phase_to_run() -> None:
    clock = Clock()
    out = io.StringIO()
    p = TermProgress(out, clock)
    clock.now = 103.0
    p.update("objects", 100, 1000, 0)  # the phase began now: a rate would divide by nothing
    clock.now = 114.0
    p.update("objects", 600, 1000, 55_000_000)
    clock.now = 125.0
    p.update("trees", 2000, 5000, 8_000_000)  # a new phase: its own bytes, no rate yet
    clock.now = 130.0
    p.update("trees", 3000, 5000, 9_000_000)  # within 10 s of the last line: not drawn
    clock.now = 145.0
    p.update("trees", 5000, 5000, 20_000_000)
    assert out.getvalue().splitlines() == [
        "keysweep: objects 100/1000 (10%)",
        "keysweep: objects 600/1000 (60%), 55 MB at 5 MB/s, 55 objects/s, ETA 7s",
        "keysweep: trees 2000/5000 (40%), 8 MB",
        "keysweep: trees 5000/5000 (100%), 20 MB at 1 MB/s, 250 objects/s",
    ]


def test_nothing_is_drawn_in_the_first_two_seconds() -> None:
    clock = Clock()
    out = io.StringIO()
    p = TermProgress(out, clock)
    clock.now = 101.9
    p.update("objects", 10, 10, 100)
    assert out.getvalue() == ""


class Recording:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int, int, int]] = []

    def update(self, phase: str, done: int, total: int, nbytes: int) -> None:
        self.seen.append((phase, done, total, nbytes))

    def close(self) -> None:
        pass


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_history_sweep_reports_each_phases_own_bytes(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The objects phase counts the commits, tags and blobs it read; the trees phase the trees
    (it once showed the objects phase's total, over a phase a moment old)."""
    import scanner.sources.history.sweep as sweep_mod

    monkeypatch.setattr(sweep_mod, "POOL_MIN_OBJECTS", 1)  # workers even for a small repository
    b = cache_history_repo(tmp_path / "r")
    pack_all(b.repo)
    sizes = {"objects": 0, "trees": 0}
    for oid in b.repo.odb:
        otype, data = b.repo.odb.read(oid)
        sizes["trees" if otype == pygit2.enums.ObjectType.TREE else "objects"] += len(data)
    rec = Recording()
    scan(ScanConfig(target=tmp_path / "r", jobs=jobs), rules, matcher, rec)
    last = {phase: nbytes for phase, _d, _t, nbytes in rec.seen}
    assert last == sizes
    done = {phase: d for phase, d, _t, _n in rec.seen}
    assert done["objects"] == len(list(b.repo.odb)) and done["trees"] > 0
