"""The JSON report (ARCHITECTURE.md §7): schema, field order, golden files, safety."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

import scanner
from scanner.model import Report
from scanner.output.json import render_json
from tests.output_fixtures import (
    WEIRD_PATH,
    WEIRD_PATH_BYTES,
    check_golden,
    failed_report,
    history_report,
    incomplete_report,
    load_schema,
    log_safety_problems,
    reports,
)

FINDING_FIELDS = [
    "kind",
    "rule_id",
    "provider",
    "severity",
    "severity_reason",
    "confidence",
    "secret_sha256",
    "redacted",
    "fingerprint",
    "also_matched",
    "exposure",
    "present_at_head",
    "present_at_refs",
    "first_seen",
    "last_seen",
    "first_seen_truncated",
    "moved_from",
    "remediation_url",
    "baselined",
    "locations_total",
    "locations",
]
WINDOW_FIELDS = ["age_days", "removed", "never_rotated", "environments"]  # issue 24: when the finding has one


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = load_schema("keysweep-report-v1.json")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def parsed(report: Report) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_json(report))
    return document


@pytest.mark.parametrize("name", sorted(reports()))
def test_matches_golden(name: str) -> None:
    check_golden(f"{name}.report.json", render_json(reports()[name]))


@pytest.mark.parametrize("name", sorted(reports()))
def test_validates_against_schema(name: str, validator: jsonschema.protocols.Validator) -> None:
    validator.validate(parsed(reports()[name]))


@pytest.mark.parametrize(
    ("mutate", "why"),
    [
        (lambda d: d["findings"][0].pop("fingerprint"), "a finding without fingerprint"),
        (lambda d: d.update(status="done"), "an unknown status"),
        (lambda d: d.pop("error"), "a failed report without error"),
        (lambda d: d["findings"][0]["locations"][0].update(line=0), "a 0-based line"),
        (lambda d: d["findings"][0].update(secret="x"), "an extra field"),
        (lambda d: d["stats"]["skipped"].update(x={"count": 1}), "a skip without examples"),
    ],
)
def test_schema_rejects_broken_documents(
    mutate: Any, why: str, validator: jsonschema.protocols.Validator
) -> None:
    report = failed_report() if "error" in why else history_report()
    document = parsed(report)
    if not document["findings"]:
        document["findings"] = copy.deepcopy(parsed(history_report())["findings"])
    mutate(document)
    assert not validator.is_valid(document), why


def test_top_level_and_tool() -> None:
    document = parsed(history_report())
    assert list(document) == ["version", "status", "tool", "scan", "stats", "findings", "suppressed"]
    assert document["version"] == "1"
    assert document["status"] == "ok"
    assert document["tool"] == {
        "name": "keysweep",
        "version": scanner.__version__,
        "ruleset": history_report().ruleset,
    }
    assert document["scan"] == {
        "mode": "history",
        "target": "/work/repo",
        "head": history_report().scan.head,
        "range": None,
        "started": "2026-01-02T03:04:05Z",
    }


def test_finding_fields_in_contract_order() -> None:
    windows = 0
    for finding in parsed(history_report())["findings"]:
        windowed = "age_days" in finding
        windows += windowed
        assert (
            list(finding) == FINDING_FIELDS[:-2] + (WINDOW_FIELDS if windowed else []) + FINDING_FIELDS[-2:]
        )
    assert windows == 2


def test_findings_keep_the_callers_order() -> None:
    report = history_report()
    reversed_report = dataclasses.replace(report, findings=tuple(reversed(report.findings)))
    forward = [f["fingerprint"] for f in parsed(report)["findings"]]
    backward = [f["fingerprint"] for f in parsed(reversed_report)["findings"]]
    assert forward == [f.fingerprint for f in report.findings]
    assert backward == list(reversed(forward))


def test_scope_only_when_set() -> None:
    report = history_report()
    scoped = dataclasses.replace(report.findings[1], scope="range")
    document = parsed(dataclasses.replace(report, findings=(report.findings[0], scoped)))
    assert "scope" not in document["findings"][0]
    assert document["findings"][1]["scope"] == "range"
    assert list(document["findings"][1])[-7:] == ["scope", *WINDOW_FIELDS, "locations_total", "locations"]


def test_locations() -> None:
    bundle, history, weird = parsed(history_report())["findings"][:3]
    first = bundle["locations"][0]
    assert list(first) == [
        "source",
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "byte_offset",
        "commit",
        "blob",
        "original",
        "client_bundle",
        "context",
    ]
    assert first["source"] == "bundle"
    assert (first["client_bundle"], first["context"]) == ("build-output", "apiKey: …")
    assert (first["line"], first["column"], first["end_column"], first["byte_offset"]) == (
        1,
        48213,
        48377,
        48212,
    )
    assert first["commit"] is None and first["blob"] is None
    assert first["original"] == {"path": "src/api/client.ts", "line": 12, "column": 18}
    assert history["locations"][0]["encoding"] == "base64"
    assert "encoding" not in history["locations"][1]
    assert history["locations_total"] == 17 and len(history["locations"]) == 12
    odd = weird["locations"][0]
    assert odd["path"] == WEIRD_PATH
    assert base64.b64decode(odd["path_bytes"]) == WEIRD_PATH_BYTES
    assert "path_bytes" not in weird["locations"][1]


def test_provenance() -> None:
    bundle, history = parsed(history_report())["findings"][:2]
    assert bundle["first_seen"] == {
        "commit": history_report().findings[0].first_seen.commit,  # type: ignore[union-attr]
        "author": "Alice Example",
        "email": "alice@example.com",
        "author_time": "2024-01-02T10:00:00Z",
        "commit_time": "2024-01-02T10:05:00Z",
    }
    assert bundle["present_at_head"] is True
    assert bundle["present_at_refs"] == ["refs/heads/main"]
    assert history["present_at_head"] is False
    assert history["also_matched"] == ["generic.anthropic-like"]
    local = parsed(history_report())["findings"][4]
    assert local["first_seen"] is None and local["last_seen"] is None
    assert local["secret_sha256"] is None and local["redacted"] is None


def test_stats() -> None:
    stats = parsed(history_report())["stats"]
    assert stats == {
        "commits": 17,
        "objects": 310,
        "blobs": 120,
        "files": 42,
        "bytes_scanned": 1_048_576,
        "seconds": 1.235,
        "sources": {"bundle": 1, "history": 120, "worktree": 3},
        "suppressed": {"baseline": 2, "pragma": 1},
        "skipped": {},
        "complete": True,
    }
    incomplete = parsed(incomplete_report())
    assert incomplete["status"] == "incomplete"
    assert incomplete["stats"]["complete"] is False
    assert incomplete["stats"]["skipped"]["symlink"] == {"count": 1, "examples": ["link\n::error::to"]}
    assert list(incomplete["stats"]["skipped"]) == ["missing-object", "symlink", "too-large"]


def test_failed_report_has_error() -> None:
    document = parsed(failed_report())
    assert document["status"] == "failed"
    assert "fetch-depth: 0" in document["error"]
    assert list(document)[-1] == "error"
    assert "error" not in parsed(history_report())


def test_deterministic_and_log_safe() -> None:
    for report in reports().values():
        text = render_json(report)
        assert text == render_json(report)
        assert text.endswith("}\n")
        assert log_safety_problems(text) == []
        text.encode("utf-8")  # no lone surrogate can reach the file


def test_hostile_strings_round_trip() -> None:
    text = render_json(history_report())
    weird = json.loads(text)["findings"][2]
    assert weird["first_seen"]["author"] == "Mallory\r\n::warning::pwned"
    assert weird["moved_from"] == "old\r\n::notice::moved"
    assert weird["locations"][0]["path"] == WEIRD_PATH
    assert "\\u202e" in text and "##\\u005b" in text
