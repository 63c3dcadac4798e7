"""SARIF 2.1.0 for GitHub code scanning (github.md §1, ARCHITECTURE.md §7).

Built as plain dicts and serialized with the standard `json` module rather than through
sarif-om's object model: sarif-om's serializer (jschema-to-python) drops every value equal to its
schema default — `level: "warning"`, `kind: "fail"`, index `-1` — so a result could silently lose
a field GitHub requires, and the classes are untyped (a mypy hole in a strict codebase). Its
serializer is also not a dependency here. A dict with a fixed key order writes exactly what we
mean, deterministically, and the golden tests check every field GitHub reads.

Choices worth knowing:

- `ruleId` is the rule id itself (`openai.project-key`), stable forever; `ruleIndex` points into
  `tool.driver.rules`, which lists every rule of the ruleset sorted by id.
- A result's `level` comes from the finding's severity (a bundle leak is critical whatever the
  rule says); GitHub reads `security-severity` from the rule only, where it comes from the rule's
  own severity. Both go through `scanner.output.severity`.
- Locations: the first ten of the finding's (already ordered) locations, with repository-relative
  URIs under `%SRCROOT%` and 1-based regions in UTF-16 code units (`run.columnKind`). Commit and
  blob ids go in each location's `properties`, never in the URI (GitHub rejects a scheme other
  than the checkout's).
- `partialFingerprints.primaryLocationLineHash` is keysweep's own fingerprint (an HMAC of the
  secret digest; for an exposure, of its rule and exposed name), so an alert keeps its identity
  when a line moves or the file is gone from the checkout; `keysweep/v1` carries the same value
  under a versioned key. An exposure finding also carries, under `keysweep/path/v1`, the
  fingerprint its primary location had when exposures were one per path.
- The message names the rule, the redacted preview, the exposure and the first-seen commit; the
  secret is not in the model, so it cannot be written. Author names stay out of SARIF.
- Rule help comes from `scanner/templates/remediation/` (`scanner.output.remediation`): revoke,
  rotate without downtime, move the key out of the code, clean history, each once.
- Within GitHub's limits (25,000 results per run, 10 MB gzipped; at most ten locations are
  written, far under the 1,000 per result): over them the most severe results are kept and the
  run's properties (`keysweep/results_omitted`) and a notification say how many were not.
- Categories (`automationDetails.id`) hold complete states only: `keysweep/tree/` and
  `keysweep/history/` are uploaded; `keysweep/range/` and `keysweep/staged/` are local.
- A failed scan has no results and `executionSuccessful: false`, so an upload can never mark
  real alerts fixed.
- Suppression: a baselined finding stays a result, with `suppressions` (external, accepted, the
  entry's reason) and `baselineState: unchanged`; with a baseline every result has a
  `baselineState` (`new`, or `updated` for a baselined secret now held by more files). Pragma,
  allowlist and disabled-rule findings are not results — GitHub ingests a suppressed result as an
  open alert unless the repository treats suppressions as dismissals — and are counted by reason,
  with the baselined ones, in `run.properties["keysweep/suppressed"]`. Stale baseline entries are
  counted in `keysweep/baseline`, not written as `absent` results, for the same reason.
- Pragmas the scanned change adds (range, staged): a finding such a pragma suppressed is listed in
  `run.properties["keysweep/suppressed_by_added_pragma"]` (rule, fingerprint, path, line), so a
  reviewer sees the author's approval of their own key; a result whose added pragma did not
  suppress it says why in `keysweep/pragma_ignored`.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from scanner.model import (
    BaselineState,
    Finding,
    Kind,
    Location,
    Report,
    Rule,
    SourceKind,
    Stats,
    Suppression,
    SuppressKind,
)
from scanner.output import verification
from scanner.output.context import RenderContext
from scanner.output.escape import dump_json
from scanner.output.sarif_origin import SRCROOT, origin_first, origin_shown
from scanner.output.sarif_rules import friendly_name as friendly_name  # the rule descriptors' module
from scanner.output.sarif_rules import rule_descriptor, rule_table
from scanner.output.severity import severity_level
from scanner.output.where import build_output, bundle_kind, public_by_design, where
from scanner.output.window import window_line

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/keysweep/keysweep"
MAX_LOCATIONS = 10
PATH_FINGERPRINT = "keysweep/path/v1"  # an exposure's per-path fingerprint from before grouping
"""GitHub uses only the first location and shows at most this many (github.md §1.1)."""
MAX_RESULTS = 25_000
"""GitHub refuses a run with more results (github.md §1.3)."""
MAX_GZIP_BYTES = 10_000_000
"""GitHub refuses a SARIF file larger than 10 MB gzipped (github.md §1.3)."""


@dataclass(frozen=True, slots=True)
class SarifFile:
    """A SARIF log as written, and what was left out of it to stay within GitHub's limits."""

    text: str
    results: int
    omitted: int = 0
    limit: str | None = None
    """Which limit made keysweep leave results out (None when nothing was)."""


