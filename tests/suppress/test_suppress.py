"""Suppression accounting on real scans: every suppressed finding keeps its reason, the counts by
reason are in the JSON, the console and SARIF, an allowlist cannot hide a key that is also
elsewhere, and `--no-suppress` shows everything. The SARIF of a baselined run passes the
Multitool (read from its log: the tool exits 0 even when it finds errors)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pygit2
import pytest

from scanner import cli
from tests.keys import leak_windows, make_key
from tests.paths import ROOT
from tests.repo_builder import RepoBuilder

MULTITOOL = ROOT / "node_modules" / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"
# the advice-level notes every keysweep log gets (test_output_sarif.py says why each is accepted)
ACCEPTED_NOTES = {"SARIF2002", "SARIF2003", "SARIF2006", "SARIF2009", "SARIF2010", "SARIF2011", "SARIF2012"}

CONFIG = """\
disable-rules = ["anthropic.api-key"]

[[allow]]
paths = ["tests/fixtures/**"]
reason = "revoked sample keys"
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    keys = {
        "fixture-only": make_key(seed=21),
        "fixture-and-src": make_key(seed=22),
        "pragma": make_key(seed=23),
        "pragma-and-plain": make_key(seed=24),
        "baselined": make_key(seed=25),
        "new": make_key(seed=26),
        "disabled": make_key("anthropic.api-key", seed=27),
    }
    b = RepoBuilder(tmp_path / "repo")
    b.commit(
        {
            ".keysweep.toml": CONFIG.encode(),
            "tests/fixtures/sample.env": f"OPENAI_API_KEY={keys['fixture-only']}\n".encode(),
            "src/demo.py": f'DEMO = "{keys["pragma"]}"  # keysweep:allow documentation example\n'.encode(),
            "old.env": f"OPENAI_API_KEY={keys['baselined']}\n".encode(),
            "claude.env": f"ANTHROPIC_API_KEY={keys['disabled']}\n".encode(),
        }
    )
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    base = tmp_path / "baseline.json"
    assert (
        cli.main(
            [
                "baseline",
                "create",
                str(b.path),
                "--output",
                str(base),
                "--jobs",
                "1",
                "--reason",
                "old test key",
            ]
        )
        == 0
    )
    (entry,) = json.loads(base.read_text())["entries"]  # everything else is suppressed already
    assert entry["paths"] == ["old.env"]
    b.commit(
        {
            "tests/fixtures/other.env": f"OPENAI_API_KEY={keys['fixture-and-src']}\n".encode(),
            "src/settings.py": f'KEY = "{keys["fixture-and-src"]}"\n'.encode(),
            "src/demo.py": (
                f'DEMO = "{keys["pragma"]}"  # keysweep:allow documentation example\n'
                f'ALSO = "{keys["pragma-and-plain"]}"  # keysweep:allow\n'
            ).encode(),
            "src/plain.py": f'PLAIN = "{keys["pragma-and-plain"]}"\n'.encode(),
            "new.env": f"OPENAI_API_KEY={keys['new']}\n".encode(),
        }
    )
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    return b.path, keys


def outputs(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], dict[str, Any], str]:
    js, sarif = tmp_path / "r.json", tmp_path / "r.sarif"
    code = cli.main(["scan", str(path), "--jobs", "1", "--json", str(js), "--sarif", str(sarif), *extra])
    console = capsys.readouterr().out
    return code, json.loads(js.read_text()), json.loads(sarif.read_text()), console


def paths_of(f: dict[str, Any]) -> set[str]:
    return {loc["path"] for loc in f["locations"]}


