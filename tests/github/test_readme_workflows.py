"""The README's ready workflows: each is parsed out of the README, checked for what GitHub needs
(permissions, checkout depth, the upload step's guard and `continue-on-error`, the build before
the scan, the cache for `cache-dir`), and its keysweep step's `with:` inputs are run through
`entrypoint.sh` as the runner would run them, on the event the workflow is for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.action_runner import (
    ROOT,
    Run,
    Runner,
    action_inputs,
    evaluate,
    pull_request_payload,
    push_payload,
    run_entrypoint,
    schedule_payload,
)
from tests.action_scenarios import Scenario, pr_scenario, run_event

README = ROOT / "README.md"
NAMES = ("pr-gate", "push", "nightly")
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def workflow(name: str) -> dict[str, Any]:
    text = README.read_text(encoding="utf-8")
    marker = f"<!-- workflow:{name} -->\n```yaml\n"
    assert text.count(marker) == 1, f"README.md lacks the {name} workflow"
    block = text.split(marker, 1)[1].split("\n```\n", 1)[0]
    doc: dict[str, Any] = yaml.safe_load(block)
    return doc


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    on = doc.get("on", doc.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(on, dict)
    return on


def steps(doc: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = doc["jobs"].values()
    found: list[dict[str, Any]] = job["steps"]
    return found


def step_index(doc: dict[str, Any], uses: str) -> int:
    (index,) = [i for i, s in enumerate(steps(doc)) if str(s.get("uses", "")).startswith(uses)]
    return index


def keysweep_step(doc: dict[str, Any]) -> dict[str, Any]:
    return steps(doc)[step_index(doc, "keysweep/keysweep@")]


def inputs_of(doc: dict[str, Any], runner: Runner) -> dict[str, str]:
    """The keysweep step's `with:`, every value evaluated as the runner evaluates it."""
    given = keysweep_step(doc).get("with") or {}
    declared = action_inputs()
    assert set(given) <= set(declared), f"inputs the action does not have: {set(given) - set(declared)}"
    contexts = {
        "github": {"workspace": str(runner.workspace), "run_id": "4242"},
        "runner": {"temp": str(runner.temp)},
    }
    return {name: evaluate(value, contexts) for name, value in given.items()}


