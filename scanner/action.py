"""`keysweep action`: the GitHub Actions entry point (ARCHITECTURE.md §1, §7; github.md §4, §5).

`entrypoint.sh` only execs this. It reads the `INPUT_*` variables itself — the runner keeps the
hyphens of input names (`INPUT_SARIF-FILE`), which only a process's environment, not a shell,
can carry — applies its own defaults where one is absent or empty, reads the event payload, and
runs up to two scans through the same pipeline as `keysweep scan`:

- the scan that decides the exit code: the commit range of a pull request or push, the whole
  history on schedule (`scanner.github_event` decides which);
- the checked-out commit's tree, written as the SARIF file (category `keysweep/tree`), the state
  code scanning shows for that commit; on schedule the sweep itself is the SARIF file
  (`keysweep/history`). A range's SARIF is never written: uploading it would mark every alert
  outside the range fixed.

What the people on the run see (github.md §3): the range's findings as workflow-command
annotations on the files it changed (`scanner.output.github`), a job summary appended to
`$GITHUB_STEP_SUMMARY` (`scanner.output.summary`, with links from `GITHUB_SERVER_URL` and
`GITHUB_REPOSITORY`), and an error annotation saying why when the run failed.

Outputs go to `$GITHUB_OUTPUT` in the multi-line-safe `name<<DELIMITER` form. Like the CLI, this
module is the only place here that touches the environment and files; no value of an input ever
becomes an option of anything, and no secret is ever printed (the reports hold none).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import pygit2

from scanner import __version__
from scanner.action_inputs import ActionInputs as ActionInputs
from scanner.action_inputs import RunnerContext, read_context, read_inputs, read_payload, shown
from scanner.action_outputs import (
    category,
    failure_annotation,
    gate_outputs,
    one_line,
    shown_path,
    summary_context,
    write_sarif,
    write_summary,
)
from scanner.action_outputs import write_outputs as write_outputs
from scanner.config import Mode as ScanMode
from scanner.config import ScanConfig
from scanner.errors import KeysweepError, ScanError, UsageError
from scanner.git.objects import OBJ_COMMIT, OBJ_TAG, CommitMeta, parse_commit, parse_tag
from scanner.git.repo import read_raw
from scanner.github_event import CloneView, Mode, Plan, Scope, is_sha, plan, sarif_mode_for
from scanner.model import Report, Rule, ScanInfo, Severity
from scanner.outcome import (
    EXIT_FAILED,
    EXIT_FINDINGS,
    EXIT_OK,
    EXIT_USAGE,
    failed_report,
    gate,
    severity_counts,
)
from scanner.output.escape import escape_text, guard_lines
from scanner.suppress.inputs import ScanInputs
from scanner.target import Target, open_target

if TYPE_CHECKING:
    from scanner.output.sarif import SarifFile

ENGINE_ENV = "KEYSWEEP_ENGINE"


def _resolve(ctx: RunnerContext, value: str) -> Path:
    """A path input: absolute as given, else relative to the workspace (not to the cwd)."""
    p = Path(value)
    return p if p.is_absolute() else ctx.workspace / p


def sarif_path(ctx: RunnerContext, inputs: ActionInputs) -> Path:
    """Where the SARIF file goes: inside the workspace, where later steps read it, with every
    symlink on the way followed (a checked-out symlink must not carry the write elsewhere);
    UsageError (exit 2) for anywhere else."""
    path = _resolve(ctx, inputs.sarif_file)
    try:
        real, root = path.resolve(), ctx.workspace.resolve()
    except (OSError, RuntimeError) as e:
        raise UsageError(f"input `sarif-file` {shown(inputs.sarif_file)} cannot be resolved: {e}") from None
    if real == root or not real.is_relative_to(root):
        raise UsageError(
            f"input `sarif-file` must name a file inside the workspace, not {shown(inputs.sarif_file)}"
            + (f" (it leads to {shown(str(real))})" if real != path else "")
        )
    return real


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


def _engine(env: Mapping[str, str]) -> str:
    value = env.get(ENGINE_ENV, "auto")
    if value not in ("auto", "hyperscan", "python"):
        raise UsageError(f"{ENGINE_ENV} must be auto, hyperscan or python, not {shown(value)}")
    return value


@dataclass(frozen=True, slots=True)
class _Run:
    """The scans of one run: the one that decides the exit code and the one written as SARIF."""

    plan: Plan
    gate: Report | None
    sarif: Report
    fail_on: Severity | None  # the input's, else the trusted config's, else high


def _scan_inputs(
    inputs: ActionInputs,
    target: Path,
    head: str | None,
    the_plan: Plan | None,
    rules: tuple[Rule, ...],
    log: TextIO,
    opened: Target | None = None,
) -> ScanInputs:
    """The config and baseline the scan trusts: read from the plan's trusted commit (the base of a
    pull request, `before` of a push, else the default branch's tip), never from the change under
    scan, which could otherwise allowlist its own key; none (the built-in defaults) when there is
    no trusted commit. The log says which, and names a change that edits either file."""
    from scanner.suppress.inputs import load_local, resolve
    from scanner.suppress.trusted import read_trusted

    fail_on = (inputs.fail_on.value if inputs.fail_on else "none") if inputs.fail_on_given else None
    if the_plan is None:  # a plain directory: its own files are all there is
        baseline = _resolve_input_path(target, inputs.baseline)
        config = _resolve_input_path(target, inputs.config)
        settings, base, source = load_local(
            target, rules, config if config and config.is_file() else None, baseline
        )
        _say(log, "config and baseline: the directory's own files (no git repository, no commit to trust)")
        return resolve(rules, settings, base, source, fail_on)
    if the_plan.trusted is None:
        _say(log, f"config and baseline: built-in defaults ({the_plan.trust})")
        return resolve(rules, None, None, None, fail_on)
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
    return resolve(rules, got.settings, got.baseline, source, fail_on)


def _resolve_input_path(target: Path, value: str | None) -> Path | None:
    if value is None:
        return None
    p = Path(value)
    return p if p.is_absolute() else (target if target.is_dir() else target.parent) / p


def _scan(
    inputs: ActionInputs, ctx: RunnerContext, env: Mapping[str, str], rules: tuple[Rule, ...], log: TextIO
) -> _Run:
    from scanner.matcher_cache import load_matcher
    from scanner.pipeline import scan

    target = _resolve(ctx, inputs.path)
    if not _exists(target, "path"):
        raise ScanError(f"input `path` {shown(str(target))} does not exist; did a checkout step run?")
    cache = _resolve(ctx, inputs.cache_dir) if inputs.cache_dir else None
    bundles = tuple(_resolve(ctx, d) for d in inputs.bundles)
    for d in bundles:
        if not _is_dir(d, "bundles"):
            raise UsageError(f"input `bundles`: {shown(str(d))} is not a directory; did the build step run?")
    config = ScanConfig(
        target=target, engine=_engine(env), fail_on=inputs.fail_on, cache=cache, bundles=bundles
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
    _say(log, the_plan.reason)
    for note in the_plan.notes:
        _say(log, f"note: {note}")
    rules = si.rules
    config = replace(config, fail_on=si.fail_on, policy=si.policy, fingerprint_key=si.fingerprint_key)
    matcher = load_matcher(rules, config.engine)
    gate_report: Report | None = None
    tree = replace(config, mode=ScanMode.TREE)
    match the_plan.scope:
        case Scope.RANGE:
            gate_report = scan(
                replace(config, mode=ScanMode.RANGE, range_expr=the_plan.range_expr),
                rules,
                matcher,
                target=opened,
            )
            _say(
                log,
                f"range: {gate_report.stats.commits} commit{'s' if gate_report.stats.commits != 1 else ''}",
            )
            sarif = scan(tree, rules, matcher, target=opened)
        case Scope.SWEEP:
            _cache_found(ctx, cache, log)
            gate_report = sarif = scan(replace(config, mode=ScanMode.HISTORY), rules, matcher, target=opened)
            _cache_used(ctx, cache, log)
        case Scope.TREE:
            gate_report = sarif = scan(tree, rules, matcher, target=opened)
        case Scope.NOTHING:
            sarif = scan(tree, rules, matcher, target=opened)
    return _Run(the_plan, gate_report, sarif, si.fail_on)


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
    from scanner.cache import USES

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


def _describe(e: BaseException) -> str:
    """Type and innermost frame only: an exception's message could quote scanned data."""
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"internal error ({type(e).__name__}){where}"


