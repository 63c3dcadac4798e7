"""Workflow-command annotations for the findings a pull request or push introduces (github.md §3).

The range's findings are exactly what its commits added, so their locations are files and lines
the range changed. Each finding gets one annotation, most severe first (`error` for critical and
high, `warning` for medium, `notice` for low), on its line in the checked-out commit when the tree
scan finds the same secret at a path the range added it to, else without a file (a key added and
removed again inside the range is still in the history). GitHub shows at most 10 annotations of
each level per step, so no more are written, and a final notice says how many findings were not
annotated and where they are listed.

Escaping is the runner's (actions/runner `ActionCommand`, toolkit `command.ts`): in the message
`%`, CR and LF become `%25`, `%0D`, `%0A`; in property values `:` and `,` become `%3A`, `%2C` too.
A line therefore always holds exactly one command, and no value can end the properties or add one.
Text from the repository is also passed through `escape_text` (controls shown as escapes), and a
path that is not plain text (controls, bidi marks, undecodable bytes) is named in the message
rather than attached as `file`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from scanner.model import Finding, Kind, Location, Report, Rule, Severity, SourceKind
from scanner.output.context import DEFAULT_LISTED, RenderContext
from scanner.output.escape import escape_text, plain_text
from scanner.output.where import RESTRICT, public_by_design, where

MAX_PER_LEVEL = 10
"""The runner's `_maxCountPerIssueType`: more annotations of one level in a step are dropped."""
COMMIT_SHOWN = 12
Level = Literal["error", "warning", "notice"]
LEVELS: tuple[Level, ...] = ("error", "warning", "notice")


def escape_data(value: str) -> str:
    """A workflow command's message, as the runner unescapes it."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """A workflow command's property value, as the runner unescapes it."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def level_of(severity: Severity) -> Level:
    if severity.rank >= Severity.HIGH.rank:
        return "error"
    return "warning" if severity is Severity.MEDIUM else "notice"


@dataclass(frozen=True, slots=True)
class Annotation:
    level: Level
    title: str
    message: str
    file: str | None = None
    line: int | None = None
    end_line: int | None = None
    col: int | None = None
    end_column: int | None = None

    def command(self) -> str:
        """The workflow command, one line: `::error file=…,line=…,title=…::message`."""
        props: list[tuple[str, str]] = []
        if self.file is not None:
            props.append(("file", self.file))
            if self.line is not None:
                props.append(("line", str(self.line)))
                end = self.end_line if self.end_line is not None else self.line
                props.append(("endLine", str(end)))
                if end == self.line and self.col is not None:  # the runner drops columns otherwise
                    props.append(("col", str(self.col)))
                    if self.end_column is not None:
                        props.append(("endColumn", str(self.end_column)))
        props.append(("title", self.title))
        text = ",".join(f"{name}={escape_property(value)}" for name, value in props)
        return f"::{self.level} {text}::{escape_data(self.message)}"


@dataclass(frozen=True, slots=True)
class Annotations:
    """The annotations of a range, and what the final notice says."""

    items: tuple[Annotation, ...]
    total: int
    """How many findings the range has."""
    left_out: int
    per_level: int = MAX_PER_LEVEL

    @property
    def annotated(self) -> int:
        return self.total - self.left_out


def plain_path(path: str) -> bool:
    """Whether `path` can be a `file` property: text the runner can match to a file and the
    message shows unescaped (the one unsafe set of `escape.UNSAFE_CATEGORIES`)."""
    return bool(path) and plain_text(path)


def range_annotations(
    report: Report, tree: Report | None = None, *, per_level: int = MAX_PER_LEVEL
) -> Annotations:
    """The annotations for the range `report` (its findings are what the range introduced);
    `tree` is the checked-out commit's scan, which gives the lines as the checkout has them."""
    if report.status == "failed":
        return Annotations((), 0, 0, per_level)
    rules = {rule.id: rule for rule in report.rules}
    # a secret the tree scan suppressed (a pragma on its line) still has its line there
    in_tree = {f.fingerprint: f for f in (*tree.suppressed, *tree.findings)} if tree is not None else {}
    chosen: dict[Level, list[Finding]] = {level: [] for level in LEVELS}
    findings = list(report.active)  # a baselined one is acknowledged
    for finding in sorted(findings, key=lambda f: -f.severity.rank):  # stable
        chosen[level_of(finding.severity)].append(finding)
    # a key its author approved with a pragma this change adds: a warning on that line, for review
    added = [f for f in report.suppressed if f.suppression is not None and f.suppression.added]
    chosen["warning"] += added
    findings += added
    caps = dict.fromkeys(LEVELS, per_level)
    if any(len(chosen[level]) > per_level for level in LEVELS):
        caps["notice"] = per_level - 1  # room for the final notice, itself a notice
    items = [
        _annotation(level, finding, rules.get(finding.rule_id), in_tree, tree is not None)
        for level in LEVELS
        for finding in chosen[level][: caps[level]]
    ]
    total = len(findings)
    return Annotations(tuple(items), total, total - len(items), per_level)


def render(report: Report, context: RenderContext) -> str:
    """The workflow commands for the range `report`, on the lines of `context.tree` (the checked-out
    commit's scan) when it did not fail."""
    return render_annotations(plan(report, context), context.where_listed)


