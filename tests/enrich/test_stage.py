"""The enrich stage and how the pipeline runs its sources (scanner/enrich/, pipeline.run_sources):
each source is scanned once, a source that can be started (the full sweep) lets the ones after it
run while its workers read, and the enrich steps run in their declared order on what was found."""

from __future__ import annotations

import pytest

from scanner.detect.bundle import Sniff
from scanner.detect.engine import Matcher
from scanner.enrich import NO_READS, STEPS, Reads, Sourced, enrich
from scanner.pipeline import run_sources
from scanner.sources.base import Found, Place, ScanContext, SourceResult
from tests.keys import rules


class _Log:
    def __init__(self) -> None:
        self.events: list[str] = []


class _Pending:
    def __init__(self, log: _Log, res: SourceResult) -> None:
        self.log, self.res = log, res

    def result(self) -> SourceResult:
        self.log.events.append("sweep: result")
        return self.res

    def close(self) -> None:
        self.log.events.append("sweep: closed")


class _Starting:
    def __init__(self, log: _Log) -> None:
        self.log = log

    def start(self, ctx: ScanContext) -> _Pending:
        self.log.events.append("sweep: started")
        return _Pending(self.log, SourceResult(sources={"history": 1}))

    def scan(self, ctx: ScanContext) -> SourceResult:
        raise AssertionError("a source that can be started is started, not scanned")


class _Plain:
    def __init__(self, log: _Log, name: str, fail: bool = False) -> None:
        self.log, self.name, self.fail = log, name, fail

    def scan(self, ctx: ScanContext) -> SourceResult:
        self.log.events.append(f"{self.name}: scanned")
        if self.fail:
            raise RuntimeError("boom")
        return SourceResult(sources={self.name: 1})


@pytest.fixture
def ctx() -> ScanContext:
    return ScanContext(matcher=Matcher(rules(), "python"), rules=rules())


def test_a_started_source_overlaps_the_next_and_each_is_scanned_once(ctx: ScanContext) -> None:
    log = _Log()
    got = run_sources([(_Starting(log), NO_READS), (_Plain(log, "worktree"), NO_READS)], ctx)
    assert log.events == ["sweep: started", "worktree: scanned", "sweep: result", "sweep: closed"]
    assert [r.sources for r in got] == [{"history": 1}, {"worktree": 1}]  # in the planned order


def test_a_started_source_is_closed_when_a_later_one_fails(ctx: ScanContext) -> None:
    log = _Log()
    with pytest.raises(RuntimeError):
        run_sources([(_Starting(log), NO_READS), (_Plain(log, "worktree", fail=True), NO_READS)], ctx)
    assert log.events == ["sweep: started", "worktree: scanned", "sweep: closed"]  # its workers stop


def test_the_steps_run_in_their_declared_order_on_what_each_source_reads() -> None:
    """Bundle judgement first (origins are only looked up at bundle places); a source with no
    reads is left as it is; a step returns new results rather than editing the sources'."""
    assert [s.name for s in STEPS] == ["client-bundles", "source-map-origins", "verification"]
    place = Place("directory", b"dist/assets/index.js.map")  # a map in client output: by its path
    res = SourceResult(founds=[Found((), [place])])
    seen: list[tuple[str, bool]] = []

    def sniff(p: Place) -> Sniff:
        raise AssertionError("a map is judged by its path alone")

    def files(p: Place) -> None:
        seen.append(("origins", p.bundle))
        return None

    untouched = SourceResult(founds=[Found((), [place])])
    out = enrich([Sourced(res, Reads(sniff, files)), Sourced(untouched, NO_READS)])
    assert out[0].founds[0].places[0].bundle is True
    assert seen == [("origins", True)]  # the origins step saw the judgement
    assert res.founds[0].places[0].bundle is False  # the source's own result is not edited
    assert out[1].founds[0].places[0] == place
