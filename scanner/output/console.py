"""The human report printed to the terminal or the job log.

Findings are grouped by provider (the provider with the most severe finding first), then by
severity, critical first. Every string that comes from the scanned data — paths, commit ids,
names, skip examples, even the redacted preview — goes through `escape_text`, and the finished
text through `guard_lines`, so a hostile path stays on its line and never becomes a workflow
command. Colour (ANSI SGR) is added only when asked for.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from scanner.model import BaselineState, Finding, Kind, Location, Report, Rule, Severity
from scanner.output import verification
from scanner.output.context import RenderContext
from scanner.output.escape import escape_text, guard_lines
from scanner.output.where import RESTRICT, bundle_kind, public_by_design, where
from scanner.output.window import window_line

LOCATIONS_SHOWN = 5
FINGERPRINT_SHOWN = 12
COMMIT_SHOWN = 10
EXAMPLES_SHOWN = 3
BASELINED_SHOWN = 10
STALE_SHOWN = 5
REFS_SHOWN = 5

_RESET = "\x1b[0m"
_SEVERITY_SGR = {
    Severity.CRITICAL: "\x1b[1;37;41m",
    Severity.HIGH: "\x1b[1;31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
}
_BOLD = "\x1b[1m"
_DIM = "\x1b[2m"
_WARN = "\x1b[1;33m"
_ERROR = "\x1b[1;31m"
_SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)


@dataclass(frozen=True, slots=True)
class _Paint:
    color: bool

    def __call__(self, sgr: str, text: str) -> str:
        return f"{sgr}{text}{_RESET}" if self.color else text


def render(report: Report, context: RenderContext) -> str:
    """The console report for `report`; ANSI colour only when `context.color` is true."""
    paint = _Paint(context.color)
    rules = {rule.id: rule for rule in report.rules}
    lines = [_header(report, paint, context.version), ""]
    if report.status == "failed":
        message = escape_text(report.error or "unknown error")
        lines += [paint(_ERROR, f"ERROR: the scan failed: {message}"), ""]
    active = report.active
    for provider, findings in _by_provider(active):
        lines.append(paint(_BOLD, escape_text(provider)))
        plans = _plans(provider, findings, rules)
        for finding, todo in zip(findings, plans.todos, strict=True):
            lines += _finding(finding, rules.get(finding.rule_id), paint, todo)
            lines.append("")
        lines += plans.lines(paint)
    lines += _baselined([finding for finding in report.findings if finding.suppression is not None], paint)
    lines += _added_pragmas(report, paint)
    lines += _summary(report, paint, active)
    if report.scan.mode == "staged" and active:
        lines += _staged_hint()
    return guard_lines("\n".join(lines)) + "\n"


def render_console(report: Report, *, color: bool) -> str:
    """`render` with only the colour given."""
    return render(report, RenderContext(color=color))


def _header(report: Report, paint: _Paint, version: str) -> str:
    scan = report.scan
    text = f"keysweep {version}: {escape_text(scan.mode)} scan of {escape_text(scan.target)}"
    if scan.range is not None:
        text += f", range {escape_text(scan.range)}"
    if scan.head is not None:
        text += f" at {escape_text(scan.head[:COMMIT_SHOWN])}"
    return paint(_BOLD, text)


def _by_provider(findings: Iterable[Finding]) -> list[tuple[str, list[Finding]]]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(finding.provider, []).append(finding)
    for members in groups.values():
        members.sort(key=lambda finding: -finding.severity.rank)  # stable: keeps the caller's order
    live = {p for p, members in groups.items() if any(verification.is_live(f) for f in members)}
    return sorted(groups.items(), key=lambda item: (-item[1][0].severity.rank, item[0] not in live, item[0]))


@dataclass(frozen=True, slots=True)
class _Plans:
    """A provider's remediation steps, each distinct list once (issue 24: not under every
    finding). A list that two or more findings need is written after the provider's findings,
    each of them carrying a one-line pointer to it; a list that one finding needs stays under
    that finding (a pointer and a heading would cost more lines than they save)."""

    titles: tuple[str, ...]
    steps: tuple[tuple[str, ...], ...]
    todos: tuple[tuple[str, ...], ...]  # what each finding's "to do" says, in order

    def lines(self, paint: _Paint) -> list[str]:
        out: list[str] = []
        for title, steps in zip(self.titles, self.steps, strict=True):
            out.append(f"  {paint(_BOLD, 'What to do')} {title}:")
            out += [f"      {step}" for step in steps]
            out.append("")
        return out


_PLAN_KINDS = {
    "key": ("keys", "revoke it first"),
    "exposure": ("exposures", "revoke what it shipped"),
    "public": ("keys public by design", "check it is restricted"),
}


def _plans(provider: str, findings: list[Finding], rules: dict[str, Rule]) -> _Plans:
    """One list of steps per distinct set of steps the provider's findings need: its keys (a
    rule's own revoke page makes its own list), its exposures, its keys public by design."""
    found: dict[tuple[str, ...], tuple[str, list[str]]] = {}
    needs: list[tuple[str, ...]] = []
    for finding in findings:
        rule = rules.get(finding.rule_id)
        kind = (
            "exposure"
            if finding.kind is Kind.EXPOSURE
            else "public"
            if public_by_design(finding, rule)
            else "key"
        )
        steps = tuple(_todo(finding, rule))
        needs.append(steps)
        _, ids = found.setdefault(steps, (kind, []))
        if finding.rule_id not in ids:
            ids.append(finding.rule_id)
    uses = Counter(needs)
    shared = {steps: v for steps, v in found.items() if uses[steps] > 1}
    same_kind = Counter(kind for kind, _ in shared.values())
    titles: dict[tuple[str, ...], str] = {}
    for steps, (kind, ids) in shared.items():
        title = f"for {escape_text(provider)} {_PLAN_KINDS[kind][0]}"
        if same_kind[kind] > 1:  # two lists of one kind: say which rules each is for
            title += " (" + ", ".join(escape_text(i) for i in ids) + ")"
        titles[steps] = title
    todos = []
    for steps in needs:
        if steps not in titles:
            todos.append(steps)
            continue
        first = _PLAN_KINDS[found[steps][0]][1]
        todos.append((f'{first}; steps below: "What to do {titles[steps]}"',))
    return _Plans(tuple(titles.values()), tuple(titles), tuple(todos))


