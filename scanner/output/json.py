"""The JSON report, version "1" (ARCHITECTURE.md §7).

Field order is fixed (the order below), so the output is byte-for-byte deterministic for a given
report. Findings keep the caller's order (severity, first-seen time, rule id, fingerprint).
The secret itself is not in the model, so it cannot appear here; only its digest and redacted
preview do. The schema lives in `tests/schemas/keysweep-report-v1.json`.
"""

from __future__ import annotations

from typing import Any

import scanner
from scanner.model import BaselineSummary, CommitRef, Finding, Location, Report, Stats, SuppressKind
from scanner.output import verification
from scanner.output.context import RenderContext
from scanner.output.escape import dump_json
from scanner.output.where import bundle_kind

REPORT_VERSION = "1"


def render(report: Report, context: RenderContext) -> str:
    """The JSON report for `report`, as text ending in a newline."""
    return dump_json(report_document(report, context.version))


def render_json(report: Report) -> str:
    """`render` with the default context."""
    return render(report, RenderContext())


def report_document(report: Report, version: str = scanner.__version__) -> dict[str, Any]:
    """The JSON report as plain data (what `render` serializes)."""
    document: dict[str, Any] = {
        "version": REPORT_VERSION,
        "status": report.status,
        "tool": {"name": "keysweep", "version": version, "ruleset": report.ruleset},
        "scan": {
            "mode": report.scan.mode,
            "target": report.scan.target,
            "head": report.scan.head,
            "range": report.scan.range,
            **({"started": report.scan.started} if report.scan.started is not None else {}),
        },
        "stats": _stats(report.stats),
        "findings": [_finding(finding) for finding in report.findings],
        # pragma, allowlist and disabled-rule findings: not counted, kept with their reason
        "suppressed": [_finding(finding) for finding in report.suppressed],
    }
    if report.baseline is not None:
        document["baseline"] = _baseline(report.baseline)
    if report.status == "failed" or report.error is not None:
        document["error"] = report.error or "the scan failed"
    return document


def _stats(stats: Stats) -> dict[str, Any]:
    reasons = sorted(set(stats.skipped) | set(stats.skipped_examples))
    return {
        "commits": stats.commits,
        "objects": stats.objects,
        "blobs": stats.blobs,
        "files": stats.files,
        "bytes_scanned": stats.bytes_scanned,
        "seconds": round(stats.seconds, 3),
        "sources": dict(sorted(stats.sources.items())),
        "suppressed": dict(sorted(stats.suppressed.items())),
        "skipped": {
            reason: {
                "count": stats.skipped.get(reason, len(stats.skipped_examples.get(reason, ()))),
                "examples": list(stats.skipped_examples.get(reason, ())),
            }
            for reason in reasons
        },
        "complete": stats.complete,
    }


def _finding(finding: Finding) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": finding.kind.value,
        "rule_id": finding.rule_id,
        "provider": finding.provider,
        "severity": finding.severity.value,
        "severity_reason": finding.severity_reason,
        "confidence": finding.confidence.value,
        "secret_sha256": finding.secret_sha256,
        "redacted": finding.redacted,
        "fingerprint": finding.fingerprint,
        "also_matched": list(finding.also_matched),
        "exposure": finding.exposure.value,
        "present_at_head": finding.present_at_head,
        "present_at_refs": list(finding.present_at_refs),
        "first_seen": _commit(finding.first_seen),
        "last_seen": _commit(finding.last_seen),
        "first_seen_truncated": finding.first_seen_truncated,
        "moved_from": finding.moved_from,
        "remediation_url": finding.remediation_url,
    }
    document["baselined"] = (
        finding.suppression is not None and finding.suppression.kind is SuppressKind.BASELINE
    )
    if finding.baseline_state is not None:
        document["baseline_state"] = finding.baseline_state.value
    if finding.suppression is not None:
        document["suppression"] = {
            "kind": finding.suppression.kind.value,
            "reason": finding.suppression.reason,
        }
        if finding.suppression.added:  # by a pragma the scanned change adds
            document["suppression"]["added_by_change"] = True
    if finding.pragma_ignored is not None:
        document["pragma_ignored"] = finding.pragma_ignored
    if finding.scope is not None:
        document["scope"] = finding.scope
    if finding.verification is not None:  # --verify
        document["verification"] = verification.document(finding.verification)
    document |= _window(finding)
    document["locations_total"] = finding.locations_total
    document["locations"] = [_location(location) for location in finding.locations]
    return document


def _window(finding: Finding) -> dict[str, Any]:
    """age_days, removed, never_rotated, environments (issue 24): only on a finding that has them."""
    if finding.age_days is None and finding.environments is None:
        return {}
    never = finding.never_rotated
    envs = finding.environments
    return {
        "age_days": finding.age_days,
        "removed": _commit(finding.removed),
        "never_rotated": {"reason": never.reason, "places_at_head": never.places_at_head} if never else None,
        "environments": (
            {
                "names": list(envs.names),
                "shared": envs.shared,
                "held": None if envs.together is None else "together" if envs.together else "in-turn",
            }
            if envs is not None
            else None
        ),
    }


def _baseline(summary: BaselineSummary) -> dict[str, Any]:
    return {
        "entries": summary.entries,
        "matched": summary.matched,
        "grown": summary.grown,
        "stale_checked": summary.stale_checked,
        "stale": [
            {
                "fingerprint": e.fingerprint,
                "rule_id": e.rule_id,
                "redacted": e.redacted,
                "paths": list(e.paths),
            }
            for e in summary.stale
        ],
    }


def _commit(ref: CommitRef | None) -> dict[str, str] | None:
    if ref is None:
        return None
    return {
        "commit": ref.commit,
        "author": ref.author,
        "email": ref.email,
        "author_time": ref.author_time,
        "commit_time": ref.commit_time,
    }


def _location(location: Location) -> dict[str, Any]:
    position = location.position
    document: dict[str, Any] = {"source": location.source.value, "path": location.path}
    if location.path_bytes is not None:
        document["path_bytes"] = location.path_bytes
    document |= {
        "line": position.line,
        "column": position.column,
        "end_line": position.end_line,
        "end_column": position.end_column,
        "byte_offset": position.byte_offset,
    }
    if location.encoding is not None:
        document["encoding"] = location.encoding
    document["commit"] = location.commit
    document["blob"] = location.blob
    if location.original is not None:
        original = location.original
        document["original"] = {"path": original.path, "line": original.line, "column": original.column}
    if location.client_bundle:
        document["client_bundle"] = bundle_kind(location)
    if location.context is not None:
        document["context"] = location.context
    if location.pragma_added:
        document["pragma_added"] = True
    return document
