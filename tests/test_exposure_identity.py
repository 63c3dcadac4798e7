"""Exposure findings are one per rule and exposed name, with all their locations (ARCHITECTURE.md
§4, issue 24 item 4), and what was acknowledged under the old identity (one finding per rule, path
and text) still holds: a baseline written with the old fingerprints suppresses the grouped finding,
`baseline update` moves its entries to the new fingerprint, and SARIF carries the old per-path
fingerprint of the primary location beside the new one.

Names and constructs are expanded from the rules' templates at run time, so this file holds none.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
from pathlib import Path
from typing import Any

import pygit2
import pytest

from scanner import cli
from scanner.defaults import DEFAULT_FINGERPRINT_KEY
from scanner.findings import exposed_name
from scanner.model import Kind, Rule, secret_id
from scanner.rules import load_rules
from scanner.rules.templates import expand
from scanner.suppress.baseline import key_id
from tests.keys import matcher
from tests.repo_builder import RepoBuilder

RULES = {r.id: r for r in load_rules() if r.kind is Kind.EXPOSURE}
NAMES = "browser.public-env-secret"
OPT_IN = "browser.sdk-browser-opt-in"


def example(rule_id: str, i: int) -> str:
    return expand(RULES[rule_id].examples[i], random.Random(f"{rule_id}#{i}"))


def scan(path: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    code = cli.main(["scan", str(path), "--jobs", "1", "--json", str(out), "--fail-on", "high", *extra])
    doc: dict[str, Any] = json.loads(out.read_text())
    return code, doc


def exposures(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in doc["findings"] if f["kind"] == "exposure"]


def history(tmp_path: Path) -> tuple[RepoBuilder, dict[str, bytes], list[str]]:
    """A name in an env file, then read in client code, then the env file edited (one more blob
    holding it), a pull-request ref's own env file with it; the SDK option spelt two ways in two
    files; a second name in one file. Returns the builder, HEAD's files and the commit ids."""
    name, other = example(NAMES, 0), example(NAMES, 11)
    opt, minified = example(OPT_IN, 0), example(OPT_IN, 1)
    b = RepoBuilder(tmp_path / "repo")
    files: dict[str, bytes] = {".env.example": f"{name}=\n".encode()}
    c1 = b.commit(files, message="env")
    files["src/ai.ts"] = f"const key = process.env.{name};\nnew OpenAI({{ apiKey: key, {opt} }});\n".encode()
    c2 = b.commit({"src/ai.ts": files["src/ai.ts"]}, message="client")
    files[".env.example"] = f"# the model's key\n{name}=\n".encode()
    files["src/chat.ts"] = f"new Groq({{apiKey:k,{minified}}});\nconst s = process.env.{other};\n".encode()
    c3 = b.commit({k: files[k] for k in (".env.example", "src/chat.ts")}, message="more")
    b.commit({"apps/web/.env": f"{name}=\n".encode()}, ref="refs/pull/7/head", message="pr")
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    return b, files, [str(c) for c in (c1, c2, c3)]


def test_one_exposure_finding_per_rule_and_name_with_all_locations(tmp_path: Path) -> None:
    b, _, (c1, c2, _c3) = history(tmp_path)
    _, doc = scan(b.path, tmp_path)
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for f in exposures(doc):
        by_rule.setdefault(f["rule_id"], []).append(f)
    assert len(by_rule[NAMES]) == 2, "one finding per exposed name, not per commit or path"
    assert len(by_rule[OPT_IN]) == 1, "`opt: true` and the minified `opt:!0` are one option"
    name = example(NAMES, 0)
    (f,) = [f for f in by_rule[NAMES] if all(loc["context"] == name for loc in f["locations"])]
    paths = sorted({loc["path"] for loc in f["locations"]})
    assert paths == [".env.example", "apps/web/.env", "src/ai.ts"]
    assert f["locations_total"] == len(f["locations"]) == 4  # two blobs of .env.example
    assert f["first_seen"]["commit"] == c1 and f["present_at_head"] is True
    (o,) = by_rule[OPT_IN]
    assert sorted(loc["path"] for loc in o["locations"]) == ["src/ai.ts", "src/chat.ts"]
    assert o["first_seen"]["commit"] == c2
    assert len({f["fingerprint"] for f in exposures(doc)}) == len(exposures(doc)) == 3


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_every_example_of_a_rule_names_what_it_exposes(rule_id: str) -> None:
    """The exposed name is an identifier of the construct, never its value or spacing: the
    option's spellings share one, a header is named case-insensitively, Angular's production
    block is named by its `sourceMap` option."""
    rule: Rule = RULES[rule_id]
    names = []
    for i in range(len(rule.examples)):
        text = example(rule_id, i)
        (m,) = [m for m in matcher().scan(text.encode()) if m.rule_id == rule_id]
        name = exposed_name(rule_id, m.exposure_text)
        assert re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$-]*", name), (text, name)
        assert name.lower() in text.lower() and name not in {"true", "production", "headers"}
        names.append(name)
    if rule_id == NAMES:
        assert names == [example(NAMES, i) for i in range(len(rule.examples))]
    elif rule_id == "browser.production-source-maps":
        assert names[-1] == "sourceMap" and len(set(names)) == 5
    else:
        assert len(set(names)) == 1, names


