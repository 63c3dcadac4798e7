"""From a finished report to an exit code, for the CLI and the action alike (ARCHITECTURE.md §7).

A gate never passes on what it did not read: under `--strict` (the action's default) an
incomplete report is exit 3, and it is written out as failed — SARIF `executionSuccessful: false`
with no results, JSON `status: failed` — so that an upload can never mark real alerts fixed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from scanner.errors import EXIT_FAILED, EXIT_FINDINGS, EXIT_OK
from scanner.findings import counts_for_fail
from scanner.model import Report, Rule, ScanInfo, Severity, Stats
from scanner.rules import ruleset_hash
from scanner.skips import INCOMPLETE_REASONS

GATE_MODES = frozenset({"range", "staged"})  # scans that must read every blob they cover (§7)


def skipped_summary(report: Report) -> str:
    """`2 missing-object (blob 1a2b…), 1 shallow-boundary (commit 3c4d…)`: what was left unread,
    by reason, with the first examples (the messages that carry it are escaped when printed)."""
    parts = []
    for reason, count in sorted(report.stats.skipped.items()):
        if count and reason in INCOMPLETE_REASONS:
            examples = report.stats.skipped_examples.get(reason, ())[:3]
            parts.append(f"{count} {reason}" + (f" ({', '.join(examples)})" if examples else ""))
    return ", ".join(parts) or "some content"


def strict_failure(report: Report) -> Report:
    """An incomplete report as a gate reports it: failed, saying what was left unread."""
    why = (
        f"a {report.scan.mode} scan must read every blob it covers"
        if report.scan.mode in GATE_MODES
        else "--strict is on"
    )
    return replace(
        report,
        status="failed",
        error=f"the scan is incomplete ({skipped_summary(report)} not read) and {why}",
    )


def failed_report(rules: Sequence[Rule], scan: ScanInfo, message: str) -> Report:
    """A report for a run that could not scan at all: no findings, status failed."""
    return Report(
        status="failed",
        scan=scan,
        stats=Stats(seconds=0.0, complete=False),
        findings=(),
        ruleset=ruleset_hash(rules),
        rules=tuple(rules),
        error=message,
    )


def gate(report: Report, fail_on: Severity | None, strict: bool) -> tuple[int, Report]:
    """The exit code for `report` and the report to write: 3 (incomplete, and strict or a range or
    staged scan) > 1 > 0."""
    if report.status == "failed":
        return EXIT_FAILED, report
    if (strict or report.scan.mode in GATE_MODES) and report.incomplete:
        return EXIT_FAILED, strict_failure(report)
    return (EXIT_FINDINGS if counts_for_fail(report.active, fail_on) else EXIT_OK), report


@dataclass(frozen=True, slots=True)
class Verdict:
    """A run's gate, decided once: its exit code and the reports to write."""

    code: int
    gate: Report | None  # the gated scan as written (None: the run had nothing to gate)
    written: Report  # the scan the SARIF file holds: the gated one, or the tree beside it


def judge(
    gated: Report | None,
    tree: Report | None,
    fail_on: Severity | None,
    strict: bool,
    rules: Sequence[Rule],
) -> Verdict:
    """The gate of a run of one or two scans (the Action's), run once: `gated` decides the exit
    code; `tree`, when given, is the checked-out tree's own scan, written as SARIF beside it (else
    `gated` is). The tree's findings are not gated, but a tree that failed, or is incomplete under
    `strict`, fails the run; and when the gate failed the tree is written as failed too, so that
    no upload marks alerts fixed on a run whose gate did not pass."""
    code, gate_report = gate(gated, fail_on, strict) if gated is not None else (EXIT_OK, None)
    if tree is None:
        assert gate_report is not None
        return Verdict(code, gate_report, gate_report)
    if tree.status == "failed":
        return Verdict(EXIT_FAILED, gate_report, tree)
    if (strict or tree.scan.mode in GATE_MODES) and tree.incomplete:
        return Verdict(EXIT_FAILED, gate_report, strict_failure(tree))
    if code == EXIT_FAILED and gate_report is not None:
        return Verdict(
            code, gate_report, failed_report(rules, tree.scan, f"the range scan failed: {gate_report.error}")
        )
    return Verdict(code, gate_report, tree)


def severity_counts(report: Report) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for finding in report.findings:
        counts[finding.severity] += 1
    return counts
