"""`--cache DIR`: a repeated sweep gives exactly the findings of an uncached one, and the cache
never holds a secret (ARCHITECTURE.md §5)."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from scanner.config import ScanConfig
from scanner.detect.engine import Matcher
from scanner.git.repo import discover
from scanner.model import Report, Rule
from scanner.pipeline import scan as run_scan
from scanner.sources.history.sweep import Sweep
from tests.oracle import digest, normalize
from tests.repo_builder import cache_history_repo, env_line, key_rule, make_key, pack_all

Run = Callable[..., Report]


@pytest.fixture
def run(rules: tuple[Rule, ...], matcher: Matcher) -> Run:
    def go(path: Path, cache: Path | None = None, jobs: int = 1) -> Report:
        site = discover(path)
        assert site is not None
        return run_scan(ScanConfig(target=path, jobs=jobs, cache=cache), rules, matcher)

    return go


def never(*_a: object, **_k: object) -> None:
    raise AssertionError("the cache should have spared this")


@pytest.mark.parametrize("packed", [False, True])
def test_cached_sweeps_equal_uncached(
    tmp_path: Path, run: Run, packed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    b = cache_history_repo(tmp_path / "r")
    if packed:
        pack_all(b.repo)
    cache = tmp_path / "cache"
    plain = run(tmp_path / "r")
    first = run(tmp_path / "r", cache)
    assert first.findings == plain.findings and first.findings
    assert list(cache.glob("history-*.cache"))
    with monkeypatch.context() as m:
        m.setattr(Sweep, "read_objects", never)
        m.setattr(Sweep, "_finish", never)
        again = run(tmp_path / "r", cache)  # nothing changed: the result is reused
    assert again.findings == plain.findings
    assert normalize(again, history_only=True) == normalize(plain, history_only=True)
    # one new commit: only its objects are read
    b.commit({"src/m1/new.env": env_line(740), "README": b"hi again\n"})
    plain2 = run(tmp_path / "r")
    with monkeypatch.context() as m:
        m.setattr(Sweep, "read_objects", never)
        third = run(tmp_path / "r", cache)
    assert digest(make_key(740)) in {f.secret_sha256 for f in third.findings}
    assert third.findings == plain2.findings
    assert third.stats.blobs == plain2.stats.blobs and third.stats.commits == plain2.stats.commits
    fourth = run(tmp_path / "r", cache, jobs=3)
    assert fourth.findings == plain2.findings


def test_cache_holds_no_secret(tmp_path: Path, run: Run) -> None:
    b = cache_history_repo(tmp_path / "r")
    rng = random.Random(41)
    extra = key_rule()
    from scanner.rules.templates import expand

    other = expand(extra.examples[0], rng)
    b.commit({"more.env": b"OPENAI_API_KEY=" + other.encode() + b"\n"}, message="m " + make_key(750))
    cache = tmp_path / "cache"
    report = run(tmp_path / "r", cache)
    assert len(report.findings) >= 5
    secrets = [make_key(s) for s in (700, 704, 708, 720, 730, 750)] + [other]
    blob = b"".join(p.read_bytes() for p in cache.iterdir())
    for s in secrets:
        raw = s.encode()
        for i in range(0, len(raw) - 8, 3):
            assert raw[i : i + 8] not in blob, "a piece of a secret is in the cache"


def test_a_foreign_or_damaged_cache_is_ignored(tmp_path: Path, run: Run) -> None:
    cache_history_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    plain = run(tmp_path / "r", cache)
    for f in cache.glob("history-*.cache"):
        f.write_bytes(b"not a cache")
    assert run(tmp_path / "r", cache).findings == plain.findings
    repo = pygit2.Repository(str(tmp_path / "r"))
    assert repo.head_is_unborn is False
