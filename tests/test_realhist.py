"""bench/realhist.py groups reported records into distinct values: two weak secrets (no digest) whose
fingerprints are equal because their masked line context is the same are still two values."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("keysweep_realhist", ROOT / "bench" / "realhist.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["keysweep_realhist"] = mod
    spec.loader.exec_module(mod)
    return mod


rh = _load()


def _finding(fingerprint: str, digest: str | None, commit: str, line: int) -> dict[str, Any]:
    return {
        "kind": "secret",
        "rule_id": "database.connection-url",
        "severity": "high",
        "confidence": "medium",
        "secret_sha256": digest,
        "fingerprint": fingerprint,
        "locations": [{"source": "history", "path": ".env.example", "line": line, "commit": commit}],
    }


def _groups(tmp_path: Path, findings: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    report = tmp_path / "ks.json"
    report.write_text(json.dumps({"findings": findings}))
    groups: list[list[dict[str, Any]]] = rh.group(rh._keysweep(report, "keysweep"))
    return groups


def test_weak_secrets_sharing_a_fingerprint_stay_two_values(tmp_path: Path) -> None:
    fp = "a" * 64  # the same masked context (`KV_URL = …`) in two versions of a file
    groups = _groups(tmp_path, [_finding(fp, None, "1" * 40, 9), _finding(fp, None, "2" * 40, 16)])
    assert len(groups) == 2
    assert {r["fingerprint"].split("~")[0] for g in groups for r in g} == {fp}


def test_a_finding_with_a_unique_fingerprint_keeps_it_and_joins_its_locations(tmp_path: Path) -> None:
    one = _finding("b" * 64, None, "1" * 40, 3)
    one["locations"].append({"source": "history", "path": ".env", "line": 3, "commit": "3" * 40})
    groups = _groups(tmp_path, [one, _finding("c" * 64, "d" * 64, "1" * 40, 4)])
    assert sorted(len(g) for g in groups) == [1, 2]
    assert {r["fingerprint"] for g in groups for r in g} == {"b" * 64, "c" * 64}


fs = importlib.util.spec_from_file_location(
    "keysweep_realhist_firstseen", ROOT / "bench" / "realhist_firstseen.py"
)
assert fs is not None and fs.loader is not None
firstseen = importlib.util.module_from_spec(fs)
fs.loader.exec_module(firstseen)


def _history(tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    """main: c1 (no key) -> c3 (.env.example holds the key); a pull-request ref: c1 -> c2 (.env holds it,
    earlier than c3); c4 on main copies it to a second file."""
    from tests.repo_builder import RepoBuilder, make_key

    key = make_key(7)
    b = RepoBuilder(tmp_path / "r.git", bare=True)
    c1 = b.commit({"README.md": b"hello\n"})
    c2 = b.commit({".env": f"OPENAI_API_KEY={key}\n".encode()}, parents=[c1], ref="refs/pull/1/head")
    c3 = b.commit({".env.example": f"# set\nOPENAI_API_KEY={key}\n".encode()}, parents=[c1])
    c4 = b.commit({"config.env": f"OPENAI_API_KEY={key}\n".encode()})
    ids = {"c1": str(c1), "c2": str(c2), "c3": str(c3), "c4": str(c4)}
    return tmp_path / "r.git", key, ids


def _report(tmp_path: Path, repo: Path, key: str, ids: dict[str, str], first: str) -> Path:
    import hashlib

    import pygit2

    r = pygit2.Repository(str(repo))
    blob = str(r.revparse_single(ids["c3"] + ":.env.example").id)
    col = len("OPENAI_API_KEY=") + 1
    f = {
        "kind": "secret",
        "rule_id": "openai.project-key",
        "severity": "high",
        "confidence": "high",
        "secret_sha256": hashlib.sha256(key.encode()).hexdigest(),
        "fingerprint": "e" * 64,
        "first_seen": {"commit": ids[first]},
        "locations": [
            {
                "source": "history",
                "path": ".env.example",
                "line": 2,
                "end_line": 2,
                "column": col,
                "end_column": col + len(key),
                "commit": ids["c3"],
                "blob": blob,
            }
        ],
    }
    report = tmp_path / f"ks-{first}.json"
    report.write_text(json.dumps({"findings": [f]}))
    d = tmp_path / "realhist"
    (d / "reduced").mkdir(parents=True, exist_ok=True)
    (d / "reduced" / "r.keysweep.json").write_text(json.dumps(rh._keysweep(report, "keysweep")))
    triage = {"keys": ["fp:" + "e" * 64], "verdict": "real", "reason": "test", "where": ".env.example:2"}
    (d / "r.json").write_text(json.dumps({"repository": "r", "values": [triage]}))
    return report


def test_first_seen_is_the_earliest_introducing_commit_on_any_ref(tmp_path: Path) -> None:
    repo, key, ids = _history(tmp_path)
    ok = _report(tmp_path, repo, key, ids, "c2")
    assert firstseen.check(repo, ok, "r", tmp_path / "realhist") == (1, 0, 0)
    late = _report(tmp_path, repo, key, ids, "c3")  # the main line's commit, later than the pull ref's
    assert firstseen.check(repo, late, "r", tmp_path / "realhist") == (0, 1, 0)
    copy = _report(tmp_path, repo, key, ids, "c4")  # a copy whose ancestor already holds it
    assert firstseen.check(repo, copy, "r", tmp_path / "realhist") == (0, 1, 0)
