"""The action's writes: `$GITHUB_OUTPUT`, the SARIF file, the HTML report, the job summary and the
error annotation of a failed run (split from `scanner.github.entry`, which decides what to write)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scanner.errors import UsageError
from scanner.github.event import Plan, Scope
from scanner.github.inputs import RunnerContext
from scanner.model import Report, Severity
from scanner.outcome import severity_counts
from scanner.output.context import RenderContext, RepoLinks, SarifNote
from scanner.output.escape import escape_text

if TYPE_CHECKING:
    from scanner.output.sarif import SarifFile


MESSAGE_CHARS = 2000  # an error as the log and its annotation show it: at most this much


_UNSAFE = re.compile(r"[^\x20-\x7e]|##\[")


def one_line(message: str) -> str:
    """An error message as printed and annotated: one line, no control character or workflow
    command, cut to MESSAGE_CHARS. Values in messages are escaped where they are quoted; this
    escapes only what is still unsafe, so nothing is escaped twice."""
    text = _UNSAFE.sub(lambda m: escape_text(m.group()), message)
    if len(text) <= MESSAGE_CHARS:
        return text
    return f"{text[:MESSAGE_CHARS]}… ({len(text)} characters)"


def shown_path(ctx: RunnerContext, path: Path) -> str:
    """A path as later steps can use it: relative to the workspace when it lies inside.

    Later steps run on the host, where the workspace has another absolute path than the
    container's `/github/workspace`; a workspace-relative path means the same file to both.
    """
    try:
        return path.relative_to(ctx.workspace).as_posix()
    except ValueError:
        return str(path)


def write_outputs(path: Path, outputs: Mapping[str, str]) -> None:
    """Append `outputs` to `$GITHUB_OUTPUT`, each as `name<<DELIMITER`, value, `DELIMITER`."""
    lines: list[str] = []
    for name, value in outputs.items():
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        while delimiter in value:
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        lines += [f"{name}<<{delimiter}", value, delimiter]
    try:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
    except OSError as e:
        raise UsageError(f"cannot write GITHUB_OUTPUT {escape_text(str(path))}: {e.strerror}") from None


def write_sarif(path: Path, report: Report, context: RenderContext) -> SarifFile:
    """The SARIF file, within GitHub's limits; what it holds and left out, for the log and summary."""
    from scanner.output.sarif import build_sarif

    written = build_sarif(report, context)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(written.text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write the SARIF file {escape_text(str(path))}: {e.strerror}") from None
    return written


def write_html(path: Path, report: Report, context: RenderContext) -> None:
    """The HTML report (the registry's `html` format) at the `html-file` input's path, for a later
    actions/upload-artifact step."""
    from scanner.output.formats import render

    text = render("html", report, context)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write the HTML report {escape_text(str(path))}: {e.strerror}") from None


def write_summary(ctx: RunnerContext, report: Report, context: RenderContext, err: TextIO) -> None:
    """Append the job summary to `$GITHUB_STEP_SUMMARY`; a summary that cannot be written is
    said on stderr and changes nothing else (the verdict is the exit code)."""
    if ctx.summary is None:
        return
    from scanner.output.formats import render

    try:
        with ctx.summary.open("a", encoding="utf-8") as fh:
            fh.write(render("summary", report, context))
    except OSError as e:
        print(f"keysweep: note: cannot write GITHUB_STEP_SUMMARY: {e.strerror}", file=err)


def failure_annotation(out: TextIO, message: str, title: str = "keysweep: the scan failed") -> None:
    """An error annotation naming why the run failed, so the pull request says it too."""
    from scanner.output.annotations import Annotation

    out.write(Annotation("error", title, one_line(message)).command() + "\n")


def _subject(the_plan: Plan | None, event_name: str) -> str | None:
    """What the summary's findings are in, for its heading."""
    if the_plan is None:
        return None
    if the_plan.scope is Scope.RANGE:
        events = {
            "pull_request": "this pull request",
            "pull_request_target": "this pull request",
            "push": "this push",
        }
        return events.get(event_name, "the range")
    return "the history" if the_plan.scope is Scope.SWEEP else "the checked-out tree"


def run_context(
    ctx: RunnerContext, fail_on: Severity | None, the_plan: Plan | None, category: str
) -> RenderContext:
    """What every format of this run is told beyond its report: the SARIF category the plan
    writes, the threshold, the plan and links (the exit code, the SARIF file and the annotations
    are added once they are known)."""
    return RenderContext(
        category=category,
        scope=the_plan.reason if the_plan is not None else None,
        subject=_subject(the_plan, ctx.event_name),
        fail_on=fail_on,
        links=RepoLinks.of(ctx.server_url, ctx.repository, ctx.run_id),
    )


def sarif_note(context: RenderContext, report: Report, written: SarifFile, shown: str) -> SarifNote:
    """The SARIF file as the summary tells it: where, the context's category, and what it holds."""
    return SarifNote(
        path=shown,
        category=context.category or category_for(report.scan.mode),
        status=report.status,
        results=written.results,
        omitted=written.omitted,
        limit=written.limit,
    )


def category_for(mode: str) -> str:
    """The SARIF category (`upload-sarif`'s) a scan of `mode` is written under."""
    from scanner.output.sarif import automation_id

    return automation_id(mode).rstrip("/")


def gate_outputs(
    ctx: RunnerContext, shown_at: str, gate_report: Report | None, status: str, err: TextIO
) -> None:
    """The outputs; `findings`, `critical` and `high` are empty when the gate failed (exit 3): the
    count of a scan that could not read everything is no count, and 0 would read as clean."""
    if ctx.output is None:
        print("keysweep: GITHUB_OUTPUT is not set; no outputs written", file=err)
        return
    counts: Mapping[Severity, int] = dict.fromkeys(Severity, 0)
    total = 0
    if gate_report is not None:
        counts, total = severity_counts(gate_report), len(gate_report.findings)
    failed = gate_report is not None and gate_report.status == "failed"
    write_outputs(
        ctx.output,
        {
            "sarif-file": shown_at,
            "findings": "" if failed else str(total),
            "critical": "" if failed else str(counts[Severity.CRITICAL]),
            "high": "" if failed else str(counts[Severity.HIGH]),
            "status": status,
        },
    )