def test_every_suppressed_finding_keeps_its_reason_and_is_counted_everywhere(
    project: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, keys = project
    code, doc, sarif, console = outputs(path, tmp_path, capsys, "--baseline", str(tmp_path / "baseline.json"))
    assert code == 1  # the new key and the two keys that are not only in suppressed places
    want = {"allowlist": 1, "baseline": 1, "disabled-rule": 1, "pragma": 1}
    # JSON: counts, and each suppressed finding with its reason
    assert doc["stats"]["suppressed"] == want
    reasons = sorted(
        (f["suppression"]["kind"], f["suppression"]["reason"], sorted(paths_of(f))) for f in doc["suppressed"]
    )
    assert reasons == [
        ("allowlist", "revoked sample keys", ["tests/fixtures/sample.env"]),
        ("disabled-rule", "rule disabled in the config", ["claude.env"]),
        ("pragma", "inline keysweep:allow", ["src/demo.py"]),
    ]
    # an allowlist or a pragma cannot hide a key that also leaked elsewhere: reported, all places
    active = [f for f in doc["findings"] if not f["baselined"]]
    assert sorted(sorted(paths_of(f)) for f in active) == [
        ["new.env"],
        ["src/demo.py", "src/plain.py"],
        ["src/settings.py", "tests/fixtures/other.env"],
    ]
    assert all(f["baseline_state"] == "new" for f in active)
    (baselined,) = [f for f in doc["findings"] if f["baselined"]]
    assert baselined["suppression"] == {"kind": "baseline", "reason": "old test key"}
    # console
    assert "suppressed: allowlist 1, baseline 1, disabled-rule 1, pragma 1" in console
    assert "Summary: 3 findings;" in console and "4 suppressed" in console
    assert "Baselined (acknowledged, not counted): 1" in console
    # SARIF: counts by reason, the baselined result with its suppression and baselineState
    run = sarif["runs"][0]
    assert run["properties"]["keysweep/suppressed"] == want
    states = sorted((r.get("baselineState"), bool(r.get("suppressions"))) for r in run["results"])
    assert states == [("new", False), ("new", False), ("new", False), ("unchanged", True)]
    (sup,) = [r["suppressions"] for r in run["results"] if r.get("suppressions")]
    assert sup == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "old test key",
            "properties": {"keysweep/reason": "baseline"},
        }
    ]
    # no output holds any part of any key
    for k in keys.values():
        windows = leak_windows(k, skip=len("sk-ant-api03-") if k.startswith("sk-ant") else len("sk-proj-"))
        for name, text in (("json", json.dumps(doc)), ("sarif", json.dumps(sarif)), ("console", console)):
            assert not [w for w in windows if w in text], f"{name} holds part of a secret"