def plan(report: Report, context: RenderContext) -> Annotations:
    """The annotations `render` writes (their count is the summary's `annotations`)."""
    tree = context.tree if context.tree is not None and context.tree.status != "failed" else None
    return range_annotations(report, tree)


def render_annotations(annotations: Annotations, where_listed: str = DEFAULT_LISTED) -> str:
    """The workflow commands, one a line, with the final notice when some findings were left out
    (`where_listed`: the sentence that says where to see them)."""
    lines = [a.command() for a in annotations.items]
    if annotations.left_out:
        left, total = annotations.left_out, annotations.total
        text = (
            f"{left} of {total} findings of this range {'is' if left == 1 else 'are'} not annotated: "
            f"GitHub shows at most {annotations.per_level} annotations of each level in a step, and the "
            f"{annotations.annotated} most severe are. {where_listed}"
        )
        lines.append(Annotation("notice", "keysweep: findings not annotated", escape_text(text)).command())
    return "".join(line + "\n" for line in lines)


def _annotation(
    level: Level, finding: Finding, rule: Rule | None, in_tree: dict[str, Finding], have_tree: bool
) -> Annotation:
    name = rule.name if rule is not None and rule.name else finding.rule_id
    title = f"keysweep: {finding.severity.value} {name}"
    if finding.suppression is not None and finding.suppression.added:
        title = f"keysweep: {finding.suppression.reason} ({name})"
    added = [loc for loc in finding.locations if loc.source is not SourceKind.MESSAGE]
    place = _place(added, in_tree.get(finding.fingerprint), have_tree)
    message = _message(finding, rule, name, added, place)
    if place is None:
        return Annotation(level, escape_text(title), message)
    position = place.position
    return Annotation(
        level,
        escape_text(title),
        message,
        file=place.path,
        line=max(1, position.line),
        end_line=max(1, position.line, position.end_line),
        col=max(1, position.column),
        end_column=max(1, position.column, position.end_column),
    )


def _place(added: Sequence[Location], in_tree: Finding | None, have_tree: bool) -> Location | None:
    """Where to attach the annotation: the secret's line in the checked-out tree, at a path the
    range added it to; without a tree scan, where the range added it."""
    paths = {loc.path for loc in added if loc.path_bytes is None and plain_path(loc.path)}
    if not have_tree:
        return next((loc for loc in added if loc.path in paths), None)
    if in_tree is None:
        return None
    return next((loc for loc in in_tree.locations if loc.path in paths and loc.path_bytes is None), None)


def _message(
    finding: Finding, rule: Rule | None, name: str, added: Sequence[Location], place: Location | None
) -> str:
    url = finding.remediation_url or (rule.revoke_url if rule is not None else "")
    if finding.kind is Kind.EXPOSURE:
        lead = f"{name} ({finding.rule_id}): it is {where(finding)}."
        todo = (
            "Whatever a browser or app receives is public: call the API from a server-side proxy, "
            f"and revoke any key that shipped{f' at {url}' if url else ''}."
        )
    elif finding.suppression is not None and finding.suppression.added:
        secret = finding.redacted or "(short secret, not shown)"
        lead = (
            f"{name} {secret} ({finding.rule_id}) is suppressed by a keysweep:allow that this change adds: "
            "its author approves their own key."
        )
        why = (
            'the config lets such a pragma suppress any finding (pragmas.added-by-change = "all")'
            if finding.verified
            else "its structure cannot be verified offline"
        )
        todo = f"The gate does not count it because {why}. A reviewer should confirm it is not a real key."
    elif public_by_design(finding, rule):
        secret = finding.redacted or "(short secret, not shown)"
        lead = f"{name} {secret} ({finding.rule_id}) in a Firebase web config, {where(finding)}."
        todo = f"It is public by design, not a leak: {RESTRICT}{f' ({url})' if url else ''}."
    else:
        secret = finding.redacted or "(short secret, not shown)"
        lead = f"Leaked {name} {secret} ({finding.rule_id}), {where(finding)}."
        todo = (
            f"Revoke it{f' at {url}' if url else ''} first: removing it from the code does not un-leak it. "
            "Then rotate it without downtime, move it out of the code and clean history; the rule's help "
            "in code scanning says how."
        )
    parts = [lead]
    if finding.pragma_ignored is not None:
        parts.append(
            f"A keysweep:allow that this change adds does not suppress it: {finding.pragma_ignored}."
        )
    if finding.severity_reason is not None:
        parts.append(f"Severity {finding.severity.value}: {finding.severity_reason.rstrip('.')}.")
    seen = finding.first_seen
    origin = next((loc for loc in added if place is not None and loc.path == place.path), None)
    origin = origin or next(iter(added), None)
    if seen is not None:
        at = f" at {origin.path}:{origin.position.line}" if origin is not None else " in its commit message"
        parts.append(f"Added by commit {seen.commit[:COMMIT_SHOWN]}{at}.")
    if place is None and finding.present_at_head is False:
        parts.append("A later commit of this range removed it, but it stays in the history.")
    elif place is None and origin is not None and not plain_path(origin.path):
        parts.append("(The path holds characters an annotation cannot point at.)")
    parts.append(todo)
    return escape_text(" ".join(parts))