def render(report: Report, context: RenderContext) -> str:
    """The SARIF log for `report`, as text ending in a newline."""
    return build_sarif(report, context).text


def render_sarif(report: Report) -> str:
    """`render` with the default context."""
    return render(report, RenderContext())


def build_sarif(
    report: Report,
    context: RenderContext | None = None,
    *,
    max_results: int = MAX_RESULTS,
    max_gzip_bytes: int = MAX_GZIP_BYTES,
) -> SarifFile:
    """The SARIF log for `report` within GitHub's upload limits (github.md §1.3).

    Over 25,000 results, or over 10 MB gzipped, the most severe results are kept (the findings
    come ordered by severity, then first-seen time) and the run's properties and a notification
    say how many were left out and why; GitHub would refuse the whole file otherwise. A writer
    that must say so (the Action's log and summary) calls this rather than `render`.
    """
    document = sarif_document(report, context or RenderContext())
    run = document["runs"][0]
    results: list[dict[str, Any]] = run["results"]
    total = len(results)
    kept, limit = total, None
    if total > max_results:
        kept, limit = max_results, f"GitHub accepts at most {max_results:,} results per run"
    text = _with_results(document, results, kept, total, limit)
    size = _gzipped_size(text)
    while size > max_gzip_bytes and kept > 0:
        limit = f"GitHub accepts at most {max_gzip_bytes / 1e6:g} MB of gzipped SARIF per upload"
        kept = min(kept - 1, int(kept * max_gzip_bytes / size * 0.95))
        kept = max(kept, 0)
        text = _with_results(document, results, kept, total, limit)
        size = _gzipped_size(text)
    return SarifFile(text=text, results=kept, omitted=total - kept, limit=limit)


def _with_results(
    document: dict[str, Any], results: list[dict[str, Any]], kept: int, total: int, limit: str | None
) -> str:
    """`document` serialized with its first `kept` results, saying so when some were left out."""
    if kept == total:
        return dump_json(document)
    run = dict(document["runs"][0])
    run["results"] = results[:kept]
    omitted = total - kept
    run["properties"] = run["properties"] | {
        "keysweep/results_total": total,
        "keysweep/results_omitted": omitted,
        "keysweep/results_limit": limit,
    }
    invocation = dict(run["invocations"][0])
    notice = _notification(
        "keysweep/truncated",
        "warning",
        f"{omitted:,} of {total:,} results were left out, the least severe first: {limit}. "
        "The JSON report (--json) and the job summary count them all.",
    )
    invocation["toolExecutionNotifications"] = [*invocation.get("toolExecutionNotifications", []), notice]
    run["invocations"] = [invocation]
    return dump_json(document | {"runs": [run]})


def _gzipped_size(text: str) -> int:
    return len(gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0))


def sarif_document(report: Report, context: RenderContext | None = None) -> dict[str, Any]:
    """The SARIF log as plain data, every result included (what `build_sarif` trims and writes).

    Results are ordered most severe first, so that a cut keeps the most severe.
    """
    context = context or RenderContext()
    rules = rule_table(report)
    index = {rule.id: position for position, rule in enumerate(rules)}
    failed = report.status == "failed"
    ordered = sorted(report.findings, key=lambda finding: -finding.severity.rank)  # stable
    results = [] if failed else [_result(finding, rules, index) for finding in ordered]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "keysweep",
                "semanticVersion": context.version,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(rule) for rule in rules],
            }
        },
        "invocations": [_invocation(report)],
        "originalUriBaseIds": {SRCROOT: _source_root(report.scan.root or report.scan.target)},
        "automationDetails": {"id": category(report, context) + "/"},
        "columnKind": "utf16CodeUnits",
        "results": results,
        "properties": _run_properties(report),
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def _run_properties(report: Report) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "keysweep/status": report.status,
        "keysweep/ruleset": report.ruleset,
        "keysweep/complete": report.stats.complete,
    }
    if report.stats.suppressed:
        properties["keysweep/suppressed"] = dict(sorted(report.stats.suppressed.items()))
    added = _added_pragmas(report)
    if added:
        properties["keysweep/suppressed_by_added_pragma"] = [
            {
                "ruleId": f.rule_id,
                "fingerprint": f.fingerprint,
                "uri": artifact_uri(loc) if loc is not None else None,
                "line": loc.position.line if loc is not None else None,
            }
            for f, loc in added
        ]
    if report.baseline is not None:
        b = report.baseline
        properties["keysweep/baseline"] = {
            "entries": b.entries,
            "matched": b.matched,
            "grown": b.grown,
            "stale": len(b.stale) if b.stale_checked else None,
        }
    return properties


