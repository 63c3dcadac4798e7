"""SARIF 2.1.0 for GitHub code scanning: schema, Microsoft's Multitool, golden files and the
fields GitHub requires (asserted explicitly, since a serializer that drops defaults would pass a
schema check and still lose them)."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

import jsonschema  # type: ignore[import-untyped]
import pytest

import scanner
from scanner.model import Finding, Severity
from scanner.output.sarif import (
    MAX_GZIP_BYTES,
    MAX_RESULTS,
    SarifFile,
    automation_id,
    build_sarif,
    friendly_name,
    render_sarif,
)
from scanner.output.severity import SEVERITY_LEVELS, severity_level
from tests.output_fixtures import (
    RULES,
    WEIRD_COMMIT_AUTHOR,
    WEIRD_PATH_BYTES,
    check_golden,
    failed_report,
    history_report,
    incomplete_report,
    load_schema,
    log_safety_problems,
    reports,
)
from tests.sarif_multitool import ACCEPTED_NOTES, ACCEPTED_WARNINGS, describe_result, run_multitool

"""Multitool warnings we accept, by rule id, with the reason. None so far."""

"""Multitool notes (advice, not problems) we expect, by rule id, with the reason."""

URI_REFERENCE = re.compile(r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*$")


def document(report_name: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(render_sarif(reports()[report_name]))
    return parsed


def run_of(report_name: str) -> dict[str, Any]:
    run: dict[str, Any] = document(report_name)["runs"][0]
    return run


# --- golden files and schema ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(reports()))
def test_matches_golden(name: str) -> None:
    check_golden(f"{name}.sarif.json", render_sarif(reports()[name]))


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.protocols.Validator:
    schema = load_schema("sarif-schema-2.1.0.json")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("name", sorted(reports()))
def test_validates_against_sarif_schema(name: str, sarif_validator: jsonschema.protocols.Validator) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in sarif_validator.iter_errors(document(name))]
    assert errors == []


def test_schema_check_is_live(sarif_validator: jsonschema.protocols.Validator) -> None:
    broken = document("history")
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    broken["runs"][0]["results"][0]["level"] = "critical"
    assert len(list(sarif_validator.iter_errors(broken))) == 2


# --- Microsoft SARIF Multitool (one run for every golden report plus a negative control) ---------


def _negative_control() -> dict[str, Any]:
    broken = document("history")
    broken["runs"][0]["results"][1]["locations"] = []
    del broken["runs"][0]["tool"]["driver"]["rules"][0]["help"]
    return broken


@pytest.fixture(scope="module")
def multitool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[dict[str, Any]]]]:
    files = {f"{name}.sarif": render_sarif(report) for name, report in reports().items()}
    files["truncated.sarif"] = truncated().text
    files["negative-control.sarif"] = json.dumps(_negative_control(), indent=2)
    yield run_multitool(tmp_path_factory.mktemp("multitool"), files)


@pytest.mark.parametrize("name", [*sorted(reports()), "truncated"])
def test_multitool_finds_no_problem(name: str, multitool: dict[str, list[dict[str, Any]]]) -> None:
    results = multitool[f"{name}.sarif"]
    errors = [describe_result(r) for r in results if r.get("level", "warning") == "error"]
    warnings = [
        describe_result(r)
        for r in results
        if r.get("level", "warning") == "warning" and r["ruleId"] not in ACCEPTED_WARNINGS
    ]
    notes = [
        describe_result(r) for r in results if r.get("level") == "note" and r["ruleId"] not in ACCEPTED_NOTES
    ]
    assert errors == []
    assert warnings == []
    assert notes == []
    help_uri_notes = [r for r in results if r["ruleId"] == "SARIF2012"]
    assert all(r["message"]["id"] == "Note_ProvideHelpUri" for r in help_uri_notes)


def test_multitool_catches_what_github_rejects(multitool: dict[str, list[dict[str, Any]]]) -> None:
    errors = {
        (r["ruleId"], r["message"]["id"])
        for r in multitool["negative-control.sarif"]
        if r["level"] == "error"
    }
    assert ("GH1015", "Error_EmptyLocationsArray") in errors
    assert ("GH2012", "Error_MissingHelp") in errors


# --- what GitHub requires, field by field ----------------------------------------------------------


def test_log_and_run() -> None:
    log = document("history")
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "keysweep"
    assert driver["semanticVersion"] == scanner.__version__
    assert urlsplit(driver["informationUri"]).scheme == "https"
    assert run["columnKind"] == "utf16CodeUnits"
    assert run["automationDetails"] == {"id": "keysweep/history/"}
    root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == "file:///work/repo/"
    assert run["invocations"] == [{"executionSuccessful": True}]
    assert run["properties"] == {
        "keysweep/status": "ok",
        "keysweep/ruleset": history_report().ruleset,
        "keysweep/complete": True,
        "keysweep/suppressed": {"baseline": 2, "pragma": 1},
    }


@pytest.mark.parametrize(
    ("mode", "category"),
    [
        ("history", "keysweep/history/"),
        ("tree", "keysweep/tree/"),
        ("directory", "keysweep/tree/"),
        ("range", "keysweep/range/"),
        ("staged", "keysweep/staged/"),
    ],
)
def test_category(mode: str, category: str) -> None:
    assert automation_id(mode) == category
    report = dataclasses.replace(
        incomplete_report(), scan=dataclasses.replace(incomplete_report().scan, mode=mode)
    )
    assert json.loads(render_sarif(report))["runs"][0]["automationDetails"]["id"] == category


def test_relative_target_gives_filesystem_root() -> None:
    report = dataclasses.replace(
        history_report(), scan=dataclasses.replace(history_report().scan, target=".")
    )
    run = json.loads(render_sarif(report))["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"] == {"uri": "file:///"}


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("OpenAI project API key", "OpenAiProjectApiKey"),
        ("Claude Code OAuth access token", "ClaudeCodeOauthAccessToken"),
        ("Database URL with a password", "DatabaseUrlWithPassword"),
        ("xAI Grok API key", "XaiGrokApiKey"),
        ("RSA private key (PKCS#1)", "RsaPrivateKeyPkcs1"),
        ("A", "A"),
    ],
)
def test_friendly_names_are_strict_pascal_case(title: str, name: str) -> None:
    assert friendly_name(title) == name


def test_every_rule_is_described() -> None:
    rules = run_of("history")["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == sorted(rule.id for rule in RULES)
    by_id = {rule.id: rule for rule in RULES}
    for descriptor in rules:
        rule = by_id[descriptor["id"]]
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]+)+", descriptor["name"]), descriptor["name"]
        assert descriptor["shortDescription"]["text"] == rule.name
        assert 0 < len(descriptor["fullDescription"]["text"]) <= 1024
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"]
        for text in (descriptor["help"]["text"], descriptor["help"]["markdown"]):
            revoke, rotate, clean = (text.index(word) for word in ("Revoke", "Rotate", "Clean history"))
            assert revoke < rotate < clean
            if rule.revoke_url:
                assert rule.revoke_url in text
        expected = severity_level(rule.severity)
        assert descriptor["defaultConfiguration"] == {"level": expected.level}
        properties = descriptor["properties"]
        assert properties["tags"] == ["security", "secret", rule.provider]
        assert properties["precision"] == rule.confidence.value
        assert properties["security-severity"] == expected.security_severity
        assert 0.0 < float(properties["security-severity"]) <= 10.0
    long_description = next(d for d in rules if d["id"] == "anthropic.api-key")["fullDescription"]["text"]
    assert len(long_description) == 1024 and long_description.endswith("…")


def test_severity_table() -> None:
    assert {s: (v.level, v.security_severity) for s, v in SEVERITY_LEVELS.items()} == {
        Severity.CRITICAL: ("error", "9.5"),
        Severity.HIGH: ("error", "8.0"),
        Severity.MEDIUM: ("warning", "5.5"),
        Severity.LOW: ("note", "2.0"),
    }
    assert float(SEVERITY_LEVELS[Severity.CRITICAL].security_severity) >= 9.1


def test_results_carry_every_required_field() -> None:
    run = run_of("history")
    rules = run["tool"]["driver"]["rules"]
    report = history_report()
    assert len(run["results"]) == len(report.findings)
    for result, finding in zip(run["results"], report.findings, strict=True):
        assert result["ruleId"] == finding.rule_id
        assert rules[result["ruleIndex"]]["id"] == finding.rule_id
        assert result["level"] == severity_level(finding.severity).level  # explicit, even "warning"
        assert result["message"]["text"].strip()
        assert 1 <= len(result["locations"]) <= 10
        old = {"keysweep/path/v1": finding.legacy_fingerprints[0]} if finding.legacy_fingerprints else {}
        assert result["partialFingerprints"] == {
            "primaryLocationLineHash": finding.fingerprint,
            "keysweep/v1": finding.fingerprint,
            **old,
        }
        shown = list(result["locations"])
        if "relatedLocations" in result and finding.locations[0].source.value == "bundle":
            shown[0] = result["relatedLocations"][0]  # the bundle, behind its source-map origin
        for location, source in zip(shown, finding.locations, strict=False):
            physical = location["physicalLocation"]
            artifact = physical["artifactLocation"]
            assert artifact["uriBaseId"] == "%SRCROOT%"
            assert urlsplit(artifact["uri"]).scheme == "" and not artifact["uri"].startswith("/")
            assert URI_REFERENCE.match(artifact["uri"]), artifact["uri"]
            region = physical["region"]
            assert region == {
                "startLine": source.position.line,
                "startColumn": source.position.column,
                "endLine": source.position.end_line,
                "endColumn": source.position.end_column,
            }
            assert location["properties"]["keysweep/source"] == source.source.value
            assert location["properties"].get("keysweep/commit") == source.commit
            assert location["properties"].get("keysweep/blob") == source.blob
    levels = [result["level"] for result in run["results"]]
    assert levels == ["error", "error", "error", "warning", "note"]
    assert '"level": "warning"' in render_sarif(report)


def test_locations_are_capped_at_ten_most_significant_first() -> None:
    result = run_of("history")["results"][1]
    finding = history_report().findings[1]
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in result["locations"]]
    assert len(uris) == 10
    assert uris[0] == "services/svc-00/settings%20with%20space%230.py"
    assert result["properties"]["keysweep/locations_total"] == finding.locations_total == 17
    assert result["locations"][0]["properties"]["keysweep/encoding"] == "base64"


def test_an_untracked_bundle_leads_with_its_source_map_origin() -> None:
    result = run_of("history")["results"][0]
    origin = result["locations"][0]["physicalLocation"]
    assert origin["artifactLocation"]["uri"] == "src/api/client.ts"
    assert (origin["region"]["startLine"], origin["region"]["startColumn"]) == (12, 18)
    assert "[the bundle as built](1)" in result["message"]["text"]
    (location,) = result["relatedLocations"]
    assert location["id"] == 1
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "dist/assets/index-3f2a1c.js"
    assert location["properties"] == {
        "keysweep/source": "bundle",
        "keysweep/byte_offset": 48212,
        "keysweep/original": {"path": "src/api/client.ts", "line": 12, "column": 18},
        "keysweep/client_bundle": "build-output",
        "keysweep/context": "apiKey: …",
    }
    assert location["message"] == {"text": "client bundle, build output (not tracked): apiKey: …"}


def test_untracked_bundle_message_says_build_output() -> None:
    text = run_of("history")["results"][0]["message"]["text"]
    assert "build output, not tracked in the repository" in text
    assert 'Assigned as "apiKey: …".' in text


def test_hostile_path_is_percent_encoded_from_its_bytes() -> None:
    result = run_of("history")["results"][2]
    first, second = (loc["physicalLocation"]["artifactLocation"]["uri"] for loc in result["locations"])
    assert unquote_to_bytes(first) == WEIRD_PATH_BYTES
    assert URI_REFERENCE.match(first) and URI_REFERENCE.match(second)
    assert second.startswith("%3A%3Aerror")  # no scheme, no command
    assert urlsplit(second).scheme == ""


def test_result_properties_and_message() -> None:
    run = run_of("history")
    bundle, history, weird, exposure, local = run["results"]
    finding = history_report().findings[0]
    assert bundle["properties"] == {
        "keysweep/kind": "secret",
        "keysweep/severity": "critical",
        "keysweep/confidence": "high",
        "keysweep/exposure": "client-bundle",
        "keysweep/secret_sha256": finding.secret_sha256,
        "keysweep/present_at_head": True,
        "keysweep/present_at_refs": ["refs/heads/main"],
        "keysweep/locations_total": 2,
        "keysweep/first_seen_commit": finding.first_seen.commit,  # type: ignore[union-attr]
        "keysweep/first_seen_author_time": "2024-01-02T10:00:00Z",
        "keysweep/first_seen_commit_time": "2024-01-02T10:05:00Z",
        "keysweep/last_seen_commit": finding.last_seen.commit,  # type: ignore[union-attr]
    }
    text = bundle["message"]["text"]
    assert text.startswith("Leaked OpenAI project API key sk-proj-…X9aA (164) (openai.project-key).")
    assert "client-side bundle" in text and "still present at HEAD" in text
    assert finding.first_seen.commit[:12] in text  # type: ignore[union-attr]
    assert "Alice" not in render_sarif(history_report())  # no personal data in SARIF
    assert WEIRD_COMMIT_AUTHOR not in render_sarif(history_report())
    assert "no longer at HEAD" in history["message"]["text"]
    assert exposure["message"]["text"].startswith(
        "OpenAI client allowed in the browser (openai.browser-exposure)."
    )
    assert "keysweep/secret_sha256" not in local["properties"]
    assert local["message"]["text"].startswith("Leaked Mistral API key (mistral.api-key).")
    assert weird["properties"]["keysweep/moved_from"] == "old\r\n::notice::moved"


def test_incomplete_run_reports_skips() -> None:
    run = run_of("incomplete")
    assert run["automationDetails"] == {"id": "keysweep/tree/"}
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is True
    notifications = invocation["toolExecutionNotifications"]
    assert [n["descriptor"]["id"] for n in notifications] == [
        "keysweep/skipped/missing-object",
        "keysweep/skipped/symlink",
        "keysweep/skipped/too-large",
    ]
    assert all(n["level"] == "warning" for n in notifications)
    assert notifications[0]["message"]["text"].startswith("Skipped 2 items (missing-object)")
    assert run["properties"]["keysweep/complete"] is False
    assert len(run["results"]) == 3


def test_failed_run_has_no_results() -> None:
    run = run_of("failed")
    assert run["results"] == []
    (invocation,) = run["invocations"]
    assert invocation["executionSuccessful"] is False
    assert invocation["toolExecutionNotifications"][0]["level"] == "error"
    assert "fetch-depth: 0" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    with_findings = dataclasses.replace(failed_report(), findings=history_report().findings)
    assert json.loads(render_sarif(with_findings))["runs"][0]["results"] == []
    assert len(run["tool"]["driver"]["rules"]) == len(RULES)


def test_unknown_rule_gets_a_stand_in_descriptor() -> None:
    report = history_report()
    report = dataclasses.replace(report, rules=tuple(r for r in report.rules if r.id != "groq.api-key"))
    run = json.loads(render_sarif(report))["runs"][0]
    result = run["results"][2]
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "groq.api-key"


def test_deterministic_and_log_safe() -> None:
    for report in reports().values():
        text = render_sarif(report)
        assert text == render_sarif(report)
        assert log_safety_problems(text) == []
        text.encode("utf-8")


# --- GitHub's upload limits ----------------------------------------------------------------------


def many(count: int) -> tuple[Finding, ...]:
    """`count` distinct findings, in the report's order (most severe first)."""
    severities = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
    base = history_report().findings[1]
    out = [
        dataclasses.replace(
            base,
            severity=severities[min(3, i * 4 // count)],
            fingerprint=f"{i:064x}",
            secret_sha256=f"{i + 1:064x}",
            locations=base.locations[:2],
            locations_total=2,
        )
        for i in range(count)
    ]
    return tuple(out)


def truncated() -> SarifFile:
    report = dataclasses.replace(history_report(), findings=many(40))
    return build_sarif(report, max_results=25)


def test_limits_are_githubs() -> None:
    assert MAX_RESULTS == 25_000
    assert MAX_GZIP_BYTES == 10_000_000
    doc = document("history")
    assert all(len(r["locations"]) <= 10 for r in doc["runs"][0]["results"])  # far under 1,000


def test_over_the_result_limit_the_most_severe_are_kept(
    sarif_validator: jsonschema.protocols.Validator,
) -> None:
    written = truncated()
    run = json.loads(written.text)["runs"][0]
    assert (written.results, written.omitted) == (25, 15)
    assert len(run["results"]) == 25
    levels = [r["properties"]["keysweep/severity"] for r in run["results"]]
    assert levels == ["critical"] * 10 + ["high"] * 10 + ["medium"] * 5  # the least severe went
    assert run["properties"]["keysweep/results_total"] == 40
    assert run["properties"]["keysweep/results_omitted"] == 15
    assert run["properties"]["keysweep/results_limit"] == "GitHub accepts at most 25 results per run"
    (notice,) = run["invocations"][0]["toolExecutionNotifications"]
    assert notice["descriptor"]["id"] == "keysweep/truncated" and notice["level"] == "warning"
    assert notice["message"]["text"].startswith("15 of 40 results were left out, the least severe first")
    assert list(sarif_validator.iter_errors(json.loads(written.text))) == []
    untouched = build_sarif(dataclasses.replace(history_report(), findings=many(40)))
    assert untouched.omitted == 0 and "keysweep/results_omitted" not in untouched.text


def test_the_real_result_limit() -> None:
    report = dataclasses.replace(history_report(), findings=many(MAX_RESULTS + 3))
    written = build_sarif(report)
    assert written.results == MAX_RESULTS and written.omitted == 3
    assert written.limit == "GitHub accepts at most 25,000 results per run"


def test_over_the_gzip_limit_results_are_cut_until_it_fits() -> None:
    report = dataclasses.replace(history_report(), findings=many(400))
    full = build_sarif(report)
    size = len(gzip.compress(full.text.encode(), mtime=0))
    limit = size // 2
    written = build_sarif(report, max_gzip_bytes=limit)
    assert 0 < written.results < 400 and written.omitted == 400 - written.results
    assert len(gzip.compress(written.text.encode(), mtime=0)) <= limit
    assert written.limit == f"GitHub accepts at most {limit / 1e6:g} MB of gzipped SARIF per upload"
    run = json.loads(written.text)["runs"][0]
    assert run["properties"]["keysweep/results_omitted"] == written.omitted
    severities = [r["properties"]["keysweep/severity"] for r in run["results"]]
    assert severities == sorted(severities, key=["critical", "high", "medium", "low"].index)
