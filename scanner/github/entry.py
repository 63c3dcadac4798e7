"""`keysweep action`: the GitHub Actions entry point (ARCHITECTURE.md §1, §7; github.md §4, §5).

`entrypoint.sh` only execs this. It reads the `INPUT_*` variables itself — the runner keeps the
hyphens of input names (`INPUT_SARIF-FILE`), which only a process's environment, not a shell,
can carry — applies its own defaults where one is absent or empty, reads the event payload, and
runs up to two scans through the same pipeline as `keysweep scan`:

- the scan that decides the exit code: the commit range of a pull request or push, the whole
  history on schedule (`scanner.github.event` decides which);
- the checked-out commit's tree, written as the SARIF file (category `keysweep/tree`), the state
  code scanning shows for that commit; on schedule the sweep itself is the SARIF file
  (`keysweep/history`). A range's SARIF is never written: uploading it would mark every alert
  outside the range fixed.

What the people on the run see (github.md §3): the range's findings as workflow-command
annotations on the files it changed (`scanner.output.annotations`), a job summary appended to
`$GITHUB_STEP_SUMMARY` (`scanner.output.summary`, with links from `GITHUB_SERVER_URL` and
`GITHUB_REPOSITORY`), and an error annotation saying why when the run failed.

Outputs go to `$GITHUB_OUTPUT` in the multi-line-safe `name<<DELIMITER` form. Like the CLI, this
module is the only place here that touches the environment and files; no value of an input ever
becomes an option of anything, and no secret is ever printed (the reports hold none).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, assert_never

import pygit2

from scanner import __version__
from scanner.config import Mode as ScanMode
from scanner.config import Request, ScanConfig, engine, resolve_config
from scanner.defaults import ENGINE_ENV
from scanner.errors import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    EXIT_USAGE,
    KeysweepError,
    ScanError,
    UsageError,
    describe,
)
from scanner.git.objects import OBJ_COMMIT, OBJ_TAG, CommitMeta, parse_commit, parse_tag
from scanner.git.repo import read_raw
from scanner.github.event import CloneView, Mode, Plan, Scope, is_sha, plan, sarif_mode_for
from scanner.github.inputs import ActionInputs as ActionInputs
from scanner.github.inputs import (
    RunnerContext,
    html_path,
    read_context,
    read_inputs,
    read_payload,
    resolve,
    sarif_path,
    shown,
)
from scanner.github.outputs import (
    category_for,
    failure_annotation,
    gate_outputs,
    one_line,
    run_context,
    sarif_note,
    shown_path,
    write_html,
    write_sarif,
    write_summary,
)
from scanner.github.outputs import write_outputs as write_outputs
from scanner.model import Report, Rule, ScanInfo, Severity
from scanner.outcome import Verdict, failed_report, judge, severity_counts
from scanner.output.context import RenderContext
from scanner.output.escape import escape_text, guard_lines
from scanner.output.formats import render
from scanner.target import Target, open_target

if TYPE_CHECKING:
    from scanner.output.sarif import SarifFile
    from scanner.suppress.inputs import ConfigFiles
    from scanner.verify import VerifySettings


def _is_dir(path: Path, name: str) -> bool:
    """`path.is_dir()`, with an OSError (a name too long, a loop) as the input's error, exit 2."""
    try:
        return path.is_dir()
    except OSError as e:
        raise UsageError(f"input `{name}` {shown(str(path))}: {e.strerror}") from None


def _exists(path: Path, name: str) -> bool:
    try:
        return path.exists()
    except OSError as e:
        raise UsageError(f"input `{name}` {shown(str(path))}: {e.strerror}") from None