def _finding(finding: Finding, rule: Rule | None, paint: _Paint, todo: tuple[str, ...]) -> list[str]:
    name = escape_text(rule.name if rule is not None and rule.name else finding.rule_id)
    label = paint(_SEVERITY_SGR[finding.severity], f"{finding.severity.value.upper():<8}")
    lines = [f"  {label} {paint(_BOLD, name)} ({escape_text(finding.rule_id)})"]
    field = _Fields(lines)
    if finding.kind is Kind.SECRET:
        secret = escape_text(finding.redacted) if finding.redacted else "(short secret, not shown)"
        field("secret", f"{secret}  fingerprint {escape_text(finding.fingerprint[:FINGERPRINT_SHOWN])}")
    else:
        field(
            "exposure",
            f"exposes a key to clients  fingerprint {escape_text(finding.fingerprint[:FINGERPRINT_SHOWN])}",
        )
    field("where", _exposure(finding))
    window = window_line(finding)
    if window is not None:
        field("window", escape_text(window))
    if finding.severity_reason is not None:
        field(f"why {finding.severity.value}", escape_text(finding.severity_reason))
    if finding.verification is not None:  # --verify
        field("verified", escape_text(verification.said(finding.verification)))
    shown = finding.locations[:LOCATIONS_SHOWN]
    rows = [_location(location) for location in shown]
    more = max(finding.locations_total, len(finding.locations)) - len(shown)
    if more > 0:
        rows.append(f"+{more} more")
    field("locations", *(rows or ["(none recorded)"]))
    if finding.first_seen is not None:
        seen = finding.first_seen
        field(
            "first seen",
            f"{escape_text(seen.commit[:COMMIT_SHOWN])} {escape_text(seen.commit_time)} "
            f"by {escape_text(seen.author)} <{escape_text(seen.email)}>",
        )
    elif finding.first_seen_truncated:
        field("first seen", "before the history that was read (shallow clone or skipped objects)")
    if finding.moved_from is not None:
        field("moved from", escape_text(finding.moved_from) + " (a move, not a new leak)")
    if finding.also_matched:
        field("also", ", ".join(escape_text(rule_id) for rule_id in finding.also_matched))
    if finding.pragma_ignored is not None:
        field(
            "pragma",
            "a keysweep:allow this change adds does not suppress it: " + escape_text(finding.pragma_ignored),
        )
    if finding.baseline_state is BaselineState.UPDATED:
        field(
            "baseline", "acknowledged, but more files hold it than when it was baselined: the exposure grew"
        )
    field("to do", *todo)
    return lines


