"""What a pull-request author and a security lead see from the action, end to end through
`entrypoint.sh`: the annotations (read with the runner's own parser), the job summary, the SARIF
file's category per event (and the Multitool's verdict on every one of them), and no planted
secret anywhere — with every rule's key planted at once."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.model import Kind, Report, ScanInfo, Stats
from scanner.output.sarif import render_sarif
from scanner.rules import load_rules, ruleset_hash
from scanner.rules.templates import expand
from tests.action_runner import (
    Planted,
    Run,
    pull_request_job,
    pull_request_payload,
    push_payload,
    run_entrypoint,
)
from tests.action_scenarios import EVENTS, Scenario, pr_scenario, run_event, run_pr
from tests.contexts import env_quoted
from tests.keys import leak_windows
from tests.output_fixtures import sarif_schema_errors
from tests.repo_builder import RepoBuilder
from tests.sarif_multitool import multitool_problems, run_multitool
from tests.workflow_commands import read_commands, shown_annotations


@pytest.fixture
def pr(tmp_path: Path) -> Scenario:
    return pr_scenario(tmp_path)


def annotations(run: Run) -> list[dict[str, object]]:
    commands = read_commands(run.stdout)
    assert read_commands(run.stderr) == []
    assert all(c.name in ("error", "warning", "notice") and not c.legacy for c in commands)
    assert shown_annotations(commands) == commands  # within GitHub's limits
    return [{"level": c.name, **c.properties, "message": c.data} for c in commands]


def test_pull_request_annotates_only_what_it_changed(pr: Scenario) -> None:
    c = pr[1]
    r = run_pr(pr)
    assert r.code == 1
    found = annotations(r)
    assert [a["level"] for a in found] == ["error", "error", "error"]
    by_file = {a.get("file"): a for a in found}
    assert set(by_file) == {"app/.env", "src/client.py", None}  # never old/.env: the base's key
    crit = by_file["app/.env"]
    assert crit["title"] == "keysweep: critical Anthropic Admin API key"
    assert (crit["line"], crit["endline"], crit["col"]) == ("1", "1", "21")
    assert f"Added by commit {c['f1'][:12]} at app/.env:1." in str(crit["message"])
    assert str(crit["message"]).startswith("Leaked Anthropic Admin API key sk-ant-admin01-…")
    high = by_file["src/client.py"]
    assert (high["line"], high["col"]) == ("3", "8")  # as the checked-out merge commit has it
    gone = by_file[None]
    assert "tmp/scratch.env:1" in str(gone["message"]) and "stays in the history" in str(gone["message"])
    assert all("old/.env" not in str(a["message"]) for a in found)
    assert "keysweep: critical" not in r.stdout.replace("::error", "")  # commands, not log lines


def test_pull_request_summary(pr: Scenario) -> None:
    c = pr[1]
    text = run_pr(pr).summary
    assert text.startswith("## keysweep: 3 findings in this pull request\n")
    headings = re.findall(r"^### (.+)$", text, flags=re.MULTILINE)
    assert headings == [
        "What to do first",
        "Findings by provider and severity",
        "Top findings",
        "Coverage",
        "Code scanning",
    ]
    assert "The check fails: findings at or above high (exit 1)." in text
    assert f"Scanned: pull request \\#7: base..head {c['c1'][:12]}..{c['f2'][:12]}." in text
    assert "| anthropic | 1 | 0 | 0 | 0 | 1 |" in text and "| openai | 0 | 2 | 0 | 0 | 2 |" in text
    for commit in ("f1", "f2"):
        assert f"[`{c[commit][:12]}`](https://github.com/octo/app/commit/{c[commit]})" in text
    assert f"(https://github.com/octo/app/blob/{c['f2']}/src/client.py#L3)" in text
    assert "- Annotated on the changed files: 3 findings" in text
    assert "category `keysweep/tree`, status `ok`: the checked-out commit's tree, with 3 findings" in text
    assert "[this run](https://github.com/octo/app/actions/runs/4242)" in text
    assert "1. **Revoke** the critical Anthropic Admin API key `sk-ant-admin01-…" in text


def test_a_failed_run_says_why_in_an_annotation_and_the_summary(pr: Scenario) -> None:
    runner, c, keys = pr
    payload = push_payload("refs/heads/feature", "ab" * 20, c["f2"])  # a `before` this clone lacks
    r = run_entrypoint(runner, "push", payload, c["f2"], "refs/heads/feature", keys)
    assert r.code == 3
    (failure,) = annotations(r)
    assert failure["level"] == "error" and failure["title"] == "keysweep: the scan failed"
    assert "is not in this clone" in str(failure["message"]) and "fetch-depth: 0" in str(failure["message"])
    assert r.summary.startswith("## keysweep: the scan failed\n")
    assert "Do not upload it" in r.summary


def test_sarif_categories_per_event(pr: Scenario, tmp_path: Path) -> None:
    """One category per event as ARCHITECTURE §7 fixes it; annotations only for a range; every
    SARIF file passes the schema (run_entrypoint checks) and Microsoft's Multitool."""
    written: dict[str, str] = {}
    for name, (category, annotated) in EVENTS.items():
        r = run_event(pr, name)
        assert r.code == 1, (name, r.stderr)
        run = r.run
        assert run["automationDetails"] == {"id": category + "/"}, name
        assert f"category `{category}`" in r.summary, name
        assert bool(read_commands(r.stdout)) is annotated, name
        written[name.replace(" ", "-") + ".sarif"] = r.sarif_path.read_text()
    runner, c, _ = pr
    local = tmp_path / "range.sarif"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            str(runner.workspace),
            "--range",
            f"{c['c1']}..{c['f2']}",
            "--sarif",
            str(local),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    doc = json.loads(local.read_text())
    assert doc["runs"][0]["automationDetails"] == {"id": "keysweep/range/"}  # never uploaded
    assert sarif_schema_errors(doc) == []
    written["range.sarif"] = local.read_text()
    (tmp_path / "multitool").mkdir()
    results = run_multitool(tmp_path / "multitool", written)
    assert len(results) == len(EVENTS) + 1
    assert {name: multitool_problems(found) for name, found in results.items()} == {
        name: [] for name in written
    }