class GitClone:
    """`CloneView` of the run's target (scanner/target.py: the repository the scans read, opened
    once), through keysweep's git layer, so that a damaged loose object is never handed to libgit2
    (which can spin on one) and libgit2's owner check is already off."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.repo = target.repo

    @property
    def shallow(self) -> bool:
        return bool(self.repo.is_shallow)

    def _read(self, raw: bytes) -> tuple[int, bytes] | None:
        try:
            return read_raw(self.repo, raw)
        except (pygit2.GitError, KeyError, ValueError, OSError):
            return None

    def _commit(self, sha: str) -> CommitMeta | None:
        got = self._read(bytes.fromhex(sha)) if is_sha(sha) else None
        if got is None or got[0] != OBJ_COMMIT:
            return None
        try:
            return parse_commit(got[1])[0]
        except (KeyError, ValueError, IndexError):
            return None

    def head(self) -> str | None:
        head = self.target.head
        return head.hex() if head else None

    def has_commit(self, sha: str) -> bool:
        return self._commit(sha) is not None

    def parents(self, sha: str) -> tuple[str, ...]:
        commit = self._commit(sha)
        return tuple(p.hex() for p in commit.parents) if commit is not None else ()

    def branch_tips(self) -> list[tuple[str, str]]:
        tips: list[tuple[str, str]] = []
        for tip in self.target.refs[0]:
            if not tip.name.startswith(("refs/heads/", "refs/remotes/")) or tip.name.endswith("/HEAD"):
                continue
            target: bytes | None = tip.target
            for _ in range(8):  # a branch naming an annotated tag: peel it to its commit
                got = self._read(target) if target else None
                if got is None or got[0] != OBJ_TAG:
                    break
                try:
                    target = parse_tag(got[1])[0].target
                except (KeyError, ValueError, IndexError):
                    target = None
            if target and self._commit(target.hex()) is not None:
                tips.append((tip.name, target.hex()))
        return tips


def _say(log: TextIO, line: str) -> None:
    log.write(guard_lines(f"keysweep: {line}") + "\n")
    log.flush()


@dataclass(frozen=True, slots=True)
class _Run:
    """The scans of one run, with the config they were resolved with: the one that decides the
    exit code and, beside a range (or with nothing to gate), the checked-out tree's own scan,
    which is what the SARIF file holds."""

    plan: Plan
    config: ScanConfig  # resolved once; fail-on is the input's, else the trusted config's, else high
    gate: Report | None  # None: nothing to gate
    tree: Report | None  # None: the gated scan is the one written as SARIF


def _scan_inputs(
    inputs: ActionInputs,
    target: Path,
    head: str | None,
    the_plan: Plan | None,
    rules: tuple[Rule, ...],
    log: TextIO,
    opened: Target | None = None,
) -> ConfigFiles:
    """The config and baseline the scan trusts: read from the plan's trusted commit (the base of a
    pull request, `before` of a push, else the default branch's tip), never from the change under
    scan, which could otherwise allowlist its own key; none (the built-in defaults) when there is
    no trusted commit. The log says which, and names a change that edits either file."""
    from scanner.suppress.inputs import NO_FILES, ConfigFiles, load_local
    from scanner.suppress.trusted import read_trusted

    if the_plan is None:  # a plain directory: its own files are all there is
        baseline = _resolve_input_path(target, inputs.baseline)
        config = _resolve_input_path(target, inputs.config)
        files = load_local(target, rules, config if config and config.is_file() else None, baseline)
        _say(log, "config and baseline: the directory's own files (no git repository, no commit to trust)")
        return files
    if the_plan.trusted is None:
        _say(log, f"config and baseline: built-in defaults ({the_plan.trust})")
        return NO_FILES
    assert opened is not None
    got = read_trusted(
        opened.trusting(the_plan.trusted),
        rules,
        scanned=head,
        config_path=inputs.config,
        baseline_path=inputs.baseline,
    )
    found = [
        name
        for name, held in ((inputs.config, got.settings), (got.baseline_path, got.baseline))
        if name is not None and held is not None
    ]
    what = (
        ", ".join(escape_text(n) for n in found)
        if found
        else f"it has no {escape_text(inputs.config)}: built-in defaults"
    )
    _say(log, f"config and baseline as commit {got.commit[:12]} has them ({the_plan.trust}): {what}")
    for path in got.changed:
        _say(log, f"note: this change edits {escape_text(path)}; the scan uses the trusted commit's version")
    source = f"{got.commit[:12]}:{got.baseline_path}" if got.baseline is not None else None
    return ConfigFiles(got.settings, got.baseline, source)


def _resolve_input_path(target: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    p = Path(value)
    return p if p.is_absolute() else (target if target.is_dir() else target.parent) / p


def _verify_settings(env: Mapping[str, str]) -> VerifySettings:
    """The `verify` input: the runner's proxy (HTTPS_PROXY, NO_PROXY) and CA bundle (SSL_CERT_FILE)."""
    from scanner.verify import VerifySettings

    return VerifySettings.from_env(env)