@dataclass(frozen=True, slots=True)
class _Fields:
    lines: list[str]

    def __call__(self, label: str, *values: str) -> None:
        for index, value in enumerate(values):
            # a label of 11 characters or more ("why critical") keeps a space before its value
            self.lines.append(f"      {label if index == 0 else '':<10} {value}")


def _exposure(finding: Finding) -> str:
    text = where(finding)
    if finding.present_at_head is True:
        text += "; present at HEAD"
    elif finding.present_at_head is False:
        text += "; gone from HEAD, still in history"
    refs = finding.present_at_refs
    if refs:  # a few: a secret on every branch of a big repository is on thousands of refs
        text += "; refs " + ", ".join(escape_text(ref) for ref in refs[:REFS_SHOWN])
        if len(refs) > REFS_SHOWN:
            text += f" and {len(refs) - REFS_SHOWN:,} more ({len(refs):,} refs; the JSON report lists them)"
    return text


def _location(location: Location) -> str:
    position = location.position
    text = f"{escape_text(location.path)}:{position.line}:{position.column}"
    details = [location.source.value]
    if location.client_bundle:
        details.append(
            "build output, not tracked" if bundle_kind(location) == "build-output" else "client bundle"
        )
    if location.commit is not None:
        details.append(escape_text(location.commit[:COMMIT_SHOWN]))
    if location.encoding is not None:
        details.append(escape_text(location.encoding))
    if location.pragma_added:
        details.append("keysweep:allow added by this change")
    text += f" ({', '.join(details)})"
    if location.original is not None:
        original = location.original
        text += f" from {escape_text(original.path)}:{original.line}:{original.column}"
    if location.context is not None:
        text += f"  {escape_text(location.context)}"
    return text


def _todo(finding: Finding, rule: Rule | None) -> list[str]:
    url = finding.remediation_url or (rule.revoke_url if rule is not None else "")
    where = f"at {escape_text(url)}" if url else "in the provider's console"
    if finding.kind is Kind.EXPOSURE:
        return [
            "1. keep keys server-side: remove the exposure from client code",
            f"2. revoke any key that was shipped, {where}, then rotate",
        ]
    if public_by_design(finding, rule):
        return [
            f"1. public by design, not a leak: {RESTRICT}, {where}",
            "2. if the project enables the Generative Language (Gemini) API, check its usage and rotate the key",
        ]
    return [
        f"1. revoke the key now, {where}",
        "2. rotate without downtime: deploy a new key, see the old one go unused, then delete it",
        "3. move it out of the code: a key per environment, loaded from a secret store",
        "4. clean history last (git filter-repo), rebuild published bundles",
    ]


def _baselined(findings: list[Finding], paint: _Paint) -> list[str]:
    """Acknowledged secrets, one line each: still leaked (revoke them), not counted."""
    if not findings:
        return []
    lines = [paint(_DIM, f"Baselined (acknowledged, not counted): {len(findings)}")]
    for finding in findings[:BASELINED_SHOWN]:
        where = escape_text(finding.locations[0].path) if finding.locations else "(no location)"
        secret = escape_text(finding.redacted) if finding.redacted else "(short secret)"
        reason = escape_text(finding.suppression.reason) if finding.suppression else ""
        lines.append(
            f"  {escape_text(finding.rule_id)} {secret} fingerprint "
            f"{escape_text(finding.fingerprint[:FINGERPRINT_SHOWN])} at {where}: {reason}"
        )
    if len(findings) > BASELINED_SHOWN:
        lines.append(f"  +{len(findings) - BASELINED_SHOWN} more")
    return [*lines, ""]