def _summary(report: Report) -> str:
    counts = severity_counts(report)
    total = len(report.findings)
    by = ", ".join(f"{counts[s]} {s.value}" for s in reversed(Severity))
    return f"{total} finding{'s' if total != 1 else ''} ({by})"


def run_action(env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    """Run the action; returns the exit code (2 > 3 > 1 > 0), having written outputs and SARIF."""
    from scanner.output.console import render_console
    from scanner.rules import load_rules

    inputs: ActionInputs | None = None
    ctx = read_context(env)
    rules: tuple[Rule, ...] = ()
    run: _Run | None = None
    try:
        given = read_inputs(env)
        sarif_path(ctx, given)  # refused before anything is written there
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
        return _finish_failed(inputs, ctx, rules, None, str(e), EXIT_USAGE, out, err)
    except KeysweepError as e:
        print(f"keysweep: scan failed: {one_line(str(e))}", file=err)
        return _finish_failed(inputs, ctx, rules, run, str(e), EXIT_FAILED, out, err)
    except Exception as e:  # noqa: BLE001 - a crash is exit 3 and a failed report, never 1
        print(f"keysweep: scan failed: {_describe(e)}", file=err)
        return _finish_failed(inputs, ctx, rules, run, _describe(e), EXIT_FAILED, out, err)

    assert inputs is not None
    code, gate_report = (EXIT_OK, None) if run.gate is None else gate(run.gate, run.fail_on, inputs.strict)
    if gate_report is not None:
        out.write(render_console(gate_report, color=False))
    if gate_report is not None and run.sarif is run.gate:
        sarif = gate_report
    else:
        sarif_code, sarif = gate(run.sarif, None, inputs.strict)
        if code == EXIT_FAILED and gate_report is not None and sarif.status != "failed":
            sarif = failed_report(rules, sarif.scan, f"the range scan failed: {gate_report.error}")
        code = EXIT_FAILED if sarif_code == EXIT_FAILED else code
        _say(out, f"tree of the checked-out commit: {_summary(run.sarif)}")
    # a file that cannot be written is exit 2, but loses nothing else: the annotations, the
    # summary and the verdict still follow
    unwritten: list[str] = []
    written: SarifFile | None = None
    target = sarif_path(ctx, inputs)
    shown_at = shown_path(ctx, _resolve(ctx, inputs.sarif_file))
    try:
        written = write_sarif(target, sarif)
        _say(out, f"SARIF ({category(sarif)}, status {sarif.status}) written to {escape_text(shown_at)}")
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
    annotated = _annotate(run, gate_report, sarif, out)
    failure = next((r.error for r in (gate_report, sarif) if r is not None and r.status == "failed"), None)
    if code == EXIT_FAILED:
        failure_annotation(out, failure or "unknown error")
    for message in unwritten:
        print(f"keysweep: error: {one_line(message)}", file=err)
        failure_annotation(out, message, "keysweep: an output could not be written")
    write_summary(
        ctx,
        gate_report if gate_report is not None else sarif,
        summary_context(
            ctx,
            run.fail_on,
            run.plan,
            EXIT_USAGE if unwritten else code,
            sarif if sarif is not gate_report else None,
            (sarif, written, shown_at) if written is not None else None,
            annotated,
        ),
        err,
    )
    verdict = _verdict(code, run.plan, failure, inputs)
    if unwritten:
        _say(out, f"exit 2: {one_line(unwritten[0])}; the scan itself: {verdict}")
        return EXIT_USAGE
    _say(out, verdict)
    return code


def _annotate(run: _Run, gate_report: Report | None, tree: Report, out: TextIO) -> int | None:
    """Annotations for a range's findings (on the files it changed); how many were written."""
    if run.plan.scope is not Scope.RANGE or gate_report is None or gate_report.status == "failed":
        return None
    from scanner.output.github import range_annotations, render_annotations

    notes = range_annotations(gate_report, tree if tree.status != "failed" else None)
    out.write(render_annotations(notes))
    out.flush()
    return notes.annotated


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
    run: _Run | None,
    message: str,
    code: int,
    out: TextIO,
    err: TextIO,
) -> int:
    """A run that could not scan: a failed SARIF (so no upload marks alerts fixed), outputs, an
    error annotation and a summary that say why."""
    try:
        failure_annotation(out, message)
    except Exception as e:  # noqa: BLE001 - reporting the failure must not turn it into another
        print(f"keysweep: could not annotate the failure: {_describe(e)}", file=err)
    if inputs is None:  # the inputs themselves are bad: there is no SARIF path to trust
        if ctx.output is not None:
            try:
                write_outputs(ctx.output, {"status": "failed"})
            except UsageError as e:
                print(f"keysweep: error: {one_line(str(e))}", file=err)
        return code
    try:
        if not rules:
            from scanner.rules import load_rules

            rules = load_rules()
        mode = run.plan.sarif_mode if run is not None else sarif_mode_for(inputs.mode, ctx.event_name)
        scan = ScanInfo(mode=mode, target=str(_resolve(ctx, inputs.path)))
        failed = failed_report(rules, scan, message)
        written = write_sarif(sarif_path(ctx, inputs), failed)
        the_plan = run.plan if run is not None else None
        shown_at = shown_path(ctx, _resolve(ctx, inputs.sarif_file))
        write_summary(
            ctx,
            failed,
            summary_context(ctx, inputs.fail_on, the_plan, code, None, (failed, written, shown_at)),
            err,
        )
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
        print(f"keysweep: could not write the failed report: {_describe(e)}", file=err)
    return code


def report_failed(env: Mapping[str, str], message: str, out: TextIO, err: TextIO) -> None:
    """The failed SARIF, outputs, annotation and summary of a run whose scanning process died
    (the watchdog's parent calls this: a stall, the out-of-memory killer)."""
    ctx = read_context(env)
    try:
        inputs: ActionInputs | None = read_inputs(env)
    except KeysweepError:
        inputs = None
    _finish_failed(inputs, ctx, (), None, message, EXIT_FAILED, out, err)


def main() -> int:
    """`python -m scanner.action`, for debugging outside the CLI."""
    return run_action(os.environ, sys.stdout, sys.stderr)