def _scan(
    inputs: ActionInputs, ctx: RunnerContext, env: Mapping[str, str], rules: tuple[Rule, ...], log: TextIO
) -> _Run:
    from scanner.pipeline import scan
    from scanner.rules.matcher_cache import load_matcher

    target = resolve(ctx, inputs.path)
    if not _exists(target, "path"):
        raise ScanError(f"input `path` {shown(str(target))} does not exist; did a checkout step run?")
    cache = resolve(ctx, inputs.cache_dir) if inputs.cache_dir else None
    bundles = tuple(resolve(ctx, d) for d in inputs.bundles)
    for d in bundles:
        if not _is_dir(d, "bundles"):
            raise UsageError(f"input `bundles`: {shown(str(d))} is not a directory; did the build step run?")
    given = (inputs.fail_on.value if inputs.fail_on else "none") if inputs.fail_on_given else None
    request = Request(
        target=target,
        engine=engine(env.get(ENGINE_ENV)),
        fail_on=given,
        cache=cache,
        strict=inputs.strict,
        bundles=bundles,
        verify=_verify_settings(env) if inputs.verify else None,
    )
    opened = open_target(target)  # turns libgit2's owner check off: the workspace is another uid's
    if opened.site is None:
        if inputs.mode is not Mode.TREE:
            raise ScanError(
                f"{escape_text(str(target))} is not in a git repository: check the repository out first "
                "(actions/checkout with `fetch-depth: 0`), or set `mode: tree` to scan a plain directory"
            )
        the_plan = Plan(Scope.TREE, "mode tree: a plain directory (no git repository)")
        si = _scan_inputs(inputs, target, None, None, rules, log)
    else:
        clone = GitClone(opened)
        payload = read_payload(ctx, log)
        the_plan = plan(inputs.mode, ctx.event_name, payload, ctx.ref, clone, ctx.sha)
        _check_checkout(ctx, clone, log)
        si = _scan_inputs(inputs, target, clone.head(), the_plan, rules, log, opened)
    config = resolve_config(request, rules, si)
    _say(log, the_plan.reason)
    for note in the_plan.notes:
        _say(log, f"note: {note}")
    matcher = load_matcher(config.rules, config.engine)

    def run(mode: ScanMode, range_expr: str | None = None) -> Report:
        return scan(config.in_mode(mode, range_expr), config.rules, matcher, target=opened)

    match the_plan.scope:
        case Scope.RANGE:
            gate_report = run(ScanMode.RANGE, the_plan.range_expr)
            commits = gate_report.stats.commits
            _say(log, f"range: {commits} commit{'s' if commits != 1 else ''}")
            return _Run(the_plan, config, gate_report, run(ScanMode.TREE))
        case Scope.SWEEP:
            _cache_found(ctx, cache, log)
            gate_report = run(ScanMode.HISTORY)
            _cache_used(ctx, cache, log)
            return _Run(the_plan, config, gate_report, None)
        case Scope.TREE:
            return _Run(the_plan, config, run(ScanMode.TREE), None)
        case Scope.NOTHING:
            return _Run(the_plan, config, None, run(ScanMode.TREE))
    assert_never(the_plan.scope)


