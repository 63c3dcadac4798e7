"""The HTML report (`keysweep scan … --html F`, `keysweep report STATE --html F`): one
self-contained page a security lead can open, filter and hand to the owners of the findings.

Everything the page shows is computed here (`Page`, from the report and the `RenderContext`) and
laid out by `scanner/templates/report.html.j2` in a jinja2 environment with HTML autoescape on, so
a value from the scanned repository (a path, an author, a context) is text, never markup. The page
loads nothing: its CSS, SVG and script are inline and its Content-Security-Policy forbids any
fetch, so it works offline and from `file://`. Like every format, it shows a secret only as its
redacted preview and digest.

Rows are rendered once; the page's script filters them by toggling `hidden`, so a report of
thousands of findings opens and filters without a freeze. A rule's revoke and rotation steps
(`output/remediation.py`) are rendered once per rule, not once per finding, and shown inside a
finding when it is opened.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from scanner.model import Finding, Kind, Location, Report, Rule
from scanner.output import verification
from scanner.output.context import RenderContext
from scanner.output.escape import escape_text
from scanner.output.html_timeline import Timeline, timeline
from scanner.output.remediation import rule_help
from scanner.output.summary import (
    SEVERITIES,
    Count,
    by_severity,
    clip,
    provider_counts,
    secret_preview,
    verdict,
)
from scanner.output.where import message_of, public_by_design, where

TEMPLATE = "report.html.j2"
FIRST_STEPS = 3
PLACES_SHOWN = 20
COMMIT_SHOWN = 12
CELL_CHARS = 300
_URL = re.compile(r"https://[^\s<>\"']+")
_CODE = re.compile(r"`([^`]+)`")
_NUMBERED = re.compile(r"\d+\. ")


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """One location of a finding."""

    source: str
    where: Link
    commit: Link | None
    origin: str | None  # the original source through a source map ("src/api/client.ts:12:18")
    client_bundle: bool
    context: str | None  # the (redacted) name it is assigned to
    encoding: str | None


@dataclass(frozen=True, slots=True)
class Row:
    """One finding, as its table row and its expanded details."""

    severity: str
    provider: str
    rule_id: str
    rule: str
    kind: str
    secret: str
    digest: str | None
    fingerprint: str
    confidence: str
    verified: bool
    exposure: str  # the Exposure value (the filter's)
    exposure_text: str  # in words
    at_head: str  # yes | no | unknown (the filter's)
    first_place: str
    first_seen: Link | None
    first_seen_date: str
    first_seen_by: str
    removed: Link | None
    removed_date: str
    window: str  # "in history for 14 months, still at HEAD"
    age_days: int | None
    environments: tuple[str, ...]
    never_rotated: str | None
    severity_reason: str | None
    verification: str | None  # what the provider said (--verify)
    also_matched: tuple[str, ...]
    refs: tuple[str, ...]
    places: tuple[Place, ...]
    more_places: int
    revoke_url: str
    help_id: str
    public: bool
    baseline: str | None


@dataclass(frozen=True, slots=True)
class Step:
    """One of "what to do first"."""

    action: str  # revoke | restrict | take-out
    severity: str
    rule: str
    secret: str
    where: str
    revoke_url: str
    since: str
    reason: str


@dataclass(frozen=True, slots=True)
class Help:
    """A rule's remediation, once per rule of the report."""

    id: str
    rule_id: str
    name: str
    body: Markup


@dataclass(frozen=True, slots=True)
class Page:
    version: str
    title: str
    target: str
    mode: str
    head: str
    status: str
    error: str | None
    incomplete: bool
    verdict: str
    verdict_class: str  # pass | fail | error | neutral
    total: int
    severities: tuple[str, ...]
    by_severity: tuple[int, ...]
    providers: tuple[Count, ...]
    exposures: tuple[tuple[str, int], ...]
    at_head: int
    gone: int
    shared: int
    never_rotated: int
    suppressed: int
    skipped: tuple[tuple[str, int], ...]
    steps: tuple[Step, ...]
    rows: tuple[Row, ...]
    helps: tuple[Help, ...]
    timeline: Timeline

    @property
    def data(self) -> Markup:
        """The rows as the page's data, which its script turns into the table (`rows_json`)."""
        return rows_json(self.rows)