def test_no_suppress_shows_and_counts_everything(
    project: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, keys = project
    code, doc, sarif, console = outputs(
        path, tmp_path, capsys, "--no-suppress", "--baseline", str(tmp_path / "baseline.json")
    )
    assert code == 1
    assert doc["stats"]["suppressed"] == {} and doc["suppressed"] == []
    assert len(doc["findings"]) == len(keys)
    assert not any(f["baselined"] for f in doc["findings"])
    assert "keysweep/suppressed" not in sarif["runs"][0]["properties"]
    assert "0 suppressed" in console


def test_suppressed_findings_never_fail_the_gate(tmp_path: Path) -> None:
    d = tmp_path / "d"
    (d / "tests" / "fixtures").mkdir(parents=True)
    (d / ".keysweep.toml").write_text(CONFIG)
    (d / "tests" / "fixtures" / "a.env").write_text(f"OPENAI_API_KEY={make_key(seed=31)}\n")
    (d / "b.py").write_text(f'K = "{make_key(seed=32)}"  # keysweep:allow\n')
    assert cli.main(["scan", str(d), "--jobs", "1", "--fail-on", "low"]) == 0
    assert cli.main(["scan", str(d), "--jobs", "1", "--fail-on", "low", "--no-suppress"]) == 1


def test_severity_override_by_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "d"
    (d / "scripts").mkdir(parents=True)
    (d / "scripts" / "dev.env").write_text(f"OPENAI_API_KEY={make_key(seed=41)}\n")
    (d / ".keysweep.toml").write_text(
        '[[severity]]\npaths = ["scripts/**"]\nrules = ["openai.project-key"]\nseverity = "low"\n'
    )
    js = tmp_path / "r.json"
    assert cli.main(["scan", str(d), "--jobs", "1", "--json", str(js)]) == 0
    assert [f["severity"] for f in json.loads(js.read_text())["findings"]] == ["low"]
    (d / "app.env").write_text(f"OPENAI_API_KEY={make_key(seed=41)}\n")  # the same key outside scripts/
    assert cli.main(["scan", str(d), "--jobs", "1", "--json", str(js)]) == 1
    assert [f["severity"] for f in json.loads(js.read_text())["findings"]] == ["high"]
    capsys.readouterr()


def _multitool(files: list[Path], log: Path) -> dict[str, list[dict[str, Any]]]:
    """Multitool results (GitHub and SARIF rules, every level) for each file, by file name."""
    assert MULTITOOL.exists(), f"{MULTITOOL} is missing: run `npm ci` (make test does)"
    env = os.environ | {
        "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1",
        "DOTNET_CLI_TELEMETRY_OPTOUT": "1",
        "DOTNET_NOLOGO": "1",
    }
    command = [str(MULTITOOL), "validate", *map(str, files), "--output", str(log)]
    command += ["--rule-kind", "Gh;Sarif", "--level", "Error;Warning;Note"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert log.exists(), f"Multitool wrote no log:\n{done.stdout}\n{done.stderr}"
    results: dict[str, list[dict[str, Any]]] = {f.name: [] for f in files}
    for run in json.loads(log.read_text(encoding="utf-8"))["runs"]:
        for invocation in run.get("invocations", []):
            assert invocation.get("executionSuccessful", True), invocation
        for result in run.get("results", []):
            uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            results[Path(urlsplit(uri).path).name].append(result)
    return results


def test_sarif_suppressions_pass_the_multitool(
    project: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = project
    sarif = tmp_path / "baselined.sarif"
    cli.main(
        [
            "scan",
            str(path),
            "--jobs",
            "1",
            "--sarif",
            str(sarif),
            "--baseline",
            str(tmp_path / "baseline.json"),
        ]
    )
    capsys.readouterr()
    assert any(r.get("suppressions") for r in json.loads(sarif.read_text())["runs"][0]["results"])
    # a negative control in the same run: the tool reads these files (an emptied locations array)
    doc = json.loads(sarif.read_text())
    next(r for r in doc["runs"][0]["results"] if r.get("suppressions"))["locations"] = []
    broken = tmp_path / "broken.sarif"
    broken.write_text(json.dumps(doc))
    results = _multitool([sarif, broken], tmp_path / "log.sarif")
    problems = [
        (r.get("level", "warning"), r["ruleId"], r["message"].get("id"))
        for r in results[sarif.name]
        if r.get("level", "warning") != "note" or r["ruleId"] not in ACCEPTED_NOTES
    ]
    assert problems == []
    errors = {(r["ruleId"], r["message"]["id"]) for r in results[broken.name] if r.get("level") == "error"}
    assert ("GH1015", "Error_EmptyLocationsArray") in errors


def test_sarif_suppressions_match_the_schema(
    project: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The Multitool does not check enum values; the SARIF 2.1.0 schema does."""
    import jsonschema  # type: ignore[import-untyped]

    from tests.output_fixtures import load_schema

    path, _ = project
    sarif = tmp_path / "baselined.sarif"
    cli.main(
        [
            "scan",
            str(path),
            "--jobs",
            "1",
            "--sarif",
            str(sarif),
            "--baseline",
            str(tmp_path / "baseline.json"),
        ]
    )
    capsys.readouterr()
    schema = load_schema("sarif-schema-2.1.0.json")
    validator = jsonschema.validators.validator_for(schema)(schema)
    doc = json.loads(sarif.read_text())
    assert [e.message for e in validator.iter_errors(doc)] == []
    result = next(r for r in doc["runs"][0]["results"] if r.get("suppressions"))
    result["suppressions"][0]["status"] = "maybe"
    result["baselineState"] = "sideways"
    assert len(list(validator.iter_errors(doc))) == 2


@pytest.mark.parametrize("mode", ["range", "staged", "tree", "history"])
def test_pragma_is_counted_in_every_mode(tmp_path: Path, mode: str) -> None:
    """A pragma'd key is counted (and listed with its reason) whatever the mode: a range or staged
    scan — the PR gate and the pre-commit hook — must not drop it without a trace. (A key whose
    structure cannot be verified offline: a pragma the change adds suppresses it.)"""
    b = RepoBuilder(tmp_path / "repo")
    b.commit({"README": b"hi\n"})
    line = f'K = "{make_key("anthropic.api-key", seed=81)}"  # keysweep:allow documented example\n'.encode()
    if mode == "staged":
        b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
        (b.path / "a.py").write_bytes(line)
        b.repo.index.read()
        b.repo.index.add("a.py")
        b.repo.index.write()
    else:
        b.commit({"a.py": line})
        b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    flags = {
        "range": ["--range", "HEAD~1..HEAD"],
        "staged": ["--staged"],
        "tree": ["--no-history"],
        "history": [],
    }
    out = tmp_path / "r.json"
    assert cli.main(["scan", str(b.path), "--jobs", "1", "--json", str(out), *flags[mode]]) == 0
    doc = json.loads(out.read_text())
    assert doc["findings"] == []
    assert doc["stats"]["suppressed"] == {"pragma": 1}
    assert [(f["suppression"]["kind"], f["locations"][0]["path"]) for f in doc["suppressed"]] == [
        ("pragma", "a.py")
    ]
    # the range and the index are the change under scan: its own pragma is told apart
    change = mode in ("range", "staged")
    assert doc["suppressed"][0]["suppression"].get("added_by_change", False) is change
    assert doc["suppressed"][0]["locations"][0].get("pragma_added", False) is change
