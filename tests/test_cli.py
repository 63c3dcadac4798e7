"""The command line end to end: exit codes and their precedence, outputs, and no secret in any of them."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from scanner import cli
from scanner.rules.templates import expand
from tests.keys import leak_windows, make_key

ROOT = Path(__file__).resolve().parent.parent


def run(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scanner", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def leaky(tmp_path: Path) -> tuple[Path, list[str]]:
    keys = [make_key(seed=s) for s in (101, 102)]
    d = tmp_path / "proj"
    d.mkdir()
    (d / ".env").write_text(f"OPENAI_API_KEY={keys[0]}\n")
    (d / "config.json").write_text(json.dumps({"openai": {"key": keys[1]}}) + "\n")
    return d, keys


def test_clean_directory_exits_0(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    p = run("scan", str(tmp_path))
    assert p.returncode == 0, p.stderr
    assert "0 findings" in p.stdout or "no findings" in p.stdout.lower()


def test_findings_exit_1_and_fail_on_none_exit_0(leaky: tuple[Path, list[str]]) -> None:
    d, _ = leaky
    assert run("scan", str(d)).returncode == 1
    assert run("scan", str(d), "--fail-on", "critical").returncode == 0  # project keys are high
    assert run("scan", str(d), "--fail-on", "none").returncode == 0
    assert run("scan", str(d), "--fail-on", "low").returncode == 1


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("scan", "--no-such-flag").returncode == 2
    assert run("scan", str(tmp_path), "--fail-on", "severe").returncode == 2
    assert run("scan", str(tmp_path), "--jobs", "-1").returncode == 2
    assert run("frobnicate").returncode == 2
    p = run("scan", str(tmp_path), env={"KEYSWEEP_ENGINE": "regex9"})
    assert p.returncode == 2 and "KEYSWEEP_ENGINE" in p.stderr


def test_unreadable_target_exits_3_with_failed_reports(tmp_path: Path) -> None:
    out_json, out_sarif, out_md = tmp_path / "r.json", tmp_path / "r.sarif", tmp_path / "r.md"
    p = run(
        "scan",
        str(tmp_path / "missing"),
        "--json",
        str(out_json),
        "--sarif",
        str(out_sarif),
        "--summary",
        str(out_md),
    )
    assert p.returncode == 3
    summary = out_md.read_text()
    assert summary.startswith("## keysweep: the scan failed\n") and "does not exist" in summary
    assert "does not exist" in p.stderr
    assert json.loads(out_json.read_text())["status"] == "failed"
    sarif = json.loads(out_sarif.read_text())
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False
    assert sarif["runs"][0]["results"] == []


def test_crash_is_exit_3_not_1(
    monkeypatch: pytest.MonkeyPatch, leaky: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexpected error anywhere in the scan is exit 3, and its message cannot quote scanned data."""
    d, keys = leaky

    def boom(*_a: object, **_k: object) -> object:
        raise ValueError(f"bad value {keys[0]}")

    monkeypatch.setattr("scanner.pipeline.build_findings", boom)
    assert cli.main(["scan", str(d), "--jobs", "1"]) == 3
    err = capsys.readouterr().err
    assert "internal error (ValueError)" in err
    assert not any(w in err for w in leak_windows(keys[0], skip=8))


def test_usage_beats_scan_failure(tmp_path: Path) -> None:
    """Precedence 2 > 3: a bad flag on a missing target is a usage error."""
    assert run("scan", str(tmp_path / "missing"), "--fail-on", "bogus").returncode == 2


def test_summary_flag_writes_the_job_summary(leaky: tuple[Path, list[str]], tmp_path: Path) -> None:
    d, _ = leaky
    out = tmp_path / "summary.md"
    p = run("scan", str(d), "--summary", str(out))
    assert p.returncode == 1
    text = out.read_text()
    assert text.startswith("## keysweep: 2 findings in the directory\n")
    assert "The check fails: findings at or above high (exit 1)." in text
    assert "| openai | 0 | 2 | 0 | 0 | 2 |" in text
    p = run("scan", str(d), "--summary", "-", "--fail-on", "none")
    assert p.returncode == 0 and p.stdout == text.replace(
        "The check fails: findings at or above high (exit 1).",
        "No gate: --fail-on none, so no finding fails the check (exit 0).",
    )
    assert "OpenAI" in p.stderr  # the console report moves to stderr
    p = run("scan", str(d), "--summary", "-", "--json", "-")
    assert p.returncode == 2 and "only one of --sarif, --json, --summary and --html" in p.stderr
    p = run("scan", str(d), "--summary", str(out), "--sarif", str(out))
    assert p.returncode == 2 and "must name different files" in p.stderr


