"""Microsoft's SARIF Multitool (node_modules), run on SARIF files the tests write: its validation
results, and which of them are problems."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.paths import ROOT

MULTITOOL = ROOT / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"


def run_multitool(directory: Path, files: dict[str, str]) -> dict[str, list[dict[str, Any]]]:
    """Multitool results (GitHub and SARIF rule sets, all levels) for each file, by file name.

    The Multitool exits 0 whatever it finds, so its log is what is read.
    """
    assert MULTITOOL.exists(), f"{MULTITOOL} is missing: run `npm ci` (make test does)"
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    log = directory / "validation.log.sarif"
    environment = os.environ | {
        "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1",
        "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
        "DOTNET_NOLOGO": "1",
    }
    command = [
        str(MULTITOOL),
        "validate",
        *(str(directory / name) for name in sorted(files)),
        "--output",
        str(log),
        "--rule-kind",
        "Gh;Sarif",
        "--level",
        "Error;Warning;Note",
    ]
    completed = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=180)
    assert log.exists(), f"Multitool wrote no log:\n{completed.stdout}\n{completed.stderr}"
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in files}
    for run in json.loads(log.read_text(encoding="utf-8"))["runs"]:
        for invocation in run.get("invocations", []):
            assert invocation.get("executionSuccessful", True), invocation
        for result in run.get("results", []):
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            results[Path(urlsplit(uri).path).name].append(result)
    return results


def multitool_problems(results: list[dict[str, Any]]) -> list[str]:
    """Errors, and warnings and notes not accepted above, described."""

    def accepted(result: dict[str, Any]) -> bool:
        level, rule_id = result.get("level", "warning"), result["ruleId"]
        if level == "error":
            return False
        if rule_id == "SARIF2012":
            return bool(result["message"]["id"] == "Note_ProvideHelpUri")
        return rule_id in (ACCEPTED_WARNINGS if level == "warning" else ACCEPTED_NOTES)

    return [describe_result(r) for r in results if not accepted(r)]


ACCEPTED_WARNINGS: dict[str, str] = {}


ACCEPTED_NOTES: dict[str, str] = {
    "SARIF2002": "message arguments: GitHub shows message.text, so keysweep writes it fully formatted",
    "SARIF2003": "versionControlProvenance: GitHub ignores it and takes commit and ref from the upload",
    "SARIF2006": "reachable URIs: the validator runs offline here, so $schema and helpUri cannot be fetched",
    "SARIF2009": "conventional rule ids: ids are `provider.kind` by design and never renamed",
    "SARIF2010": "code snippets: a snippet would hold the secret",
    "SARIF2011": "context regions: a context region would hold the secret",
    "SARIF2012": "helpUri: rules without references have no documentation page to point at",
}


def describe_result(result: dict[str, Any]) -> str:
    message = result.get("message", {})
    return (
        f"{result.get('level', 'warning')} {result['ruleId']} {message.get('id')} {message.get('arguments')}"
    )