def _cache_files(cache: Path) -> tuple[int, int]:
    """How many history cache files `cache` holds, and their bytes (0, 0 when it cannot be read)."""
    try:
        files = [p for p in cache.glob("history-*.cache") if p.is_file()] if cache.is_dir() else []
        return len(files), sum(p.stat().st_size for p in files)
    except OSError:
        return 0, 0


def _cache_found(ctx: RunnerContext, cache: Path | None, log: TextIO) -> None:
    """Say what the history cache directory holds before the sweep: a cache that actions/cache
    never restores (or that lives where the host never sees it) must not go unnoticed."""
    if cache is None:
        return
    where = escape_text(shown_path(ctx, cache))
    if not cache.resolve().is_relative_to(ctx.workspace.resolve()):
        _say(
            log,
            f"note: cache-dir {where} is outside the workspace: a later step (actions/cache) may not "
            "see what this container writes there; use a workspace-relative directory such as "
            ".git/keysweep-cache",
        )
    count, size = _cache_files(cache)
    if not count:
        _say(
            log,
            f"history cache: none found in {where} (a first run, or nothing restored): every object is read",
        )
        return
    _say(log, f"history cache: found {count} file{'s' if count != 1 else ''} ({size} bytes) in {where}")


def _cache_used(ctx: RunnerContext, cache: Path | None, log: TextIO) -> None:
    """Say how much of the cache the sweep reused, and what it left for the next run."""
    if cache is None:
        return
    from scanner.sources.history.cache import USES

    for path, use in USES.items():
        if Path(path).parent == cache:
            found = "" if use.found == "found" else f" ({use.found})"
            _say(log, f"history cache{found}: reused {use.reused}")
    size = _cache_files(cache)[1]
    where = escape_text(shown_path(ctx, cache))
    _say(log, f"history cache: {size} bytes in {where} for the next run")


def _check_checkout(ctx: RunnerContext, clone: CloneView, log: TextIO) -> None:
    """Say so when the checked-out commit is not the one the run is about (`GITHUB_SHA`)."""
    head = clone.head()
    if ctx.sha and is_sha(ctx.sha) and head is not None and head != ctx.sha:
        _say(log, f"note: the checked-out commit {head[:12]} is not GITHUB_SHA {ctx.sha[:12]}")


def _summary(report: Report) -> str:
    counts = severity_counts(report)
    total = len(report.findings)
    by = ", ".join(f"{counts[s]} {s.value}" for s in reversed(Severity))
    return f"{total} finding{'s' if total != 1 else ''} ({by})"