def render(report: Report, context: RenderContext) -> str:
    """`report` as one self-contained HTML page."""
    return _environment().get_template(TEMPLATE).render(p=page(report, context))


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("scanner", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def page(report: Report, context: RenderContext) -> Page:
    """What the page shows, computed once."""
    failed = report.status == "failed"
    findings = () if failed else report.active
    rules = {rule.id: rule for rule in report.rules}
    return Page(
        version=context.version,
        title=f"keysweep: {len(findings):,} finding{'' if len(findings) == 1 else 's'}",
        target=_clip(escape_text(report.scan.target)),
        mode=report.scan.mode,
        head=(report.scan.head or "")[:COMMIT_SHOWN],
        status=report.status,
        error=escape_text(report.error or "") if failed else None,
        incomplete=report.incomplete,
        verdict=verdict(report, context),
        verdict_class=_verdict_class(report, context, findings),
        total=len(findings),
        severities=tuple(s.value for s in SEVERITIES),
        by_severity=by_severity(findings),
        providers=provider_counts(findings),
        exposures=tuple(sorted(Counter(f.exposure.value for f in findings).items())),
        at_head=sum(1 for f in findings if f.present_at_head is True),
        gone=sum(1 for f in findings if f.present_at_head is False),
        shared=sum(1 for f in findings if f.environments is not None and f.environments.shared),
        never_rotated=sum(1 for f in findings if f.never_rotated),
        suppressed=sum(report.stats.suppressed.values()),
        skipped=tuple(sorted((k, v) for k, v in report.stats.skipped.items() if v)),
        steps=tuple(_step(f, rules.get(f.rule_id)) for f in findings[:FIRST_STEPS]),
        rows=tuple(_row(f, rules.get(f.rule_id), context) for f in findings),
        helps=_helps(findings, rules),
        timeline=timeline(findings),
    )


def rows_json(rows: Sequence[Row]) -> Markup:
    """The findings' rows as JSON that is safe inside `<script type="application/json">`: ASCII,
    with `<`, `>` and `&` as escapes, so no value can end the element or start markup. A row's
    empty fields are left out; the page's script reads them as absent."""
    data = [{k: v for k, v in _row_data(row).items() if not _empty(v)} for row in rows]
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _empty(value: object) -> bool:
    return value is None or value is False or value == "" or value == ()


def _link(link: Link | None) -> tuple[str, str | None] | None:
    return (link.text, link.url) if link is not None else None


def _row_data(row: Row) -> dict[str, object]:
    """One row under the short keys the page's script reads (5,000 rows: the keys add up)."""
    return {
        "s": row.severity,
        "p": row.provider,
        "i": row.rule_id,
        "r": row.rule,
        "k": row.kind,
        "x": row.secret,
        "d": row.digest,
        "fp": row.fingerprint,
        "c": row.confidence,
        "v": row.verified,
        "e": row.exposure,
        "et": row.exposure_text,
        "h": row.at_head,
        "w": row.first_place,
        "fs": _link(row.first_seen),
        "fd": row.first_seen_date,
        "fb": row.first_seen_by,
        "rm": _link(row.removed),
        "rd": row.removed_date,
        "n": row.window,
        "a": row.age_days,
        "env": row.environments,
        "nr": row.never_rotated,
        "sr": row.severity_reason,
        "vf": row.verification,
        "am": row.also_matched,
        "refs": row.refs,
        "pl": tuple(
            (
                place.where.text,
                place.where.url,
                place.source,
                place.commit.text if place.commit else None,
                place.commit.url if place.commit else None,
                place.origin,
                place.client_bundle,
                place.context,
                place.encoding,
            )
            for place in row.places
        ),
        "mp": row.more_places,
        "u": row.revoke_url,
        "hp": row.help_id,
        "pub": row.public,
        "b": row.baseline,
    }


def _verdict_class(report: Report, context: RenderContext, findings: Sequence[Finding]) -> str:
    """The header's colour: the gate's result when the run knows it, else the threshold's."""
    if report.status == "failed" or context.exit_code in (2, 3):
        return "error"
    if context.exit_code == 1:
        return "fail"
    gate = context.fail_on
    if context.exit_code is None and gate is not None and any(f.severity.rank >= gate.rank for f in findings):
        return "fail"
    return "neutral" if report.incomplete else "pass"  # an incomplete scan is no clean result


def _clip(text: str, limit: int = CELL_CHARS) -> str:
    return clip(text, limit)


def _date(time: str) -> str:
    return time[:10]


def duration(days: int) -> str:
    """Days in words, as a person says an age: "3 days", "5 weeks", "14 months", "2 years"."""
    if days < 14:
        return f"{days} day{'' if days == 1 else 's'}"
    if days < 60:
        return f"{days // 7} weeks"
    if days < 730:
        return f"{days * 12 // 365} months"
    return f"{days // 365} years"


def _days_between(start: str, end: str) -> int | None:
    try:
        a = datetime.strptime(start[:10], "%Y-%m-%d")
        b = datetime.strptime(end[:10], "%Y-%m-%d")
    except ValueError:
        return None
    return max(0, (b - a).days)


def window(finding: Finding) -> str:
    """The exposure window in words, from what the finding knows."""
    seen = finding.first_seen
    if seen is None:
        return "still at HEAD" if finding.present_at_head is True else ""
    if finding.removed is not None:
        days = _days_between(seen.commit_time, finding.removed.commit_time)
        span = f"exposed for {duration(days)}, " if days is not None else ""
        return f"{span}removed {_date(finding.removed.commit_time)}, still in history"
    age = (
        f"in history for {duration(finding.age_days)}"
        if finding.age_days is not None
        else (f"in history since {_date(seen.commit_time)}")
    )
    if finding.present_at_head is True:
        return f"{age}, still at HEAD"
    if finding.present_at_head is False:
        return f"{age}, gone from HEAD"
    return age


def _commit(sha: str | None, context: RenderContext) -> Link | None:
    if not sha:
        return None
    return Link(sha[:COMMIT_SHOWN], context.links.commit(sha) if context.links else None)


def _place(location: Location, context: RenderContext) -> Place:
    position = location.position
    text = _clip(escape_text(f"{location.path}:{position.line}:{position.column}"))
    url = None
    message = message_of(location)
    if context.links and location.commit and message is None and location.path_bytes is None:
        url = context.links.blob(location.commit, location.path, position.line)
    original = location.original
    return Place(
        source=location.source.value,
        where=Link(text, url),
        commit=_commit(location.commit, context),
        origin=_clip(escape_text(f"{original.path}:{original.line}:{original.column}"))
        if original is not None
        else None,
        client_bundle=location.client_bundle,
        context=_clip(escape_text(location.context)) if location.context else None,
        encoding=location.encoding,
    )


def _help_id(rule_id: str) -> str:
    return "help-" + re.sub(r"[^A-Za-z0-9_-]", "-", rule_id)


def _revoke_url(finding: Finding, rule: Rule | None) -> str:
    url = finding.remediation_url or (rule.revoke_url if rule is not None else "")
    return url if url.startswith("https://") else ""


def _row(finding: Finding, rule: Rule | None, context: RenderContext) -> Row:
    seen = finding.first_seen
    head = "unknown" if finding.present_at_head is None else ("yes" if finding.present_at_head else "no")
    total = max(finding.locations_total, len(finding.locations))
    places = tuple(_place(loc, context) for loc in finding.locations[:PLACES_SHOWN])
    first = finding.locations[0] if finding.locations else None
    return Row(
        severity=finding.severity.value,
        provider=finding.provider,
        rule_id=finding.rule_id,
        rule=_clip(rule.name if rule is not None and rule.name else finding.rule_id),
        kind=finding.kind.value,
        secret=_clip(secret_preview(finding)),
        digest=finding.secret_sha256,
        fingerprint=finding.fingerprint,
        confidence=finding.confidence.value,
        verified=finding.verified,
        exposure=finding.exposure.value,
        exposure_text=where(finding),
        at_head=head,
        first_place=_clip(escape_text(f"{first.path}:{first.position.line}")) if first else "",
        first_seen=_commit(seen.commit, context) if seen else None,
        first_seen_date=_date(seen.commit_time) if seen else "",
        first_seen_by=_clip(escape_text(seen.author), 80) if seen else "",
        removed=_commit(finding.removed.commit, context) if finding.removed else None,
        removed_date=_date(finding.removed.commit_time) if finding.removed else "",
        window=window(finding),
        age_days=finding.age_days,
        environments=tuple(_clip(escape_text(e), 80) for e in finding.environments.names)
        if finding.environments
        else (),
        never_rotated=finding.never_rotated.reason if finding.never_rotated else None,
        severity_reason=finding.severity_reason,
        verification=escape_text(verification.said(finding.verification)) if finding.verification else None,
        also_matched=finding.also_matched,
        refs=tuple(_clip(escape_text(r), 120) for r in finding.present_at_refs[:10]),
        places=places,
        more_places=total - len(places),
        revoke_url=_revoke_url(finding, rule),
        help_id=_help_id(finding.rule_id),
        public=public_by_design(finding, rule),
        baseline=finding.baseline_state.value if finding.baseline_state else None,
    )


def _step(finding: Finding, rule: Rule | None) -> Step:
    if finding.kind is Kind.EXPOSURE:
        action = "take-out"
    elif public_by_design(finding, rule):
        action = "restrict"
    else:
        action = "revoke"
    seen = finding.first_seen
    return Step(
        action=action,
        severity=finding.severity.value,
        rule=_clip(rule.name if rule is not None and rule.name else finding.rule_id),
        secret=_clip(secret_preview(finding)),
        where=where(finding),
        revoke_url=_revoke_url(finding, rule),
        since=_date(seen.commit_time) if seen else "",
        reason=_clip(
            (finding.severity_reason if verification.is_live(finding) else None)  # --verify: live first
            or (finding.never_rotated.reason if finding.never_rotated else None)
            or finding.severity_reason
            or ""
        ),
    )


def _helps(findings: Sequence[Finding], rules: dict[str, Rule]) -> tuple[Help, ...]:
    out: list[Help] = []
    for rule_id in sorted({f.rule_id for f in findings}):
        rule = rules.get(rule_id)
        if rule is None:
            continue
        out.append(Help(_help_id(rule_id), rule_id, rule.name or rule_id, help_html(rule_help(rule).text)))
    return tuple(out)


def help_html(text: str) -> Markup:
    """A rule's plain-text help as HTML: its blocks as paragraphs, numbered and bulleted lists and
    headings; `code` spans and https links marked up. The text is escaped first, so the markup
    added here is the only markup there is. The first line (the rule's name) is the caller's."""
    blocks = [b.strip() for b in "\n".join(text.strip().splitlines()[1:]).split("\n\n") if b.strip()]
    parts: list[str] = []
    for block in blocks:
        lines = block.splitlines()
        if all(_NUMBERED.match(line) for line in lines):
            items = "".join(f"<li>{_inline(_NUMBERED.sub('', line, count=1))}</li>" for line in lines)
            parts.append(f"<ol>{items}</ol>")
        elif all(line.startswith("- ") for line in lines):
            parts.append("<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines) + "</ul>")
        elif len(lines) == 1 and block.endswith(":"):
            parts.append(f"<h4>{_inline(block[:-1])}</h4>")
        else:
            parts.append(f"<p>{_inline(' '.join(lines))}</p>")
    return Markup("".join(parts))


def _inline(text: str) -> str:
    escaped = str(escape(text))
    escaped = _CODE.sub(r"<code>\1</code>", escaped)

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in ".,;:)":
            url, tail = url[:-1], url[-1] + tail
        return f'<a href="{url}" rel="noreferrer noopener">{url}</a>{tail}'

    return _URL.sub(link, escaped)