def category(report: Report, context: RenderContext) -> str:
    """The run's category as `upload-sarif` names it: the context's, else the report's mode's."""
    return context.category or automation_id(report.scan.mode).rstrip("/")


def automation_id(mode: str) -> str:
    """The run's category: `keysweep/history/` for a full sweep, `keysweep/range/` for a range and
    `keysweep/staged/` for the index (partial states, never to be uploaded over a complete one),
    `keysweep/tree/` for the tree and directory scans."""
    if mode in ("history", "range", "staged"):
        return f"keysweep/{mode}/"
    return "keysweep/tree/"


# --- results -----------------------------------------------------------------------------------


def _result(finding: Finding, rules: Sequence[Rule], index: dict[str, int]) -> dict[str, Any]:
    rule_index = index[finding.rule_id]
    rule = rules[rule_index]
    locations = finding.locations[:MAX_LOCATIONS]
    properties: dict[str, Any] = {
        "keysweep/kind": finding.kind.value,
        "keysweep/severity": finding.severity.value,
        "keysweep/confidence": finding.confidence.value,
        "keysweep/exposure": finding.exposure.value,
        "keysweep/secret_sha256": finding.secret_sha256,
        "keysweep/present_at_head": finding.present_at_head,
        "keysweep/present_at_refs": list(finding.present_at_refs),
        "keysweep/locations_total": finding.locations_total,
    }
    if finding.first_seen is not None:
        properties["keysweep/first_seen_commit"] = finding.first_seen.commit
        properties["keysweep/first_seen_author_time"] = finding.first_seen.author_time
        properties["keysweep/first_seen_commit_time"] = finding.first_seen.commit_time
    if finding.first_seen_truncated:
        properties["keysweep/first_seen_truncated"] = True
    if finding.last_seen is not None:
        properties["keysweep/last_seen_commit"] = finding.last_seen.commit
    if finding.also_matched:
        properties["keysweep/also_matched"] = list(finding.also_matched)
    if finding.moved_from is not None:
        properties["keysweep/moved_from"] = finding.moved_from
    if finding.severity_reason is not None:
        properties["keysweep/severity_reason"] = finding.severity_reason
    if finding.scope is not None:
        properties["keysweep/scope"] = finding.scope
    if finding.pragma_ignored is not None:
        properties["keysweep/pragma_ignored"] = finding.pragma_ignored
    if finding.verification is not None:  # --verify
        properties["keysweep/verification"] = verification.document(finding.verification)
    properties |= _window(finding)
    result: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": severity_level(finding.severity).level,
        "message": {"text": result_message(finding, rule)},
        "locations": [_location(location) for location in locations] or [_nowhere()],
        "partialFingerprints": _fingerprints(finding),
    }
    origin_first(result, locations)
    if finding.suppression is not None:
        result["suppressions"] = [_suppression(finding.suppression)]
    if finding.baseline_state is not None:
        result["baselineState"] = finding.baseline_state.value
    result["properties"] = {key: value for key, value in properties.items() if value is not None}
    return result


def _fingerprints(finding: Finding) -> dict[str, str]:
    """keysweep's own stable value under GitHub's key and the versioned one; an exposure finding
    adds its primary location's fingerprint from before exposures were grouped by name (one per
    path) under `keysweep/path/v1`, so a consumer that matches results on any shared partial
    fingerprint (SARIF 2.1.0 §3.27.17) links the old per-path alert to the grouped one."""
    prints = {"primaryLocationLineHash": finding.fingerprint, "keysweep/v1": finding.fingerprint}
    if finding.legacy_fingerprints:
        prints[PATH_FINGERPRINT] = finding.legacy_fingerprints[0]
    return prints