def run_action(env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    """Run the action; returns the exit code (2 > 3 > 1 > 0), having written outputs and SARIF."""
    from scanner.rules import load_rules

    inputs: ActionInputs | None = None
    ctx = read_context(env)
    rules: tuple[Rule, ...] = ()
    try:
        given = read_inputs(env)
        sarif_path(ctx, given)  # refused before anything is written there
        html_path(ctx, given)
        inputs = given
        threshold = inputs.fail_on.value if inputs.fail_on else "none"
        out.write(
            f"keysweep {__version__} action: {escape_text(ctx.event_name) or 'no'} event, mode "
            f"{inputs.mode.value}, fail-on {threshold}, strict {str(inputs.strict).lower()}\n"
        )
        rules = load_rules()
        run = _scan(inputs, ctx, env, rules, out)
    except UsageError as e:
        print(f"keysweep: error: {one_line(str(e))}", file=err)
        return _finish_failed(inputs, ctx, rules, str(e), EXIT_USAGE, out, err)
    except KeysweepError as e:
        print(f"keysweep: scan failed: {one_line(str(e))}", file=err)
        return _finish_failed(inputs, ctx, rules, str(e), EXIT_FAILED, out, err)
    except Exception as e:  # noqa: BLE001 - a crash is exit 3 and a failed report, never 1
        print(f"keysweep: scan failed: {describe(e)}", file=err)
        return _finish_failed(inputs, ctx, rules, describe(e), EXIT_FAILED, out, err)

    verdict = judge(run.gate, run.tree, run.config.fail_on, inputs.strict, rules)
    if verdict.gate is not None:
        out.write(render("console", verdict.gate, RenderContext()))
    if run.tree is not None:
        _say(out, f"tree of the checked-out commit: {_summary(run.tree)}")
    return _publish(ctx, inputs, run, verdict, out, err)


def _publish(
    ctx: RunnerContext, inputs: ActionInputs, run: _Run, verdict: Verdict, out: TextIO, err: TextIO
) -> int:
    """Every output of a finished run, each written once, from the one verdict: the SARIF file,
    `$GITHUB_OUTPUT`, the annotations, the failure annotation, the job summary and the verdict
    line. A file that cannot be written is exit 2, but loses nothing else: the annotations, the
    summary and the verdict still follow."""
    code, gate_report, sarif = verdict.code, verdict.gate, verdict.written
    context = run_context(ctx, run.config.fail_on, run.plan, category_for(run.plan.sarif_mode))
    if sarif is not gate_report:  # the checked-out tree's scan beside the gated one
        context = replace(context, tree=sarif)
    unwritten: list[str] = []
    written: SarifFile | None = None
    target = sarif_path(ctx, inputs)
    shown_at = shown_path(ctx, resolve(ctx, inputs.sarif_file))
    try:
        written = write_sarif(target, sarif, context)
        _say(out, f"SARIF ({context.category}, status {sarif.status}) written to {escape_text(shown_at)}")
        if written.omitted:
            _say(
                out,
                f"note: the SARIF file leaves out {written.omitted} of the least severe results: {written.limit}",
            )
    except UsageError as e:
        unwritten.append(str(e))
    try:
        status = sarif.status if written is not None else "failed"  # nothing there to upload
        gate_outputs(ctx, shown_at, gate_report, status, err)
    except UsageError as e:
        unwritten.append(str(e))
    annotated = _annotate(run.plan, gate_report, context, out)
    shown_report = gate_report if gate_report is not None else sarif  # what the summary and HTML show
    html = html_path(ctx, inputs)
    if html is not None:
        try:
            write_html(html, shown_report, replace(context, exit_code=EXIT_USAGE if unwritten else code))
            _say(out, f"HTML report written to {escape_text(shown_path(ctx, html))}")
        except UsageError as e:
            unwritten.append(str(e))
    failure = next((r.error for r in (gate_report, sarif) if r is not None and r.status == "failed"), None)
    if code == EXIT_FAILED:
        failure_annotation(out, failure or "unknown error")
    for message in unwritten:
        print(f"keysweep: error: {one_line(message)}", file=err)
        failure_annotation(out, message, "keysweep: an output could not be written")
    write_summary(
        ctx,
        shown_report,
        replace(
            context,
            exit_code=EXIT_USAGE if unwritten else code,
            sarif=sarif_note(context, sarif, written, shown_at) if written is not None else None,
            annotations=annotated,
        ),
        err,
    )
    line = _verdict(code, run.plan, failure, inputs)
    if unwritten:
        _say(out, f"exit 2: {one_line(unwritten[0])}; the scan itself: {line}")
        return EXIT_USAGE
    _say(out, line)
    return code


def _annotate(the_plan: Plan, gate_report: Report | None, context: RenderContext, out: TextIO) -> int | None:
    """Annotations for a range's findings (on the files it changed); how many were written."""
    if the_plan.scope is not Scope.RANGE or gate_report is None or gate_report.status == "failed":
        return None
    from scanner.output.annotations import plan as annotations_of

    out.write(render("annotations", gate_report, context))
    out.flush()
    return annotations_of(gate_report, context).annotated


def _verdict(code: int, the_plan: Plan, failure: str | None, inputs: ActionInputs) -> str:
    what = {Scope.RANGE: "the range", Scope.SWEEP: "the history", Scope.TREE: "the tree"}.get(
        the_plan.scope, "nothing to gate"
    )
    if code == EXIT_FAILED:
        return f"exit 3: the scan failed ({one_line(failure or 'unknown error')})"
    threshold = inputs.fail_on.value if inputs.fail_on else "none"
    if code == EXIT_FINDINGS:
        return f"exit 1: findings at or above {threshold} in {what}"
    return f"exit 0: no finding at or above {threshold} in {what}"


def _finish_failed(
    inputs: ActionInputs | None,
    ctx: RunnerContext,
    rules: tuple[Rule, ...],
    message: str,
    code: int,
    out: TextIO,
    err: TextIO,
) -> int:
    """A run that could not scan: a failed SARIF (so no upload marks alerts fixed), outputs, an
    error annotation and a summary that say why, each written once, with the rules the run
    loaded (none when loading them was what failed)."""
    try:
        failure_annotation(out, message)
    except Exception as e:  # noqa: BLE001 - reporting the failure must not turn it into another
        print(f"keysweep: could not annotate the failure: {describe(e)}", file=err)
    if inputs is None:  # the inputs themselves are bad: there is no SARIF path to trust
        if ctx.output is not None:
            try:
                write_outputs(ctx.output, {"status": "failed"})
            except UsageError as e:
                print(f"keysweep: error: {one_line(str(e))}", file=err)
        return code
    try:
        mode = sarif_mode_for(inputs.mode, ctx.event_name)
        failed = failed_report(rules, ScanInfo(mode=mode, target=str(resolve(ctx, inputs.path))), message)
        context = run_context(ctx, inputs.fail_on, None, category_for(mode))
        written = write_sarif(sarif_path(ctx, inputs), failed, context)
        shown_at = shown_path(ctx, resolve(ctx, inputs.sarif_file))
        html = html_path(ctx, inputs)
        if html is not None:  # a failed page too, so the upload step finds one that says why
            write_html(html, failed, replace(context, exit_code=code))
        note = sarif_note(context, failed, written, shown_at)
        write_summary(ctx, failed, replace(context, exit_code=code, sarif=note), err)
        if ctx.output is not None:
            write_outputs(
                ctx.output,
                {
                    "sarif-file": shown_at,
                    "findings": "",
                    "critical": "",
                    "high": "",
                    "status": "failed",
                },
            )
    except KeysweepError as e:
        print(f"keysweep: error: {one_line(str(e))}", file=err)
        return EXIT_USAGE if code == EXIT_USAGE else code
    except Exception as e:  # noqa: BLE001 - reporting the failure must not turn it into another
        print(f"keysweep: could not write the failed report: {describe(e)}", file=err)
    return code


def report_failed(env: Mapping[str, str], message: str, out: TextIO, err: TextIO) -> None:
    """The failed SARIF, outputs, annotation and summary of a run whose scanning process died
    (the watchdog's parent calls this: a stall, the out-of-memory killer)."""
    from scanner.rules import load_rules

    ctx = read_context(env)
    try:
        inputs: ActionInputs | None = read_inputs(env)
    except KeysweepError:
        inputs = None
    rules: tuple[Rule, ...] = ()
    with contextlib.suppress(
        Exception
    ):  # this process never loaded them; a failed SARIF without is still one
        rules = load_rules()
    _finish_failed(inputs, ctx, rules, message, EXIT_FAILED, out, err)


def main() -> int:
    """`python -m scanner.github.entry`, for debugging outside the CLI."""
    return run_action(os.environ, sys.stdout, sys.stderr)
