"""The saved scan state (docs/state.md): `scan --state S` then `report S` writes the very files the
scan wrote; a state holds no secret; a damaged, foreign or stale state is exit 2 naming the file and
why; weak secrets keep a group that a merge can fold across runs under the organisation's key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pygit2
import pytest

import scanner
from scanner import cli
from scanner.findings import weak_group_key, weak_key_id
from scanner.output.console import render_console
from scanner.output.json import render_json
from scanner.output.sarif import render_sarif
from scanner.output.summary import render_summary
from scanner.state import RunSettings, SavedState, WeakGroups, read_state, render_state
from tests.keys import leak_windows, make_key, rule
from tests.output_fixtures import RULES, check_golden
from tests.repo_builder import RepoBuilder
from tests.summary_cases import cases

CONFIG = """\
disable-rules = ["anthropic.api-key"]

[[allow]]
paths = ["tests/fixtures/**"]
reason = "revoked sample keys"
"""
ORG_KEY = "org-grouping-key-" + "0123456789"  # not key-shaped: a test's organisation key


def _planted() -> dict[str, str]:
    return {
        "removed": make_key(seed=41),
        "at-head": make_key(seed=42),
        "fixture": make_key(seed=43),
        "pragma": make_key(seed=44),
        "message": make_key(seed=45),
        "baselined": make_key(seed=46),
        "untracked": make_key(seed=47),
        "disabled": make_key("anthropic.api-key", seed=48),
        "weak": make_key("database.connection-url", seed=49),
    }


@pytest.fixture
def history(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """A repository with committed, removed, weak, exposure, suppressed, baselined, message and
    untracked findings, and a baseline of its first commit."""
    keys = _planted()
    b = RepoBuilder(tmp_path / "repo")
    b.commit(
        {
            ".keysweep.toml": CONFIG.encode(),
            "old.env": f"OPENAI_API_KEY={keys['baselined']}\n".encode(),
            "config/.env": f"OPENAI_API_KEY={keys['removed']}\n".encode(),
            "claude.env": f"ANTHROPIC_API_KEY={keys['disabled']}\n".encode(),
        }
    )
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    base = tmp_path / "baseline.json"
    assert cli.main(["baseline", "create", str(b.path), "--output", str(base), "--jobs", "1"]) == 0
    b.commit(
        {
            "src/app.py": f'KEY = "{keys["at-head"]}"\n'.encode(),
            "tests/fixtures/sample.env": f"OPENAI_API_KEY={keys['fixture']}\n".encode(),
            "src/demo.py": f'DEMO = "{keys["pragma"]}"  # keysweep:allow documented example\n'.encode(),
            "deploy/a.env": f"DATABASE_URL={keys['weak']}\n".encode(),
            "deploy/b.env": f"DATABASE_URL={keys['weak']}\n".encode(),
            "web/client.js": b"const c = new OpenAI({ apiKey: k, dangerouslyAllowBrowser: true });\n",
        },
        message=f"add the app\n\nOPENAI_API_KEY={keys['message']}\n",
    )
    b.commit({"config/.env": None})
    b.tag("v1", b.repo.head.target)
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (b.path / "notes.txt").write_text(f"OPENAI_API_KEY={keys['untracked']}\n")
    return b.path, base, keys


def _scan(repo: Path, base: Path, out: Path, *extra: str) -> int:
    return cli.main(
        [
            "scan",
            str(repo),
            "--jobs",
            "1",
            "--baseline",
            str(base),
            "--state",
            str(out / "scan.state"),
            "--sarif",
            str(out / "a.sarif"),
            "--json",
            str(out / "b.json"),
            "--summary",
            str(out / "c.md"),
            *extra,
        ]
    )


def test_report_writes_the_files_the_scan_wrote(
    history: tuple[Path, Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, base, _ = history
    code = _scan(repo, base, tmp_path)
    console = capsys.readouterr().out
    assert code == 1
    doc = json.loads((tmp_path / "b.json").read_text())
    # the fixture holds every kind the state must carry
    findings = doc["findings"]
    assert any(f["kind"] == "exposure" for f in findings)
    weak = [f for f in findings if f["rule_id"] == "database.connection-url"]
    assert len(weak) == 1 and weak[0]["secret_sha256"] is None and weak[0]["locations_total"] == 2
    assert {f["suppression"]["kind"] for f in doc["suppressed"]} == {"allowlist", "pragma", "disabled-rule"}
    assert any(f["baseline_state"] == "unchanged" for f in findings)
    assert {loc["source"] for f in findings for loc in f["locations"]} >= {"history", "message", "worktree"}
    assert any(f["first_seen"] and not f["present_at_head"] for f in findings)
    again = cli.main(
        [
            "report",
            str(tmp_path / "scan.state"),
            "--sarif",
            str(tmp_path / "a2.sarif"),
            "--json",
            str(tmp_path / "b2.json"),
            "--summary",
            str(tmp_path / "c2.md"),
            "--console",
        ]
    )
    assert again == code
    assert capsys.readouterr().out == console
    for first, second in (("a.sarif", "a2.sarif"), ("b.json", "b2.json"), ("c.md", "c2.md")):
        assert (tmp_path / second).read_bytes() == (tmp_path / first).read_bytes(), first
    # one format alone, the exit code the scan gave
    assert cli.main(["report", str(tmp_path / "scan.state"), "--json", str(tmp_path / "only.json")]) == 1
    assert (tmp_path / "only.json").read_bytes() == (tmp_path / "b.json").read_bytes()


def test_the_state_holds_no_secret(
    history: tuple[Path, Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, base, keys = history
    _scan(repo, base, tmp_path)
    text = (tmp_path / "scan.state").read_text()
    for name, key in keys.items():
        if name == "weak":  # a URL: its password is the secret
            secret = key.split("@")[0].rsplit(":", 1)[1]
            assert len(secret) >= 8 and not leak_windows(secret) & _windows(text), name
        else:  # the redacted preview shows the rule's prefix
            prefix = rule("anthropic.api-key" if name == "disabled" else "openai.project-key").prefix
            assert not leak_windows(key, skip=len(prefix)) & _windows(text), name
    # keysweep itself finds nothing in it
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "scan.state").write_text(text)
    capsys.readouterr()
    assert cli.main(["scan", str(alone), "--fail-on", "low", "--json", str(tmp_path / "self.json")]) == 0
    assert json.loads((tmp_path / "self.json").read_text())["findings"] == []


def _windows(text: str, width: int = 8) -> set[str]:
    return {text[i : i + width] for i in range(len(text) - width + 1)}


def test_round_trip_of_every_fixture_report_keeps_the_golden_files() -> None:
    """The codec on hand-built reports with every field in use (odd paths, origins, baselines)."""
    for name, (report, context) in cases().items():
        if name not in ("history", "incomplete", "suppressed", "failed"):
            continue
        code = context.exit_code if context.exit_code is not None else 0
        state = SavedState(
            scanner.__version__,
            _when(),
            RunSettings(context.fail_on, code, False, "0" * 16),
            WeakGroups(None),
            report,
        )
        back = read_state(render_state(state).encode(), name, scanner.__version__, report.ruleset)
        again = back.with_rules(RULES)
        assert again == report, name
        assert back.settings.exit_code == code and back.settings.fail_on == context.fail_on
        check_golden(f"{name}.sarif.json", render_sarif(again))
        check_golden(f"{name}.report.json", render_json(again))
        check_golden(f"{name}.summary.md", render_summary(again, context))
        check_golden(f"{name}.console.txt", render_console(again, color=False))


def _when() -> datetime:
    return datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
def small_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """The state of a directory scan with one key and one weak secret."""
    d = tmp_path / "proj"
    d.mkdir()
    (d / ".env").write_text(f"OPENAI_API_KEY={make_key(seed=51)}\n")
    (d / "db.env").write_text(f"DATABASE_URL={make_key('database.connection-url', seed=52)}\n")
    state = tmp_path / "small.state"
    assert cli.main(["scan", str(d), "--state", str(state), "--fail-on", "none"]) == 0
    capsys.readouterr()
    return state


def _edit(doc: dict[str, object], path: str, value: object) -> None:
    *parents, last = path.split(".")
    node: object = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        assert isinstance(node, dict)
        node[last] = value


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        ("truncated", "damaged or truncated"),
        ("binary", "not UTF-8"),
        ("empty", "damaged or truncated"),
        ("format=other", "not a keysweep state"),
        ("version=2", "state format version 2 is unknown"),
        ("version=1.0", "state format version 1.0 is unknown"),
        ("keysweep=0.0.1", "written by keysweep 0.0.1"),
        ("ruleset=ffffffffffffffff", "made with ruleset ffffffffffffffff"),
        ("report.findings.0.locations.0.position.line=7.5", "position.line: expected an integer"),
        ("report.findings.0.severity=dire", "'dire' is not one of"),
        ("report.findings.0.secret_sha256=not-a-digest", "not a hex digest"),
        ("report.findings.0.extra=1", "unknown field 'extra'"),
        ("report.stats.files=-1", "cannot be negative"),
        ("settings.exit_code=2", "not an exit code"),
        ("scanned_at=yesterday", "not a UTC time"),
        ("weak_groups.mergeable=true", "contradicts key_id"),
        ("report=[]", "expected an object"),
    ],
)
def test_a_bad_state_is_exit_2_naming_the_file_and_why(
    small_state: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str, why: str
) -> None:
    raw = small_state.read_bytes()
    bad = tmp_path / "bad.state"
    if damage == "truncated":
        bad.write_bytes(raw[: len(raw) // 2])
    elif damage == "binary":
        bad.write_bytes(b"\xff\xfe" + raw)
    elif damage == "empty":
        bad.write_bytes(b"")
    else:
        doc = json.loads(raw)
        path, value = damage.split("=", 1)
        try:
            parsed: object = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        _edit(doc, path, parsed)
        bad.write_text(json.dumps(doc))
    out = tmp_path / "never.json"
    assert cli.main(["report", str(bad), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and why in err, err
    assert not out.exists()


def test_a_missing_state_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", str(tmp_path / "none.state")]) == 2
    assert "none.state" in capsys.readouterr().err


def _weak(state: Path) -> tuple[dict[str, object], dict[str, object]]:
    doc = json.loads(state.read_text())
    (weak,) = [f for f in doc["report"]["findings"] if f["rule_id"] == "database.connection-url"]
    return doc["weak_groups"], weak


def _scan_weak(tmp_path: Path, name: str, url: str, config: str = "") -> Path:
    d = tmp_path / name
    d.mkdir()
    (d / f"{name}.env").write_text(f"DATABASE_URL={url}\n")
    if config:
        (d / ".keysweep.toml").write_text(config)
    state = tmp_path / f"{name}.state"
    assert cli.main(["scan", str(d), "--state", str(state), "--fail-on", "none"]) == 0
    return state


def test_weak_groups_survive_across_runs_under_the_organisation_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib
    import hmac

    url = make_key("database.connection-url", seed=61)  # the rule's secret is the whole URL
    # no key: grouped under a per-run key that is never written, and the state says so
    groups, weak = _weak(_scan_weak(tmp_path, "plain", url))
    assert groups == {"key_id": None, "mergeable": False} and weak["weak_group"] is None
    # the organisation's key from the environment: two runs, two repositories, one group
    monkeypatch.setenv("KEYSWEEP_FINGERPRINT_KEY", ORG_KEY)
    groups1, weak1 = _weak(_scan_weak(tmp_path, "one", url))
    groups2, weak2 = _weak(_scan_weak(tmp_path, "two", url))
    assert groups1 == groups2 == {"key_id": weak_key_id(weak_group_key(ORG_KEY.encode())), "mergeable": True}
    assert weak1["weak_group"] == weak2["weak_group"]
    # it is the keyed HMAC of the value: nothing a dictionary of passwords reverses without the key
    want = hmac.new(weak_group_key(ORG_KEY.encode()), url.encode(), hashlib.sha256).hexdigest()
    assert weak1["weak_group"] == want != hashlib.sha256(url.encode()).hexdigest()
    # another value, another group; another key, another group and key id
    _, other = _weak(_scan_weak(tmp_path, "other", make_key("database.connection-url", seed=62)))
    assert other["weak_group"] != weak1["weak_group"]
    monkeypatch.setenv("KEYSWEEP_FINGERPRINT_KEY", ORG_KEY + "-rotated")
    groups3, weak3 = _weak(_scan_weak(tmp_path, "three", url))
    assert groups3["key_id"] != groups1["key_id"] and weak3["weak_group"] != weak1["weak_group"]
    # the config's fingerprint-key groups them too (the environment's secret wins over it)
    monkeypatch.delenv("KEYSWEEP_FINGERPRINT_KEY")
    groups4, weak4 = _weak(_scan_weak(tmp_path, "four", url, f'fingerprint-key = "{ORG_KEY}"\n'))
    assert groups4 == groups1 and weak4["weak_group"] == weak1["weak_group"]
    # the published fingerprint does not depend on the grouping key
    assert weak4["fingerprint"] != weak1["fingerprint"]  # the config's key changes it, as before
    assert weak1["fingerprint"] == weak["fingerprint"] == weak3["fingerprint"]


def test_a_short_organisation_key_is_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KEYSWEEP_FINGERPRINT_KEY", "short")
    (tmp_path / "a.txt").write_text("nothing\n")
    assert cli.main(["scan", str(tmp_path), "--state", str(tmp_path / "s.state")]) == 2
    assert "KEYSWEEP_FINGERPRINT_KEY" in capsys.readouterr().err


ACME = """\
[[rules]]
provider = "acme"
id = "acme.api-token"
name = "Acme API token"
pattern = '(?P<secret>acme_tok_[A-Za-z0-9]{32})'
max_length = 41
keywords = ["acme_tok_"]
severity = "high"
confidence = "high"
prefix = "acme_tok_"
examples = ["acme_tok_{alnum:32}"]
"""


def test_a_config_with_its_own_rules_is_named_and_needed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import random

    from scanner.rules.templates import expand

    d = tmp_path / "proj"
    d.mkdir()
    (d / "acme.toml").write_text(ACME)
    (d / "a.env").write_text(f"ACME={expand('acme_tok_{alnum:32}', random.Random(7))}\n")
    state, first, again = tmp_path / "s.state", tmp_path / "a.sarif", tmp_path / "b.sarif"
    config = ["--config", str(d / "acme.toml")]
    assert cli.main(["scan", str(d), *config, "--state", str(state), "--sarif", str(first)]) == 1
    capsys.readouterr()
    assert cli.main(["report", str(state), "--sarif", str(again)]) == 2
    err = capsys.readouterr().err
    assert str(state) in err and "acme.api-token" in err and "--config" in err, err
    assert cli.main(["report", str(state), *config, "--sarif", str(again)]) == 1
    assert again.read_bytes() == first.read_bytes()


def test_a_failed_scan_saves_a_failed_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state, first, again = tmp_path / "s.state", tmp_path / "a.json", tmp_path / "b.json"
    missing = str(tmp_path / "missing")
    assert cli.main(["scan", missing, "--state", str(state), "--json", str(first)]) == 3
    assert cli.main(["report", str(state), "--json", str(again)]) == 3
    assert again.read_bytes() == first.read_bytes()
    assert json.loads(again.read_text())["status"] == "failed"


def test_the_codec_writes_every_field_of_the_model() -> None:
    """A field added to the model must be added to the state too, or `report` would lose it."""
    from dataclasses import fields

    from scanner.model import Finding, Location, Report
    from scanner.state.codec import encode_finding, encode_report

    report = cases()["history"][0]
    finding = report.findings[0]
    derived = {f.name for f in fields(Report) if not f.init}  # computed from the others (`active`)
    assert set(encode_report(report)) | {"ruleset", "rules"} == {f.name for f in fields(Report)} - derived
    assert set(encode_finding(finding)) == {f.name for f in fields(Finding)}
    located = encode_finding(finding)["locations"]
    assert isinstance(located, list)
    assert set(located[0]) == {f.name for f in fields(Location)}