# --- every rule's key at once ------------------------------------------------------------------


def planted_everything(tmp_path: Path) -> tuple[Scenario, int]:
    """A pull request whose one commit adds every secret rule's first example, each in its own
    file (an exposure rule's example is a construct, not a secret)."""
    rules = [r for r in load_rules() if r.kind is Kind.SECRET]
    b = RepoBuilder(tmp_path / "origin")
    base = b.commit({"README.md": b"app\n"})
    files: dict[str | bytes, bytes | None] = {}
    planted: dict[str, Planted] = {}
    for r in rules:
        value = expand(r.examples[0], random.Random(f"{r.id}:everything"))
        files[f"keys/{r.id}.env"] = env_quoted(r.example_name, value, (0, len(value))).data
        planted[r.id] = Planted(r.id, value, frozenset(_secret_windows(r.id, value)))
    head = b.commit(files, ref="refs/heads/feature", parents=[base])
    runner, merge = pull_request_job(b, tmp_path, 9, base, head)
    commits = {"base": str(base), "head": str(head), "merge": merge}
    return (runner, commits, planted), len(rules)


def _public_text() -> str:
    """What every report says whatever it found: the rules' names, descriptions and help, and the
    public prefixes a redacted preview shows (one rule's prefix can be another's constant part)."""
    rules = load_rules()
    empty = Report("ok", ScanInfo("tree", "/"), Stats(seconds=0.0), (), ruleset_hash(rules), rules)
    return render_sarif(empty) + "\n".join(r.prefix for r in rules)


def _secret_windows(rule_id: str, value: str) -> set[str]:
    """The windows that would show the secret: of its random part (the rule's public prefix and,
    for a PEM or key file, the armour and field names left out), and none that every report says
    anyway (a rule's own description quotes its prefix)."""
    rule = next(r for r in load_rules() if r.id == rule_id)
    if "-----BEGIN" in value:
        body = re.sub(r"-----[A-Z ]+-----|\\n|[\"{},:]", " ", value)
        parts = [p for p in re.split(r"\s+", body) if len(p) >= 12]
        windows = set().union(*(leak_windows(p) for p in parts))
    else:
        windows = leak_windows(value, skip=len(rule.prefix))
    public = _public_text()
    return {w for w in windows if w not in public}


def test_no_planted_secret_in_any_annotation_summary_sarif_or_log(tmp_path: Path) -> None:
    (runner, c, planted), rule_count = planted_everything(tmp_path)
    assert all(len(p.windows) >= 20 for p in planted.values()), [
        k for k, p in planted.items() if len(p.windows) < 20
    ]
    payload = pull_request_payload(9, base=c["base"], head=c["head"])
    r = run_entrypoint(
        runner, "pull_request", payload, c["merge"], "refs/pull/9/merge", planted
    )  # checks every text
    assert r.code == 1
    assert int(r.outputs["findings"]) >= rule_count - 5
    found = annotations(r)
    levels = [a["level"] for a in found]
    assert levels.count("error") == 10 and levels[-1] == "notice"
    assert str(found[-1]["message"]).startswith(f"{int(r.outputs['findings']) - len(found) + 1} of ")
    assert all(str(a.get("file", "keys/")).startswith("keys/") for a in found)
    assert "more findings are not in this table" in r.summary
    assert len(r.summary.encode()) < 1024 * 1024