def _old_fingerprint(rule_id: str, path: str, text: str) -> str:
    """The fingerprint keysweep gave an exposure before grouping: HMAC-SHA-256 under the
    fingerprint key of `rule id NUL path NUL id of the matched text` (the path had no bundle
    hash here to strip)."""
    (m,) = [m for m in matcher().scan(text.encode()) if m.rule_id == rule_id]
    material = f"{rule_id}\0{path}\0{secret_id(m)}"
    return hmac.new(DEFAULT_FINGERPRINT_KEY, material.encode(), hashlib.sha256).hexdigest()


def _old_baseline(path: Path, entries: list[tuple[str, str, str]]) -> None:
    """A baseline as the per-path code wrote it: one entry per (rule, path) it reported."""
    doc = {
        "version": 1,
        "tool": "keysweep",
        "key_id": key_id(DEFAULT_FINGERPRINT_KEY),
        "entries": [
            {
                "fingerprint": _old_fingerprint(rule_id, p, text),
                "rule_id": rule_id,
                "redacted": None,
                "first_seen": None,
                "paths": [p],
                "held_at_head": [p],
                "reason": f"acknowledged {p}",
            }
            for rule_id, p, text in entries
        ],
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")


def _tree_repo(tmp_path: Path) -> Path:
    """A name in three files at HEAD (one commit: one location per file)."""
    name = example(NAMES, 0)
    b = RepoBuilder(tmp_path / "repo")
    b.commit(
        {
            ".env.example": f"{name}=\n".encode(),
            "src/ai.ts": f"const key = process.env.{name};\n".encode(),
            "src/chat.ts": f"const k = process.env.{name};\n".encode(),
        }
    )
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    return b.path


def test_a_baseline_of_old_per_path_fingerprints_suppresses_the_grouped_finding(tmp_path: Path) -> None:
    root = _tree_repo(tmp_path)
    name = example(NAMES, 0)
    places = [(NAMES, p, name) for p in (".env.example", "src/ai.ts", "src/chat.ts")]
    old = tmp_path / "old.json"
    _old_baseline(old, places)
    code, before = scan(root, tmp_path)
    assert code == 1 and len(exposures(before)) == 1
    code, doc = scan(root, tmp_path, "--baseline", str(old))
    (f,) = exposures(doc)
    assert code == 0 and f["baseline_state"] == "unchanged"
    assert f["suppression"] == {"kind": "baseline", "reason": "acknowledged .env.example"}
    assert doc["baseline"] == {"entries": 3, "matched": 3, "grown": 0, "stale_checked": True, "stale": []}

    # one path that was never acknowledged: the grouped finding has grown, it is not suppressed
    _old_baseline(old, places[:2])
    code, doc = scan(root, tmp_path, "--baseline", str(old))
    (f,) = exposures(doc)
    assert code == 1 and f["baseline_state"] == "updated" and "suppression" not in f


def test_baseline_update_moves_old_entries_to_the_grouped_fingerprint(tmp_path: Path) -> None:
    root = _tree_repo(tmp_path)
    name = example(NAMES, 0)
    old = tmp_path / "old.json"
    _old_baseline(old, [(NAMES, p, name) for p in (".env.example", "src/ai.ts", "src/chat.ts")])
    assert cli.main(["baseline", "update", str(root), "--output", str(old), "--jobs", "1"]) == 0
    (entry,) = json.loads(old.read_text())["entries"]
    _, doc = scan(root, tmp_path)
    (f,) = exposures(doc)
    assert entry["fingerprint"] == f["fingerprint"] and entry["reason"] == "acknowledged .env.example"
    assert entry["paths"] == entry["held_at_head"] == [".env.example", "src/ai.ts", "src/chat.ts"]
    code, again = scan(root, tmp_path, "--baseline", str(old))
    assert code == 0 and exposures(again)[0]["baseline_state"] == "unchanged"


def test_sarif_carries_the_primary_locations_old_fingerprint(tmp_path: Path) -> None:
    root = _tree_repo(tmp_path)
    out = tmp_path / "r.sarif"
    cli.main(["scan", str(root), "--jobs", "1", "--sarif", str(out), "--fail-on", "none"])
    (result,) = json.loads(out.read_text())["runs"][0]["results"]
    primary = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    prints = result["partialFingerprints"]
    assert prints["primaryLocationLineHash"] == prints["keysweep/v1"]
    assert prints["keysweep/path/v1"] == _old_fingerprint(NAMES, primary, example(NAMES, 0))
    assert prints["keysweep/path/v1"] != prints["keysweep/v1"]