@pytest.mark.parametrize("name", NAMES)
def test_workflow_is_what_github_needs(name: str) -> None:
    doc = workflow(name)
    permissions = doc.get("permissions") or next(iter(doc["jobs"].values())).get("permissions")
    assert permissions == {"contents": "read", "security-events": "write"}
    checkout = steps(doc)[step_index(doc, "actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0 and checkout["with"]["persist-credentials"] is False
    scan = step_index(doc, "keysweep/keysweep@")
    assert step_index(doc, "actions/checkout@") < scan
    step_id = keysweep_step(doc)["id"]
    upload_at = step_index(doc, "github/codeql-action/upload-sarif@v4")
    upload = steps(doc)[upload_at]
    assert upload_at > scan
    assert upload["continue-on-error"] is True  # repositories without code scanning
    assert upload["with"] == {"sarif_file": f"${{{{ steps.{step_id}.outputs.sarif-file }}}}"}
    condition = _EXPRESSION.fullmatch(upload["if"])
    assert condition is not None
    assert condition.group(1) == f"!cancelled() && steps.{step_id}.outputs.status == 'ok'"
    for other in steps(doc):  # nothing in `with:` is an option, and no secret is handed over
        assert "secrets." not in yaml.safe_dump(other)


def test_the_pull_request_gate_builds_first() -> None:
    doc = workflow("pr-gate")
    assert set(triggers(doc)) == {"pull_request"}
    builds = [i for i, s in enumerate(steps(doc)) if "build" in str(s.get("run", ""))]
    assert builds and builds[0] < step_index(doc, "keysweep/keysweep@")
    assert keysweep_step(doc)["with"]["bundles"] == "dist"  # what the build wrote is scanned in the same job


def test_the_push_check_runs_on_the_default_branch() -> None:
    assert triggers(workflow("push")) == {"push": {"branches": ["main"]}}


def test_the_nightly_sweep_keeps_its_cache() -> None:
    doc = workflow("nightly")
    on = triggers(doc)
    assert set(on) == {"schedule", "workflow_dispatch"}
    (cron,) = on["schedule"]
    assert len(cron["cron"].split()) == 5
    cache = steps(doc)[step_index(doc, "actions/cache@")]
    assert step_index(doc, "actions/cache@") < step_index(doc, "keysweep/keysweep@")
    with_ = keysweep_step(doc)["with"]
    assert cache["with"]["path"] == with_["cache-dir"]
    assert cache["with"]["restore-keys"] and cache["with"]["key"].startswith(cache["with"]["restore-keys"])
    assert with_["mode"] == "full"
    # one directory for both: actions/cache resolves the path against the host's workspace, the
    # action against the container's (/github/workspace); an expression such as runner.temp is
    # the host's path, which the container does not have
    path = Path(with_["cache-dir"])
    assert not _EXPRESSION.search(with_["cache-dir"]) and not path.is_absolute() and ".." not in path.parts
    assert path.parts[0] == ".git"  # never read as a working-tree file: the scan ignores it


def test_the_nightly_sweep_keeps_its_html_report() -> None:
    """The HTML report is written where the artifact step, after the scan, looks for it; the step
    runs whatever the verdict (a failed run's page says why), never when cancelled."""
    doc = workflow("nightly")
    html = keysweep_step(doc)["with"]["html-file"]
    path = Path(html)
    assert not _EXPRESSION.search(html) and not path.is_absolute() and ".." not in path.parts
    upload_at = step_index(doc, "actions/upload-artifact@")
    assert upload_at > step_index(doc, "keysweep/keysweep@")
    upload = steps(doc)[upload_at]
    assert upload["with"]["path"] == html and upload["with"]["name"]
    condition = _EXPRESSION.fullmatch(upload["if"])
    assert condition is not None and condition.group(1) == "!cancelled()"


def expression_value(expression: str, step_id: str, run: Run) -> str:
    """`${{ steps.<id>.outputs.<name> }}` after the keysweep step ran."""
    match = re.fullmatch(rf"\$\{{\{{ steps\.{step_id}\.outputs\.([a-z-]+) \}}\}}", expression)
    assert match is not None, expression
    return run.outputs[match.group(1)]


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return pr_scenario(tmp_path)


def _run(doc: dict[str, Any], scenario: Scenario, event: str) -> Run:
    runner, c, keys = scenario
    inputs = inputs_of(doc, runner)
    if "bundles" in inputs:  # what the workflow's build step leaves: an (empty) build output folder
        for d in inputs["bundles"].splitlines():
            (runner.workspace / d.strip()).mkdir(parents=True, exist_ok=True)
    if event == "pull_request":
        payload = pull_request_payload(7, base=c["c1"], head=c["f2"], before=c["f1"])
        return run_entrypoint(runner, event, payload, c["merge"], "refs/pull/7/merge", keys, inputs=inputs)
    if event == "push":
        payload = push_payload("refs/heads/main", c["c0"], c["c1"], commits=(c["c1"],))
        return run_entrypoint(runner, event, payload, c["merge"], "refs/heads/main", keys, inputs=inputs)
    payload = schedule_payload()
    return run_entrypoint(runner, event, payload, c["merge"], "refs/heads/main", keys, inputs=inputs)


@pytest.mark.parametrize(
    ("name", "event", "category", "code"),
    [
        ("pr-gate", "pull_request", "keysweep/tree/", 1),
        ("push", "push", "keysweep/tree/", 0),
        ("nightly", "schedule", "keysweep/history/", 1),
    ],
)
def test_each_workflow_runs_with_its_inputs(
    name: str, event: str, category: str, code: int, scenario: Scenario
) -> None:
    doc = workflow(name)
    run = _run(doc, scenario, event)
    assert run.code == code, run.stderr
    assert run.run["automationDetails"] == {"id": category}
    assert run.outputs["status"] == "ok"  # the upload step's condition holds
    step_id = keysweep_step(doc)["id"]
    upload = steps(doc)[step_index(doc, "github/codeql-action/upload-sarif@")]
    sarif = expression_value(upload["with"]["sarif_file"], step_id, run)
    assert (scenario[0].workspace / sarif).is_file()  # what upload-sarif is given exists
    assert run.summary.startswith("## keysweep: ")
    if name == "nightly":
        given = inputs_of(doc, scenario[0])["cache-dir"]
        cache = scenario[0].workspace / given  # where actions/cache, on the host, looks
        assert cache.is_dir() and any(cache.iterdir())  # what actions/cache keeps
        html = steps(doc)[step_index(doc, "actions/upload-artifact@")]["with"]["path"]
        page = (scenario[0].workspace / html).read_text()  # what upload-artifact is given exists
        assert page.startswith("<!DOCTYPE html>")
        assert all(result["ruleId"] in page for result in run.run["results"])  # the sweep's findings
        assert f"keysweep: history cache: none found in {given} (a first run" in run.stdout
        again = _run(doc, scenario, event)
        assert again.code == run.code and again.run["results"] == run.run["results"]
        assert "keysweep: history cache: found 1 file (" in again.stdout
        assert "keysweep: history cache: reused all of it (" in again.stdout


def test_the_gate_inputs_change_the_run(scenario: Scenario) -> None:
    """The control: the `with:` inputs really reach the action (fail-on none passes the PR)."""
    doc = workflow("pr-gate")
    keysweep_step(doc)["with"]["fail-on"] = "none"
    assert _run(doc, scenario, "pull_request").code == 0
    assert run_event(scenario, "pull_request").code == 1
