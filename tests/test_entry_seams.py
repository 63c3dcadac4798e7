"""The entry points' seams (issue 23): the CLI and the Action resolve their config once, through
`config.resolve_config`; the Action decides its gate once and renders each output once; the CLI's
output options and writes come from the format registry, so a format added there is an option."""

from __future__ import annotations

import dataclasses
import io
import json
import pickle
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scanner import cli, outcome
from scanner.config import Request, ScanConfig
from scanner.github import entry as action
from scanner.model import Severity
from scanner.output import formats
from scanner.output.formats import FILE_FORMATS, Format
from tests.action_runner import Planted, assert_no_leak, pull_request_job, pull_request_payload
from tests.keys import make_key
from tests.output_fixtures import history_report, suppressed_report
from tests.repo_builder import RepoBuilder

Calls = Counter[str]


def _count(monkeypatch: pytest.MonkeyPatch, calls: Calls) -> None:
    """Count resolve_config (as both entry points call it), the gate and each format rendered."""

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(cli, "resolve_config", counting("resolve", cli.resolve_config))
    monkeypatch.setattr(action, "resolve_config", counting("resolve", action.resolve_config))
    monkeypatch.setattr(outcome, "gate", counting("gate", outcome.gate))
    monkeypatch.setattr(cli, "gate", counting("gate", cli.gate))
    renderer = formats.renderer
    monkeypatch.setattr(formats, "renderer", lambda name: counting(f"render {name}", renderer(name)))


def test_an_action_pull_request_run_resolves_gates_and_renders_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = {"key": Planted.of("openai.project-key", make_key("openai.project-key", seed=71))}
    b = RepoBuilder(tmp_path / "origin")
    base = b.commit({"README.md": b"app\n"})
    head = b.commit({"src/.env": planted["key"].line("OPENAI_API_KEY")}, ref="refs/heads/feature")
    runner, merge = pull_request_job(b, tmp_path, 3, str(base), str(head))
    env, output = runner.env(
        "pull_request", pull_request_payload(3, base=str(base), head=str(head)), merge, "refs/pull/3/merge"
    )
    calls: Calls = Counter()
    _count(monkeypatch, calls)
    out, err = io.StringIO(), io.StringIO()
    code = action.run_action(env, out, err)
    assert code == 1, err.getvalue()
    assert calls == {
        "resolve": 1,
        "gate": 1,  # the range's; the tree beside it is not gated again
        "render console": 1,
        "render annotations": 1,
        "render summary": 1,
    }
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.count("# keysweep") == 1 and "`keysweep/tree`" in summary  # the plan's category
    assert output.read_text().count("status<<") == 1
    sarif = json.loads((runner.workspace / "keysweep.sarif").read_text())
    assert sarif["runs"][0]["automationDetails"] == {"id": "keysweep/tree/"}
    assert_no_leak(planted, {"stdout": out.getvalue(), "stderr": err.getvalue(), "summary": summary})


def test_a_failed_range_writes_the_tree_sarif_failed_in_the_one_verdict() -> None:
    """The gate's failure and the SARIF file it leaves are one decision (no swap afterwards)."""
    report = history_report()
    the_range = dataclasses.replace(
        report, scan=dataclasses.replace(report.scan, mode="range"), status="failed", error="boom"
    )
    tree = dataclasses.replace(report, scan=dataclasses.replace(report.scan, mode="tree"))
    verdict = outcome.judge(the_range, tree, Severity.HIGH, True, report.rules)
    assert verdict.code == outcome.EXIT_FAILED
    assert verdict.written.status == "failed" and verdict.written.scan == tree.scan
    assert verdict.written.error == "the range scan failed: boom"
    passed = outcome.judge(dataclasses.replace(the_range, status="ok", error=None), tree, None, True, ())
    assert passed.code == outcome.EXIT_OK and passed.written is tree


def test_a_cli_scan_resolves_once_and_writes_through_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / ".env").write_text(f"OPENAI_API_KEY={make_key(seed=72)}\n")
    calls: Calls = Counter()
    _count(monkeypatch, calls)
    outs = {name: tmp_path / f"out.{name}" for name in ("sarif", "json", "summary")}
    argv = ["scan", str(tmp_path / "src"), *(a for n, p in outs.items() for a in (f"--{n}", str(p)))]
    assert cli.main(argv) == 1, capsys.readouterr().err
    assert calls == {
        "resolve": 1,
        "gate": 1,
        "render sarif": 1,
        "render json": 1,
        "render summary": 1,
        "render console": 1,
    }
    assert json.loads(outs["json"].read_text())["findings"]
    assert "The check fails" in outs["summary"].read_text()


def test_a_format_added_to_the_registry_is_a_cli_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = Format("copy", "json", "--copy", "the JSON report again, under another name")
    monkeypatch.setattr(cli, "FILE_FORMATS", (*FILE_FORMATS, extra))
    monkeypatch.setattr(formats, "BY_NAME", {**formats.BY_NAME, "copy": extra})
    (tmp_path / "a.txt").write_text("hello\n")
    assert cli.main(["scan", str(tmp_path), "--copy", str(tmp_path / "c.json")]) == 0
    assert json.loads((tmp_path / "c.json").read_text())["status"] == "ok"
    assert cli.main(["scan", str(tmp_path), "--json", "-", "--copy", "-"]) == 2
    assert "only one of --sarif, --json, --summary, --html and --copy can write" in capsys.readouterr().err


def test_the_resolved_config_is_frozen_and_one_per_run(tmp_path: Path) -> None:
    """`in_mode` gives the run's other scan the same resolved values (no field is copied by hand)."""
    from scanner.config import Mode, resolve_config
    from tests.keys import rules

    config = resolve_config(Request(tmp_path, fail_on="medium", strict=True, suppress=False), rules())
    tree = config.in_mode(Mode.TREE)
    assert dataclasses.replace(tree, mode=config.mode) == config
    assert config.in_mode(Mode.RANGE, "a..b").range_expr == "a..b" and tree.range_expr is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.fail_on = None  # type: ignore[misc]
    assert config.rules == tuple(sorted(rules(), key=lambda r: r.id)) and not config.policy.suppress
    assert isinstance(config, ScanConfig) and config.fail_on is Severity.MEDIUM


def test_the_report_carries_its_active_findings() -> None:
    report = suppressed_report()
    baselined = tuple(f for f in report.findings if f.suppression is not None)
    assert baselined and report.active == tuple(f for f in report.findings if f.suppression is None)
    assert dataclasses.replace(report, findings=baselined).active == ()  # recomputed, never stale
    assert pickle.loads(pickle.dumps(report)).active == report.active