def _suppression(s: Suppression) -> dict[str, Any]:
    kind = "inSource" if s.kind is SuppressKind.PRAGMA else "external"
    return {
        "kind": kind,
        "status": "accepted",
        "justification": s.reason,
        "properties": {"keysweep/reason": s.kind.value},
    }


def _window(finding: Finding) -> dict[str, Any]:
    """The exposure window's properties (issue 24): only those the finding has."""
    out: dict[str, Any] = {}
    if finding.age_days is not None:
        out["keysweep/age_days"] = finding.age_days
    if finding.removed is not None:
        out["keysweep/removed_commit"] = finding.removed.commit
        out["keysweep/removed_commit_time"] = finding.removed.commit_time
    if finding.never_rotated is not None:
        out["keysweep/never_rotated"] = finding.never_rotated.reason
        out["keysweep/never_rotated_places_at_head"] = finding.never_rotated.places_at_head
    if finding.environments is not None:
        out["keysweep/environments"] = list(finding.environments.names)
        if finding.environments.together is not None:
            out["keysweep/environments_together"] = finding.environments.together
    window = window_line(finding)
    if window is not None:
        out["keysweep/window"] = window
    return out


def result_message(finding: Finding, rule: Rule) -> str:
    """The alert title: rule, redacted preview, exposure, first-seen commit. Never the secret."""
    name = rule.name or rule.id
    if finding.kind is Kind.EXPOSURE:
        first = f"{name} ({rule.id})."
    elif public_by_design(finding, rule):
        shown = f" {finding.redacted}" if finding.redacted else ""
        first = f"{name}{shown} ({rule.id}) in a Firebase web config, public by design."
    elif finding.redacted:
        first = f"Leaked {name} {finding.redacted} ({rule.id})."
    else:
        first = f"Leaked {name} ({rule.id})."
    parts = [first, f"It is {where(finding)}."]
    if verification.is_live(finding):  # --verify: the provider accepted it
        parts.insert(1, "The provider says this key is live: revoke it now.")
    if finding.severity_reason is not None:
        parts.append(f"Severity {finding.severity.value}: {finding.severity_reason.rstrip('.')}.")
    if build_output(finding) and origin_shown(finding):
        parts.append(
            "The location is the source line that put the key in [the bundle as built](1) (build"
            " output, not tracked in the repository, which code scanning cannot show), from its source map."
        )
    elif build_output(finding):
        parts.append(
            "The location is the bundle as built (build output, not tracked in the repository),"
            " so code scanning cannot show the file."
        )
    context = finding.locations[0].context if finding.locations else None
    if context is not None and finding.kind is Kind.SECRET:
        parts.append(f'Assigned as "{context}".')
    if finding.present_at_head is True:
        parts.append("It is still present at HEAD.")
    elif finding.present_at_head is False:
        parts.append("It is no longer at HEAD but remains in history.")
    if finding.first_seen is not None:
        seen = finding.first_seen
        parts.append(f"First seen in commit {seen.commit[:12]} ({seen.commit_time}).")
    elif finding.first_seen_truncated:
        parts.append("Its first commit lies beyond what was read (shallow or incomplete history).")
    window = window_line(finding)
    if window is not None:
        parts.append(f"Exposure: {window}.")
    if finding.locations_total > 1:
        parts.append(f"Found in {finding.locations_total} locations.")
    if finding.pragma_ignored is not None:
        parts.append(
            f"A keysweep:allow that this change adds does not suppress it: {finding.pragma_ignored}."
        )
    if finding.suppression is not None:
        parts.append(f"Suppressed ({finding.suppression.kind.value}): {finding.suppression.reason}.")
    elif finding.baseline_state is BaselineState.UPDATED:
        parts.append("It is in the baseline, but more files hold it than when it was baselined.")
    return " ".join(parts)


def artifact_uri(location: Location) -> str:
    """A repository-relative URI reference for the location's path.

    Every reserved character is percent-encoded (a `:` in the first segment would otherwise read
    as a scheme); a path that is not valid UTF-8 is encoded from its original bytes.
    """
    raw: bytes | str = location.path
    if location.path_bytes is not None:
        try:
            raw = base64.b64decode(location.path_bytes, validate=True)
        except ValueError:
            raw = location.path
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return quote(raw.lstrip(b"/"), safe="/")