def test_a_key_id_alone_is_low_and_every_output_says_why(tmp_path: Path) -> None:
    r = random.Random(7)
    akid = expand("ASIA{base32:16}", r)
    d = tmp_path / "proj"
    d.mkdir()
    url = (
        f"https://b.s3.amazonaws.com/r.csv?X-Amz-Credential={akid}%2F20260101%2Fus-east-1%2Fs3"
        f"%2Faws4_request&X-Amz-Signature={expand('{hex:64}', r)}"
    )
    (d / "qa.jsonl").write_text(json.dumps({"url": url}) + "\n")
    (d / "credentials").write_text(
        f"[default]\naws_access_key_id = {expand('AKIA{base32:16}', r)}\n"
        f"aws_secret_access_key = {expand('{b64:40}', r)}\n"
    )
    js, sarif = tmp_path / "o.json", tmp_path / "o.sarif"
    p = run("scan", str(d), "--json", str(js), "--sarif", str(sarif), "--fail-on", "critical")
    assert p.returncode == 1, p.stderr  # the pair is critical; the ID alone is not
    ids = {
        f["locations"][0]["path"]: f
        for f in json.loads(js.read_text())["findings"]
        if f["rule_id"] == "aws.access-key-id"
    }
    alone, paired = ids["qa.jsonl"], ids["credentials"]
    assert alone["severity"] == "low" and "not a credential" in alone["severity_reason"]
    assert paired["severity"] == "critical" and paired["severity_reason"] is None
    results = [
        x for x in json.loads(sarif.read_text())["runs"][0]["results"] if x["ruleId"] == "aws.access-key-id"
    ]
    low = next(x for x in results if x["level"] == "note")
    assert low["properties"]["keysweep/severity_reason"] == alone["severity_reason"]
    assert "Severity low: An access key ID alone is not a credential" in low["message"]["text"]
    high = next(x for x in results if x["level"] == "error")
    assert "keysweep/severity_reason" not in high["properties"]
    assert "Severity" not in high["message"]["text"]
    assert p.stdout.count("why low") == 1 and "not a credential" in p.stdout
    assert akid not in p.stdout + js.read_text() + sarif.read_text()


def test_no_output_holds_the_secret(leaky: tuple[Path, list[str]], tmp_path: Path) -> None:
    d, keys = leaky
    js, sarif, md = tmp_path / "o.json", tmp_path / "o.sarif", tmp_path / "o.md"
    p1 = run("scan", str(d), "--json", str(js), "--sarif", str(sarif), "--summary", str(md))
    p2 = run("scan", str(d), "--json", "-")  # console report goes to stderr then
    p3 = run("rules")
    assert p1.returncode == 1 and p2.returncode == 1
    outputs = {
        "stdout": p1.stdout,
        "stderr": p1.stderr,
        "json": js.read_text(),
        "sarif": sarif.read_text(),
        "summary": md.read_text(),
        "stdout2": p2.stdout,
        "stderr2": p2.stderr,
        "rules": p3.stdout,
    }
    assert json.loads(p2.stdout)["findings"], "JSON on stdout"
    assert "OpenAI" in p2.stderr, "console report on stderr when stdout carries JSON"
    for k in keys:
        windows = leak_windows(k, skip=len("sk-proj-"))
        for name, text in outputs.items():
            leaked = [w for w in windows if w in text]
            assert not leaked, f"{name} holds part of a secret"


def test_rules_command_lists_every_rule() -> None:
    from tests.keys import rules

    p = run("rules", "--json")
    assert p.returncode == 0
    listed = {r["id"] for r in json.loads(p.stdout)}
    assert listed == {r.id for r in rules()}


def test_readme_rule_table_is_current() -> None:
    """README.md embeds the generated rule table between markers; regenerate with `make readme`."""
    from scanner.output.ruletable import render_markdown
    from tests.keys import rules

    text = (ROOT / "README.md").read_text()
    begin, end = "<!-- rules:begin -->\n", "<!-- rules:end -->"
    assert begin in text and end in text
    embedded = text.split(begin, 1)[1].split(end, 1)[0]
    assert embedded == render_markdown(rules()), "run `make readme` to regenerate the rule table"


@pytest.mark.parametrize("mode", [[], ["--no-history"]], ids=["full-sweep", "tree"])
def test_self_scan_is_clean(mode: list[str]) -> None:
    """The project — its whole history, and its tree — scans clean with no path allowlist, and
    content was really scanned."""
    p = run("scan", str(ROOT), *mode, "--json", "-", "--fail-on", "low")
    rep = json.loads(p.stdout)
    assert rep["findings"] == [], [(f["rule_id"], f["locations"][0]["path"]) for f in rep["findings"]]
    assert p.returncode == 0
    assert rep["stats"]["blobs"] + rep["stats"]["files"] >= 30
    assert rep["stats"]["bytes_scanned"] > 100_000
    if mode:
        assert rep["stats"]["skipped"].get("excluded", {}).get("count", 0) >= 1  # .git/ at least
    else:
        assert rep["scan"]["mode"] == "history" and rep["stats"]["commits"] >= 1
