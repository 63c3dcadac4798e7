"""Shared fixtures for the history tests: one matcher per session, engine-vs-oracle helpers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner.config import Mode, ScanConfig
from scanner.detect.engine import Matcher
from scanner.git.repo import discover
from scanner.model import Report, Rule
from scanner.pipeline import scan as run_scan
from scanner.rules import load_rules
from tests.oracle import Expect, Oracle, normalize


@pytest.fixture(scope="session")
def rules() -> tuple[Rule, ...]:
    return load_rules()


@pytest.fixture(scope="session")
def matcher(rules: tuple[Rule, ...]) -> Matcher:
    # the pure-Python prefilter compiles instantly; KEYSWEEP_ENGINE=hyperscan runs the suite on the C engine
    return Matcher(rules, os.environ.get("KEYSWEEP_ENGINE", "python"))


Scan = Callable[..., Report]


@pytest.fixture
def scan(rules: tuple[Rule, ...], matcher: Matcher) -> Scan:
    def run(
        path: Path,
        mode: Mode = Mode.HISTORY,
        range_expr: str | None = None,
        jobs: int = 1,
    ) -> Report:
        assert discover(path) is not None, path
        return run_scan(ScanConfig(target=path, mode=mode, range_expr=range_expr, jobs=jobs), rules, matcher)

    return run


def assert_agrees(engine: dict[str, Expect], oracle: dict[str, Expect]) -> None:
    assert set(engine) == set(oracle), (sorted(engine), sorted(oracle))
    for k in oracle:
        assert engine[k] == oracle[k], f"secret {k[:12]}:\n engine {engine[k]}\n oracle {oracle[k]}"


@pytest.fixture
def swept(scan: Scan, matcher: Matcher) -> Callable[..., dict[str, Expect]]:
    """Full sweep of `path`, checked against the oracle; returns the agreed expectations."""

    def run(path: Path, jobs: int = 1) -> dict[str, Expect]:
        report = scan(path, jobs=jobs)
        site = discover(path)
        assert site is not None
        got = normalize(report, history_only=True)
        want = Oracle(path, matcher, site.prefix).sweep()
        assert_agrees(got, want)
        return got

    return run
