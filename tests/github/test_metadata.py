"""action.yml, entrypoint.sh and the README's Action tables: what GitHub reads, and that they agree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import yaml

from tests.action_runner import ACTION_YML, ENTRYPOINT, ROOT, action_inputs

GIT = shutil.which("git")


def test_action_yml_declares_what_the_action_reads_and_writes() -> None:
    doc = yaml.safe_load(ACTION_YML.read_text())
    assert doc["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert doc["branding"]["icon"] != "key"  # excluded from Feather's set on the Marketplace
    assert set(action_inputs()) == {
        "path",
        "mode",
        "sarif-file",
        "html-file",
        "fail-on",
        "cache-dir",
        "strict",
        "bundles",
        "config",
        "baseline",
        "verify",
    }
    assert set(doc["outputs"]) == {"sarif-file", "findings", "critical", "high", "status"}
    for name, spec in action_inputs().items():
        assert spec["description"].strip() and "default" in spec, name
    mode = os.stat(ENTRYPOINT).st_mode
    assert mode & 0o111 == 0o111
    assert ENTRYPOINT.read_text().splitlines()[0] == "#!/bin/bash"
    listed = (
        subprocess.run(
            ["git", "-C", str(ROOT), "ls-files", "-s", "entrypoint.sh"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        if GIT
        else ""
    )
    if listed:
        assert listed.startswith("100755 "), listed  # the executable bit is in git, not only on disk


def _readme_table(marker: str) -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    block = text.split(f"<!-- {marker}:begin -->")[1].split(f"<!-- {marker}:end -->")[0]
    rows = block.strip().splitlines()[2:]
    return [[cell.strip().replace("`", "") for cell in row.strip("|").split("|")] for row in rows]


def test_readme_tables_mirror_action_yml() -> None:
    doc = yaml.safe_load(ACTION_YML.read_text())

    def same(text: str) -> str:
        return " ".join(text.split())

    inputs = [
        [name, "yes" if spec.get("required") else "no", spec["default"] or "''", same(spec["description"])]
        for name, spec in doc["inputs"].items()
    ]
    assert [[n, r, d, same(t)] for n, r, d, t in _readme_table("action-inputs")] == inputs
    outputs = [[name, same(spec["description"])] for name, spec in doc["outputs"].items()]
    assert [[n, same(t)] for n, t in _readme_table("action-outputs")] == outputs


def test_entrypoint_only_execs_keysweep_action() -> None:
    code = [line for line in ENTRYPOINT.read_text().splitlines() if line and not line.startswith("#")]
    assert code == ["set -euo pipefail", "exec keysweep action"]  # no "$@": inputs never become options


def _instructions() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text().replace("\\\n", " ").splitlines()
    out = []
    for line in lines:
        if line.strip() and not line.lstrip().startswith("#"):
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_follows_githubs_rules_for_container_actions() -> None:
    steps = _instructions()
    assert steps[0] == ("ARG", "BASE_IMAGE=python:3.12-slim")  # a slim Debian Python, major-pinned
    assert steps[1] == ("FROM", "${BASE_IMAGE}")
    words = [word for word, _ in steps]
    assert "USER" not in words  # the container must run as root to read the workspace
    assert "WORKDIR" not in words  # the runner mounts the workspace and makes it the working directory
    entry = [rest for word, rest in steps if word == "ENTRYPOINT"]
    assert len(entry) == 1
    exec_form = json.loads(entry[0])
    assert isinstance(exec_form, list) and exec_form[0].startswith("/")  # exec form, absolute path
    runs = [rest for word, rest in steps if word == "RUN"]
    assert any("python3 -m venv /opt/keysweep" in r for r in runs)
    assert "keysweep --version" in runs  # the smoke step
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert "*" in ignored and "!scanner/" in ignored  # nothing enters the context unless listed