def _added_pragmas(report: Report, paint: _Paint) -> list[str]:
    """Findings suppressed by a `keysweep:allow` the scanned change adds, one line each: the
    author's approval of their own key, shown so a reviewer sees it."""
    found = [f for f in report.suppressed if f.suppression is not None and f.suppression.added]
    if not found:
        return []
    lines = [
        paint(_WARN, f"Suppressed by a pragma this change adds (not counted; review them): {len(found)}")
    ]
    for finding in found[:BASELINED_SHOWN]:
        loc = next((loc for loc in finding.locations if loc.pragma_added), None)
        where = f"{escape_text(loc.path)}:{loc.position.line}" if loc is not None else "(no location)"
        secret = escape_text(finding.redacted) if finding.redacted else "(short secret)"
        lines.append(
            f"  {escape_text(finding.rule_id)} {secret} fingerprint "
            f"{escape_text(finding.fingerprint[:FINGERPRINT_SHOWN])} at {where}"
        )
    if len(found) > BASELINED_SHOWN:
        lines.append(f"  +{len(found) - BASELINED_SHOWN} more")
    return [*lines, ""]


def _staged_hint() -> list[str]:
    return [
        "",
        "To fix: take the key out of the staged file, `git add` it again, and revoke the key if it",
        "  was ever pushed or shared. A staged key is not yet committed: nothing to rewrite.",
        "If it is not a live secret (a test fixture, a revoked sample): end its line with",
        "  `keysweep:allow` in a comment, allowlist the path in .keysweep.toml ([[allow]] paths and a",
        '  reason), or acknowledge it: `keysweep baseline update --output F` with `baseline = "F"`',
        "  in .keysweep.toml. A `keysweep:allow` that the change adds does not suppress a key whose",
        "  checksum or marker verifies offline (unless .keysweep.toml sets `[pragmas]`",
        '  `added-by-change = "all"`): allowlist or acknowledge those.',
    ]


def _summary(report: Report, paint: _Paint, active: tuple[Finding, ...]) -> list[str]:
    counts = dict.fromkeys(_SEVERITIES, 0)
    for finding in active:
        counts[finding.severity] += 1
    total = len(active)
    stats = report.stats
    parts = [f"{total} finding{'s' if total != 1 else ''}"]
    parts.append(", ".join(f"{counts[severity]} {severity.value}" for severity in _SEVERITIES))
    parts.append(f"{sum(stats.suppressed.values())} suppressed")
    parts.append(f"{sum(stats.skipped.values())} skipped")
    lines = [paint(_BOLD, "Summary: " + "; ".join(parts))]
    if (checked := verification.tally(active)) is not None:  # --verify
        lines.append(f"  verified: {checked}")
    if stats.suppressed:
        lines.append(
            "  suppressed: " + ", ".join(f"{escape_text(k)} {v}" for k, v in sorted(stats.suppressed.items()))
        )
    if report.baseline is not None:
        lines += _baseline_lines(report)
    if report.incomplete:
        lines.append(
            paint(
                _WARN,
                "WARNING: the scan is INCOMPLETE; some content was not read, so secrets may be missing. "
                "Do not treat this as a clean result.",
            )
        )
    for reason in sorted(set(stats.skipped) | set(stats.skipped_examples)):
        examples = stats.skipped_examples.get(reason, ())
        count = stats.skipped.get(reason, len(examples))
        line = f"  skipped {escape_text(reason)}: {count}"
        if examples:
            line += " (e.g. " + ", ".join(escape_text(e) for e in examples[:EXAMPLES_SHOWN]) + ")"
        lines.append(line)
    return lines


def _baseline_lines(report: Report) -> list[str]:
    b = report.baseline
    assert b is not None
    text = f"  baseline: {b.entries} entries, {b.matched} found"
    if b.grown:
        text += f", {b.grown} held by more files than when baselined (reported)"
    if not b.stale_checked:
        return [text + "; stale entries are not checked by a partial or incomplete scan"]
    lines = [text + f", {len(b.stale)} stale"]
    for entry in b.stale[:STALE_SHOWN]:
        secret = escape_text(entry.redacted) if entry.redacted else "(short secret)"
        where = escape_text(entry.paths[0]) if entry.paths else "(no path)"
        lines.append(
            f"  stale: {escape_text(entry.rule_id)} {secret} fingerprint "
            f"{escape_text(entry.fingerprint[:FINGERPRINT_SHOWN])} (was at {where}): no longer found"
        )
    if len(b.stale) > STALE_SHOWN:
        lines.append(f"  +{len(b.stale) - STALE_SHOWN} more stale")
    if b.stale:
        lines.append("  `keysweep baseline update --prune --output <baseline>` drops stale entries")
    return lines
