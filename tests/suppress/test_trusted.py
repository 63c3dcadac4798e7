"""A change cannot turn its own scan off: the config and the baseline are read from the trusted
(base) commit, so a pull request that allowlists, disables or baselines its own key still fails,
and the edit is named."""

from __future__ import annotations

import json
from pathlib import Path

import pygit2
import pytest

from scanner.config import Mode, Request, ScanConfig, resolve_config
from scanner.detect.engine import Matcher
from scanner.errors import ScanError
from scanner.findings import counts_for_fail
from scanner.model import Report
from scanner.pipeline import scan
from scanner.suppress.apply import live_map
from scanner.suppress.baseline import create_baseline, render_baseline
from scanner.suppress.inputs import ConfigFiles
from scanner.suppress.trusted import read_at_commit, read_trusted
from scanner.target import open_target
from tests.keys import make_key, rules
from tests.repo_builder import RepoBuilder

BASE_CONFIG = b'fail-on = "high"\nbaseline = ".keysweep-baseline.json"\n'


def gate(repo: Path, trusted: str, base: str, head: str) -> tuple[int, tuple[str, ...], Report]:
    """What the Action does on pull_request: inputs from `trusted`, range base..head."""
    t = read_trusted(open_target(repo).trusting(trusted), rules(), scanned=head)
    files = ConfigFiles(t.settings, t.baseline, t.baseline_path)
    config = resolve_config(Request(repo, Mode.RANGE, f"{base}..{head}", jobs=1), rules(), files)
    report = scan(config, config.rules, Matcher(config.rules, "python"))
    return counts_for_fail(report.findings, config.fail_on), t.changed, report


@pytest.fixture
def repo(tmp_path: Path) -> tuple[RepoBuilder, str]:
    b = RepoBuilder(tmp_path / "repo")
    empty = render_baseline(create_baseline([], "history", {}, b"keysweep-fingerprint-v1")).encode()
    base = b.commit(
        {".keysweep.toml": BASE_CONFIG, ".keysweep-baseline.json": empty, "app.py": b"print(1)\n"}
    )
    return b, str(base)


def test_pr_allowlisting_its_own_key_still_fails(repo: tuple[RepoBuilder, str]) -> None:
    b, base = repo
    key = make_key(seed=51)
    cfg = (
        BASE_CONFIG
        + b'disable-rules = ["openai.project-key"]\n[[allow]]\npaths = ["leak.env"]\nreason = "trust me"\n'
    )
    head = str(
        b.commit(
            {"leak.env": f"OPENAI_API_KEY={key}\n".encode(), ".keysweep.toml": cfg},
            parents=[pygit2.Oid(hex=base)],
            ref="refs/heads/pr",
        )
    )
    # believing the change's own config, its key would pass: that is the hole
    counted, _, own = gate(b.path, head, base, head)
    assert counted == 0 and own.stats.suppressed == {"disabled-rule": 1}
    # the base commit's config decides: the key fails the gate, and the edit is named
    counted, changed, report = gate(b.path, base, base, head)
    assert counted == 1, [f.rule_id for f in report.findings]
    assert changed == (".keysweep.toml",)
    assert report.stats.suppressed == {}


def test_pr_baselining_its_own_key_still_fails(repo: tuple[RepoBuilder, str]) -> None:
    b, base = repo
    key = make_key(seed=52)
    leak = b.commit(
        {"leak.env": f"OPENAI_API_KEY={key}\n".encode()}, parents=[pygit2.Oid(hex=base)], ref="refs/heads/pr"
    )
    # the change baselines its own key (as `keysweep baseline update` on the branch would)
    b.set_head("refs/heads/pr")
    config = ScanConfig(target=b.path, mode=Mode.TREE, jobs=1)
    full = scan(config, rules(), Matcher(rules(), "python"))
    assert [f.rule_id for f in full.findings] == ["openai.project-key"]
    text = render_baseline(
        create_baseline(full.findings, full.scan.mode, live_map(full), config.fingerprint_key)
    )
    head = str(b.commit({".keysweep-baseline.json": text.encode()}, parents=[leak], ref="refs/heads/pr"))
    counted, _, own = gate(b.path, head, base, head)
    assert counted == 0 and own.stats.suppressed == {"baseline": 1}
    counted, changed, _ = gate(b.path, base, base, head)
    assert counted == 1
    assert changed == (".keysweep-baseline.json",)


def test_read_at_commit(repo: tuple[RepoBuilder, str]) -> None:
    b, base = repo
    assert read_at_commit(open_target(b.path), base, ".keysweep.toml") == BASE_CONFIG
    assert read_at_commit(open_target(b.path), base, "nope.toml") is None
    assert read_at_commit(open_target(b.path), base, "app.py") == b"print(1)\n"
    with pytest.raises(ScanError, match="fetch-depth: 0"):
        read_at_commit(open_target(b.path), "0" * 40, ".keysweep.toml")


def test_no_config_at_the_trusted_commit(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    base = str(b.commit({"app.py": b"x\n"}))
    head = str(b.commit({".keysweep.toml": b'fail-on = "none"\n'}))
    t = read_trusted(open_target(b.path).trusting(base), rules(), scanned=head)
    assert (t.settings, t.baseline, t.changed) == (None, None, (".keysweep.toml",))
    assert resolve_config(Request(b.path), rules(), ConfigFiles(t.settings, t.baseline)).fail_on is not None


def test_bad_config_at_the_trusted_commit_names_the_commit(tmp_path: Path) -> None:
    from scanner.errors import ConfigError

    b = RepoBuilder(tmp_path / "repo")
    base = str(b.commit({".keysweep.toml": b'fail-on = "high"\n[[allow]]\npaths = ["x["]\nreason = "r"\n'}))
    with pytest.raises(ConfigError) as e:
        read_trusted(open_target(b.path).trusting(base), rules())
    assert str(e.value).startswith(f"{base[:12]}:.keysweep.toml:3: allow[0].paths[0]: bad glob")
    assert json.dumps(str(e.value))  # a plain message
