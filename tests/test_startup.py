"""Start-up of small scans (a range, a cached sweep): the parsed rules come from a JSON copy in
keysweep's cache, and what only a big scan needs (YAML, process pools) is not even imported."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scanner import rules as rules_mod
from scanner.rules import RULES_DIR, load_rules, ruleset_hash
from tests.repo_builder import RepoBuilder, env_line

ROOT = Path(__file__).resolve().parent.parent


def _cached(home: Path) -> list[Path]:
    return sorted(home.glob("rules-*.json"))


def test_the_rules_copy_equals_the_parsed_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYSWEEP_CACHE_HOME", str(tmp_path))
    parsed = rules_mod._load(sorted(RULES_DIR.glob("*.yml")))
    first = load_rules()
    assert len(_cached(tmp_path)) == 1
    again = load_rules()
    assert first == again == parsed
    assert ruleset_hash(again) == ruleset_hash(parsed) == rules_mod.ruleset_digest(parsed)
    assert {r.id for r in again} == {r.id for r in parsed} and len(again) > 50


def test_the_merged_rule_tuple_takes_the_known_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scan's rules are a new tuple (built-in and config rules merged, sorted): with no config
    rules they are the very same objects, and the ruleset digest (an asdict of every rule, which
    grows with the rule count) is not computed again at start-up."""
    builtin = load_rules()
    known = ruleset_hash(builtin)
    merged = tuple(sorted(builtin, key=lambda r: r.id))
    assert merged is not builtin

    def recompute(rules: object) -> str:
        raise AssertionError("ruleset digest recomputed for the same rules")

    monkeypatch.setattr(rules_mod, "ruleset_digest", recompute)
    assert ruleset_hash(merged) == known
    # a tuple with other rule objects is still digested
    other = tuple(dataclasses.replace(r) for r in builtin)
    with pytest.raises(AssertionError, match="recomputed"):
        ruleset_hash(other)


def test_a_damaged_or_stale_copy_is_rebuilt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYSWEEP_CACHE_HOME", str(tmp_path))
    parsed = load_rules()
    (copy,) = _cached(tmp_path)
    for damage in (b"{not json", b"[]", json.dumps({"ruleset": "x", "rules": [{"id": "x"}]}).encode()):
        copy.write_bytes(damage)
        got = load_rules()
        assert got == parsed and ruleset_hash(got) == ruleset_hash(parsed)
    data = json.loads(copy.read_bytes())
    data["rules"][0]["unknown_field"] = 1  # written by another version of the Rule type
    copy.write_text(json.dumps(data))
    assert load_rules() == parsed


def test_an_unwritable_cache_home_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A home where nothing can be written (here a path under a file, which even root cannot
    create) only costs the parse."""
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("KEYSWEEP_CACHE_HOME", str(blocker / "sub"))
    assert load_rules() == rules_mod._load(sorted(RULES_DIR.glob("*.yml")))
    assert blocker.read_bytes() == b""


def test_a_changed_rule_file_is_not_served_from_the_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy is keyed by the rule files' bytes: an edited rule set gets its own copy."""
    monkeypatch.setenv("KEYSWEEP_CACHE_HOME", str(tmp_path / "home"))
    load_rules()
    own = tmp_path / "rules"
    own.mkdir()
    for f in sorted(RULES_DIR.glob("*.yml")):
        (own / f.name).write_bytes(f.read_bytes())
    target = next(f for f in sorted(own.glob("*.yml")) if b"severity: high" in f.read_bytes())
    target.write_bytes(target.read_bytes().replace(b"severity: high", b"severity: medium", 1))
    monkeypatch.setattr(rules_mod, "RULES_DIR", own)
    edited = load_rules()
    assert len(_cached(tmp_path / "home")) == 2
    assert edited == rules_mod._load(sorted(own.glob("*.yml")))


def test_a_range_scan_imports_neither_yaml_nor_process_pools(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.commit({"app/.env": env_line(3)})
    code = (
        "import sys\n"
        "from scanner.cli import main\n"
        "rc = main(['scan', sys.argv[1], '--range', 'HEAD~1..HEAD', '--json', sys.argv[2], '--fail-on', 'none'])\n"
        "heavy = sorted(m for m in ('yaml', 'multiprocessing', 'concurrent.futures') if m in sys.modules)\n"
        "print('HEAVY', ','.join(heavy))\n"
        "sys.exit(rc)\n"
    )
    env = dict(os.environ, KEYSWEEP_CACHE_HOME=str(tmp_path / "home"))
    report = tmp_path / "out.json"
    for run in range(2):  # the first run parses the rules and writes the copy; the second reads it
        got = subprocess.run(
            [sys.executable, "-c", code, str(b.path), str(report)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert got.returncode == 0, got.stderr
        heavy = got.stdout.split("HEAVY", 1)[1].strip()
        assert len(json.loads(report.read_text())["findings"]) == 1
        if run == 1:
            assert heavy == ""
        else:
            assert "multiprocessing" not in heavy and "concurrent.futures" not in heavy
