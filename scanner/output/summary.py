"""The job summary (`$GITHUB_STEP_SUMMARY`, `keysweep scan --summary F`): GitHub-flavoured
Markdown from `scanner/templates/summary.md.j2` (github.md §3).

What a pull-request author and a security lead read first: the verdict, what to do first, counts
by provider and severity, the top findings with redacted previews and first-seen commits linked
on the server, the exposure, what was not read (an incomplete scan is said plainly) and what was
suppressed, and where the SARIF file went. Everything here is computed from values passed in —
the entry point reads `GITHUB_SERVER_URL` and `GITHUB_REPOSITORY`; this module reads nothing.

GitHub refuses a step summary over 1 MiB; the table of findings is shortened until the text fits,
and the summary says so.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from scanner.model import Finding, Kind, Location, Report, Rule, Severity
from scanner.output import verification
from scanner.output.context import MAX_SUMMARY_BYTES, RenderContext
from scanner.output.context import RepoLinks as RepoLinks  # the context's, named here too
from scanner.output.context import SarifNote as SarifNote
from scanner.output.context import SummaryContext as SummaryContext
from scanner.output.escape import guard_lines
from scanner.output.templating import render as render_template
from scanner.output.where import message_of, public_by_design, where
from scanner.output.window import window_line

TEMPLATE = "summary.md.j2"
FIRST_STEPS = 3
LOCATIONS_SHOWN = 3
CELL_CHARS = 200
COMMIT_SHOWN = 12
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
_BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Row:
    severity: str
    rule: str
    rule_id: str
    secret: str
    locations: tuple[Link, ...]
    more_locations: int
    exposure: str
    first_seen: Link | None
    first_seen_time: str


@dataclass(frozen=True, slots=True)
class Step:
    severity: str
    kind: str
    rule: str
    secret: str
    where: str
    revoke_url: str
    first_seen: Link | None
    severity_reason: str = ""
    public: bool = False  # public by design (a Firebase web config key): restrict, not revoke
    revoked: str = ""  # --verify: the provider says it is revoked (said plainly)


@dataclass(frozen=True, slots=True)
class AddedPragma:
    """A finding on a line whose `keysweep:allow` the scanned change adds, and what it did."""

    rule: str
    secret: str
    location: Link | None
    suppressed: bool
    why: str


@dataclass(frozen=True, slots=True)
class Count:
    provider: str
    by_severity: tuple[int, ...]
    total: int


@dataclass(frozen=True, slots=True)
class Skipped:
    reason: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Summary:
    """Everything the template shows, computed here so that the template only lays it out."""

    version: str
    status: str
    error: str | None
    subject: str
    scope: str | None
    mode: str
    verdict: str
    total: int
    by_severity: tuple[int, ...]
    severities: tuple[str, ...]
    counts: tuple[Count, ...]
    first_steps: tuple[Step, ...]
    rows: tuple[Row, ...]
    rows_left_out: int
    rows_cut_for_size: bool
    incomplete: bool
    skipped: tuple[Skipped, ...]
    suppressed: tuple[tuple[str, int], ...]
    added_pragmas: tuple[AddedPragma, ...]
    baseline: str | None
    stats: tuple[tuple[str, int], ...]
    tree_total: int | None
    tree_by_severity: tuple[int, ...] | None
    sarif: SarifNote | None
    annotations: int | None
    code_scanning: str | None
    run_url: str | None
    limit_bytes: int = field(default=MAX_SUMMARY_BYTES)
    verification: str | None = None  # --verify: `1 live, 2 revoked, 0 unknown` over the findings


def render(report: Report, context: RenderContext) -> str:
    """The job summary of `report`, as Markdown under `context.max_bytes` (UTF-8)."""
    rows = min(context.top, len(report.findings))
    text = _render(report, context, rows, cut=False)
    while len(text.encode("utf-8")) > context.max_bytes and rows > 0:
        rows //= 2
        text = _render(report, context, rows, cut=True)
    return text


def render_summary(report: Report, context: RenderContext | None = None) -> str:
    """`render` with the default context when none is given."""
    return render(report, context or RenderContext())


def _render(report: Report, context: RenderContext, rows: int, *, cut: bool) -> str:
    text = render_template(TEMPLATE, markdown=True, s=_summary(report, context, rows, cut))
    # one blank line between blocks, whatever the template's conditionals left; no value holds a
    # newline. Every line starts with the template's own text; guard_lines makes sure (`--summary -`).
    return guard_lines(_BLANK_LINES.sub("\n\n", text).strip() + "\n")


def _summary(report: Report, context: RenderContext, rows: int, cut: bool) -> Summary:
    rules = {rule.id: rule for rule in report.rules}
    failed = report.status == "failed"
    findings = () if failed else report.active
    stats = report.stats
    tree = context.tree
    tree_failed = tree is None or tree.status == "failed"
    return Summary(
        version=context.version,
        status=report.status,
        error=report.error if failed else None,
        subject=context.subject or _subject(report.scan.mode),
        scope=context.scope,
        mode=report.scan.mode,
        verdict=verdict(report, context),
        total=len(findings),
        by_severity=by_severity(findings),
        severities=tuple(severity.value for severity in SEVERITIES),
        counts=provider_counts(findings),
        first_steps=tuple(_step(f, rules.get(f.rule_id), context) for f in findings[:FIRST_STEPS]),
        verification=verification.tally(findings),
        rows=tuple(_row(f, rules.get(f.rule_id), context) for f in findings[:rows]),
        rows_left_out=len(findings) - min(rows, len(findings)),
        rows_cut_for_size=cut,
        incomplete=report.incomplete,
        skipped=_skipped(report),
        suppressed=tuple(sorted((k, v) for k, v in stats.suppressed.items() if v)),
        added_pragmas=() if failed else _added_pragmas(report, rules, context),
        stats=_stats(report),
        baseline=_baseline(report),
        tree_total=None if tree_failed or tree is None else len(tree.active),
        tree_by_severity=None if tree_failed or tree is None else by_severity(tree.active),
        sarif=context.sarif,
        annotations=context.annotations,
        code_scanning=context.links.code_scanning if context.links else None,
        run_url=context.links.run if context.links else None,
        limit_bytes=context.max_bytes,
    )


def _baseline(report: Report) -> str | None:
    b = report.baseline
    if b is None:
        return None
    text = f"{b.entries} entries, {b.matched} found"
    if b.grown:
        text += f", {b.grown} held by more files than when baselined (reported again: the exposure grew)"
    if b.stale_checked:
        text += f", {len(b.stale)} stale (no longer found)"
    return text


def _subject(mode: str) -> str:
    return {
        "history": "the history",
        "range": "the range",
        "staged": "the staged changes",
        "directory": "the directory",
    }.get(mode, "the tree")


def verdict(report: Report, context: RenderContext) -> str:
    threshold = context.fail_on.value if context.fail_on else "none"
    if context.exit_code == 3 or report.status == "failed":
        return "The scan failed (exit 3)."
    if context.exit_code == 2:
        return "The run was misconfigured (exit 2)."
    if context.exit_code == 1:
        return f"The check fails: findings at or above {threshold} (exit 1)."
    if context.exit_code == 0 and context.fail_on is None:
        return "No gate: --fail-on none, so no finding fails the check (exit 0)."
    if context.exit_code == 0:
        return f"The check passes: no finding at or above {threshold} (exit 0)."
    return f"Fail-on threshold: {threshold}."


def by_severity(findings: Sequence[Finding]) -> tuple[int, ...]:
    """How many of `findings` at each severity, most severe first (the summary and HTML tables)."""
    return tuple(sum(1 for f in findings if f.severity is severity) for severity in SEVERITIES)


def provider_counts(findings: Sequence[Finding]) -> tuple[Count, ...]:
    """Findings per provider, by severity: the most severe providers first."""
    providers: dict[str, list[Finding]] = {}
    for finding in findings:
        providers.setdefault(finding.provider, []).append(finding)
    counts = [Count(p, by_severity(fs), len(fs)) for p, fs in providers.items()]
    return tuple(sorted(counts, key=lambda c: (tuple(-n for n in c.by_severity), c.provider)))


def _clip(text: str, limit: int = CELL_CHARS) -> str:
    return clip(text, limit)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, an ellipsis saying so."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def secret_preview(finding: Finding) -> str:
    """What a table shows for the secret: the redacted preview, never the value."""
    if finding.kind is Kind.EXPOSURE:
        return "(an exposure, no key)"
    return finding.redacted or "(short secret, not shown)"


def _exposure(finding: Finding) -> str:
    text = where(finding)
    window = window_line(finding)
    if window is not None:  # says whether HEAD still holds it, and the window (issue 24)
        return f"{text}; {window}"
    if finding.present_at_head is True:
        text += "; still at HEAD"
    elif finding.present_at_head is False:
        text += "; gone from HEAD, still in history"
    return text


def _first_seen(finding: Finding, context: RenderContext) -> Link | None:
    seen = finding.first_seen
    if seen is None:
        return None
    url = context.links.commit(seen.commit) if context.links else None
    return Link(seen.commit[:COMMIT_SHOWN], url)


def _location(location: Location, context: RenderContext, repeated: bool = False) -> Link:
    """`path:line:column`; with the short commit when the same place is listed from several commits
    (a file that kept the secret through several edits), so the rows do not read as duplicates."""
    position = location.position
    text = _clip(f"{location.path}:{position.line}:{position.column}")
    if repeated and location.commit:
        text += f" @ {location.commit[:COMMIT_SHOWN]}"
    if location.original is not None:
        original = location.original
        text += _clip(f" (from {original.path}:{original.line})", 120)
    url = None
    message = message_of(location)
    if context.links and location.commit and message == "commit":
        url = context.links.commit(location.commit)  # the message is the commit's, not a file's
    elif context.links and location.commit and location.path_bytes is None and message is None:
        url = context.links.blob(location.commit, location.path, position.line)
    return Link(text, url)


def _place(location: Location) -> tuple[str, int]:
    return (location.path, location.position.line)


def _row(finding: Finding, rule: Rule | None, context: RenderContext) -> Row:
    shown = finding.locations[:LOCATIONS_SHOWN]
    commits: dict[tuple[str, int], set[str | None]] = {}
    for location in finding.locations:
        commits.setdefault(_place(location), set()).add(location.commit)
    places = Counter({place: len(seen) for place, seen in commits.items()})
    total = max(finding.locations_total, len(finding.locations))
    return Row(
        severity=finding.severity.value,
        rule=_clip(rule.name if rule is not None and rule.name else finding.rule_id),
        rule_id=_clip(finding.rule_id),
        secret=_clip(secret_preview(finding)),
        locations=tuple(_location(location, context, places[_place(location)] > 1) for location in shown),
        more_locations=total - len(shown),
        exposure=_exposure(finding),
        first_seen=_first_seen(finding, context),
        first_seen_time=finding.first_seen.commit_time[:10] if finding.first_seen else "",
    )


def _step(finding: Finding, rule: Rule | None, context: RenderContext) -> Step:
    url = finding.remediation_url or (rule.revoke_url if rule is not None else "")
    return Step(
        severity=finding.severity.value,
        kind=finding.kind.value,
        rule=_clip(rule.name if rule is not None and rule.name else finding.rule_id),
        secret=_clip(secret_preview(finding)),
        where=where(finding),
        revoke_url=url if url.startswith("https://") else "",
        first_seen=_first_seen(finding, context),
        severity_reason=_clip(finding.severity_reason or ""),
        public=public_by_design(finding, rule),
        revoked=_revoked(finding),
    )


def _revoked(finding: Finding) -> str:
    """What the provider said of a key it refused (--verify): said plainly, in place of "revoke now"."""
    v = finding.verification
    return verification.said(v) if v is not None and verification.is_revoked(finding) else ""


def _added_pragmas(report: Report, rules: dict[str, Rule], context: RenderContext) -> tuple[AddedPragma, ...]:
    """The findings whose line carries a pragma the scanned change adds: the ones it suppressed
    (a reviewer should see them) and the ones it could not (they count)."""
    out: list[AddedPragma] = []
    suppressed = [f for f in report.suppressed if f.suppression is not None and f.suppression.added]
    ignored = [f for f in report.findings if f.pragma_ignored is not None]
    for finding in (*suppressed, *ignored):
        rule = rules.get(finding.rule_id)
        loc = next((loc for loc in finding.locations if loc.pragma_added), None)
        if finding.pragma_ignored is not None:
            why = finding.pragma_ignored
        elif finding.verified:
            why = 'the config lets such a pragma suppress any finding (pragmas.added-by-change = "all")'
        else:
            why = "its structure cannot be verified offline; a reviewer should confirm it is not a real key"
        out.append(
            AddedPragma(
                rule=_clip(rule.name if rule is not None and rule.name else finding.rule_id),
                secret=_clip(secret_preview(finding)),
                location=_location(loc, context) if loc is not None else None,
                suppressed=finding.pragma_ignored is None,
                why=_clip(why),
            )
        )
    return tuple(out)


def _skipped(report: Report) -> tuple[Skipped, ...]:
    stats = report.stats
    reasons = sorted(set(stats.skipped) | set(stats.skipped_examples))
    out = []
    for reason in reasons:
        examples = stats.skipped_examples.get(reason, ())
        count = stats.skipped.get(reason, len(examples))
        out.append(Skipped(reason, count, tuple(_clip(e, 120) for e in examples[:3])))
    return tuple(out)


def _stats(report: Report) -> tuple[tuple[str, int], ...]:
    stats = report.stats
    pairs = (("commits", stats.commits), ("blobs", stats.blobs), ("files", stats.files))
    return tuple((name, n) for name, n in pairs if n)
