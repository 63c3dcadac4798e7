"""Repositories and runs the Action tests share: a pull request whose change edits the trusted
config, and one pull request run as every event (the README workflows run it too)."""

from __future__ import annotations

from pathlib import Path

import pygit2

from tests.action_runner import (
    Planted,
    Run,
    Runner,
    plant_key,
    pull_request_job,
    pull_request_payload,
    push_payload,
    run_entrypoint,
    schedule_payload,
)
from tests.repo_builder import RepoBuilder


def config_pr(
    tmp_path: Path, base_config: bytes | None, pr_config: bytes | None
) -> tuple[Runner, dict[str, str], dict[str, Planted]]:
    """main: c0 (maybe a config) → c1; the pull request f1 adds a critical key and maybe edits the config."""
    keys = {"crit": plant_key("anthropic.admin-key", 4), "high": plant_key("openai.project-key", 5)}
    b = RepoBuilder(tmp_path / "origin")
    c: dict[str, str] = {}
    files: dict[str | bytes, bytes | None] = {"README.md": b"app\n"}
    if base_config is not None:
        files[".keysweep.toml"] = base_config
    c["c0"] = str(b.commit(files))
    change: dict[str | bytes, bytes | None] = {
        "app/.env": keys["crit"].line("ANTHROPIC_ADMIN_KEY"),
        "fixtures/k.py": b"KEY = '" + keys["high"].secret.encode() + b"'\n",
    }
    if pr_config is not None:
        change[".keysweep.toml"] = pr_config
    c["f1"] = str(b.commit(change, ref="refs/heads/feature", parents=[pygit2.Oid(hex=c["c0"])]))
    runner, c["merge"] = pull_request_job(b, tmp_path, 8, c["c0"], c["f1"])
    return runner, c, keys


ALLOW_ALL = b'[[allow]]\npaths = ["**"]\nreason = "nothing to see"\n'


Scenario = tuple[Runner, dict[str, str], dict[str, Planted]]


def pr_scenario(tmp_path: Path) -> Scenario:
    """main: c0 (an old key in old/.env) → c1; feature from c1: f1 adds a critical key in app/.env
    and a key in tmp/scratch.env, f2 adds a key on line 3 of src/client.py and deletes
    tmp/scratch.env; refs/pull/7/merge joins c1 and f2 and is checked out."""
    keys = {
        "base": plant_key("openai.project-key", 201),
        "crit": plant_key("anthropic.admin-key", 202),
        "gone": plant_key("openai.project-key", 203),
        "high": plant_key("openai.project-key", 204),
    }
    b = RepoBuilder(tmp_path / "origin")
    c: dict[str, str] = {}
    c["c0"] = str(b.commit({"README.md": b"app\n", "old/.env": keys["base"].line("OPENAI_API_KEY")}))
    c["c1"] = str(b.commit({"README.md": b"app v2\n"}))
    c["f1"] = str(
        b.commit(
            {"app/.env": keys["crit"].line("ANTHROPIC_ADMIN_KEY"), "tmp/scratch.env": keys["gone"].line()},
            ref="refs/heads/feature",
            parents=[pygit2.Oid(hex=c["c1"])],
        )
    )
    client = b"import os\n\nKEY = '" + keys["high"].secret.encode() + b"'\n"
    c["f2"] = str(b.commit({"src/client.py": client, "tmp/scratch.env": None}, ref="refs/heads/feature"))
    runner, c["merge"] = pull_request_job(b, tmp_path, 7, c["c1"], c["f2"], "Merge f2 into c1")
    return runner, c, keys


def run_pr(scenario: Scenario, **inputs: str) -> Run:
    runner, c, keys = scenario
    payload = pull_request_payload(7, base=c["c1"], head=c["f2"], before=c["f1"])
    return run_entrypoint(
        runner, "pull_request", payload, c["merge"], "refs/pull/7/merge", keys, inputs=inputs
    )


EVENTS = {
    "pull_request": ("keysweep/tree", True),
    "push": ("keysweep/tree", True),
    "schedule": ("keysweep/history", False),
    "workflow_dispatch": ("keysweep/history", False),
    "push mode full": ("keysweep/history", False),
    "schedule mode tree": ("keysweep/tree", False),
}


def run_event(scenario: Scenario, name: str) -> Run:
    runner, c, keys = scenario
    event, _, mode = name.partition(" mode ")
    inputs = {"mode": mode} if mode else {}
    if event == "pull_request":
        return run_pr(scenario, **inputs)
    if event == "push":
        payload = push_payload("refs/heads/feature", c["c1"], c["f2"], commits=(c["f1"], c["f2"]))
        return run_entrypoint(runner, "push", payload, c["merge"], "refs/heads/feature", keys, inputs=inputs)
    payload = schedule_payload() if event == "schedule" else {"inputs": {}, "ref": "refs/heads/main"}
    return run_entrypoint(runner, event, payload, c["merge"], "refs/heads/main", keys, inputs=inputs)