def _location(location: Location) -> dict[str, Any]:
    position = location.position
    start_line = max(1, position.line)
    start_column = max(1, position.column)
    end_line = max(start_line, position.end_line)
    end_column = max(1, position.end_column)
    if end_line == start_line:
        end_column = max(start_column, end_column)
    properties: dict[str, Any] = {
        "keysweep/source": location.source.value,
        "keysweep/commit": location.commit,
        "keysweep/blob": location.blob,
        "keysweep/byte_offset": position.byte_offset,
        "keysweep/encoding": location.encoding,
        "keysweep/path_bytes": location.path_bytes,
    }
    if location.original is not None:
        original = location.original
        properties["keysweep/original"] = {
            "path": original.path,
            "line": original.line,
            "column": original.column,
        }
    described: dict[str, Any] = {}
    if location.client_bundle:
        properties["keysweep/client_bundle"] = bundle_kind(location)
        note = "client bundle, " + (
            "build output (not tracked)" if location.source is SourceKind.BUNDLE else "tracked"
        )
        described["message"] = {"text": note + (f": {location.context}" if location.context else "")}
    elif location.context is not None:
        described["message"] = {"text": location.context}
    if location.context is not None:
        properties["keysweep/context"] = location.context
    return described | {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(location), "uriBaseId": SRCROOT},
            "region": {
                "startLine": start_line,
                "startColumn": start_column,
                "endLine": end_line,
                "endColumn": end_column,
            },
        },
        "properties": {key: value for key, value in properties.items() if value is not None},
    }


def _nowhere() -> dict[str, Any]:
    """A location for a finding that lost all of its (GitHub rejects an empty `locations`)."""
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": ".", "uriBaseId": SRCROOT},
            "region": {"startLine": 1, "startColumn": 1, "endLine": 1, "endColumn": 1},
        }
    }


# --- run ---------------------------------------------------------------------------------------


def _source_root(target: str) -> dict[str, Any]:
    """`%SRCROOT%`: the directory the paths are relative to (the repository's working tree or the
    scanned directory, made absolute by the pipeline); a relative path (a report built without
    one) falls back to the filesystem root.

    GitHub resolves relative URIs against the checkout itself; this only keeps the log valid
    SARIF on its own (an absolute URI ending in `/`).
    """
    root = target if target.startswith("/") else "/"
    uri = "file://" + quote(root.encode("utf-8", "surrogateescape"), safe="/")
    return {"uri": uri if uri.endswith("/") else uri + "/"}


def _invocation(report: Report) -> dict[str, Any]:
    notifications: list[dict[str, Any]] = []
    if report.status == "failed":
        notifications.append(
            _notification("keysweep/failed", "error", f"The scan failed: {report.error or 'unknown error'}.")
        )
    if not report.stats.complete or report.status == "incomplete":
        notifications.extend(_skip_notifications(report.stats))
    invocation: dict[str, Any] = {"executionSuccessful": report.status != "failed"}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return invocation


def _skip_notifications(stats: Stats) -> Iterable[dict[str, Any]]:
    reasons = sorted(set(stats.skipped) | set(stats.skipped_examples))
    if not reasons:
        yield _notification("keysweep/incomplete", "warning", "The scan did not cover everything.")
    for reason in reasons:
        examples = stats.skipped_examples.get(reason, ())
        count = stats.skipped.get(reason, len(examples))
        text = f"Skipped {count} item{'s' if count != 1 else ''} ({reason}); findings there may be missing."
        if examples:
            text += " For example: " + ", ".join(examples[:3]) + "."
        yield _notification(f"keysweep/skipped/{reason}", "warning", text)


def _added_pragmas(report: Report) -> list[tuple[Finding, Location | None]]:
    """The findings a pragma that the scanned change adds suppressed, each with that pragma's line."""
    return [
        (f, next((loc for loc in f.locations if loc.pragma_added), None))
        for f in report.suppressed
        if f.suppression is not None and f.suppression.added
    ]


def _notification(descriptor: str, level: str, text: str) -> dict[str, Any]:
    return {"descriptor": {"id": descriptor}, "level": level, "message": {"text": text}}
