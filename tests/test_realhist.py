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
