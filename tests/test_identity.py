"""One identity per secret (ARCHITECTURE.md §4): weak secrets fold across files, first_seen folds
by generation, and sources, cache and findings share model.secret_id."""

from __future__ import annotations

import hashlib
from pathlib import Path

from scanner.config import ScanConfig
from scanner.findings import Hit, build_findings
from scanner.model import (
    CommitRef,
    Confidence,
    Exposure,
    Location,
    Match,
    Position,
    Provenance,
    SourceKind,
    secret_id,
)
from scanner.pipeline import scan
from tests.keys import make_key, matcher, rules


def test_secret_id_is_the_sha256_of_the_secret_and_exposures_are_kept_apart() -> None:
    secret = make_key("openai.project-key", 3)
    m = Match("openai.project-key", 0, len(secret), secret, Confidence.HIGH)
    assert secret_id(m) == hashlib.sha256(secret.encode()).hexdigest()
    e1 = Match("x.rule", 0, 5, None, Confidence.HIGH, exposure_text="A  =  b")
    e2 = Match("x.rule", 0, 5, None, Confidence.HIGH, exposure_text="A = b")
    e3 = Match("y.rule", 0, 5, None, Confidence.HIGH, exposure_text="A = b")
    assert secret_id(e1) == secret_id(e2) != secret_id(e3)


def test_a_weak_secret_in_many_files_is_one_finding_without_a_digest(tmp_path: Path) -> None:
    url = make_key("database.connection-url", 1)
    for name in ("a.md", "b.md", "docs/c.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"DATABASE_URL={url}\n")
    report = scan(ScanConfig(target=tmp_path, jobs=1, engine="python"), rules(), matcher("python"))
    weak = [f for f in report.findings if f.rule_id == "database.connection-url"]
    assert len(weak) == 1, [(f.rule_id, f.locations_total) for f in report.findings]
    assert weak[0].locations_total == 3
    assert weak[0].secret_sha256 is None  # a weak secret's digest could be reversed: never written


def _ref(commit: str, time: str, generation: int) -> CommitRef:
    return CommitRef(commit, "a", "a@example.invalid", time, time, generation)


def test_first_seen_folds_by_generation_then_time() -> None:
    secret = make_key("openai.project-key", 4)
    m = Match("openai.project-key", 0, len(secret), secret, Confidence.HIGH)
    pos = Position(1, 1, 1, 2, 0)
    early_but_later_in_graph = _ref("a" * 40, "2020-01-01T00:00:00Z", 9)
    late_but_earlier_in_graph = _ref("b" * 40, "2024-01-01T00:00:00Z", 2)
    hits = [
        Hit(m, Location(SourceKind.HISTORY, "x.env", pos), Exposure.REPOSITORY, Provenance(first_seen=p))
        for p in (early_but_later_in_graph, late_but_earlier_in_graph)
    ]
    (finding,) = build_findings(hits, {r.id: r for r in rules()})
    assert finding.first_seen == late_but_earlier_in_graph


def test_locations_are_in_one_order_whatever_order_the_hits_arrive_in() -> None:
    """Two commits of one rebase share a commit time: the same key at the same path and offset in
    each is listed in one order (the commit ids break the tie), and a weak secret's fingerprint,
    taken from the first location's line, is the same too."""
    pos = Position(3, 5, 3, 40, 60)
    table = {r.id: r for r in rules()}
    for rule_id, seed in (("openai.project-key", 5), ("database.connection-url", 2)):
        value = make_key(rule_id, seed)
        hits = [
            Hit(
                Match(
                    rule_id,
                    0,
                    len(value),
                    value,
                    Confidence.HIGH,
                    context=hashlib.sha256(c.encode()).hexdigest(),
                ),
                Location(
                    SourceKind.HISTORY, "settings.py", pos, commit=c * 40, blob=b * 40, commit_time=1692311940
                ),
                Exposure.REPOSITORY,
                Provenance(),
            )
            for c, b in (("d", "1"), ("0", "2"), ("a", "3"))
        ]
        (forward,) = build_findings(hits, table, group_key=b"k" * 32)
        (backward,) = build_findings(hits[::-1], table, group_key=b"k" * 32)
        assert [loc.commit for loc in forward.locations] == ["0" * 40, "a" * 40, "d" * 40]
        assert forward == backward
