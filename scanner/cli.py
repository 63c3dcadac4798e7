"""Command line: the only module that reads argv and the environment and writes output files.

Exit codes, by precedence 2 > 3 > 1 > 0: 2 usage/config/rules, 3 the scan could not run (a
crash included: `main` catches everything), 1 findings at or above --fail-on, 0 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scanner import __version__
from scanner.config import Mode, ScanConfig
from scanner.errors import KeysweepError, ScanError, UsageError
from scanner.model import Report, Rule, ScanInfo, Severity, Stats
from scanner.outcome import EXIT_FAILED, EXIT_OK, EXIT_USAGE, gate
from scanner.rules import load_rules, ruleset_hash
from scanner.target import open_target

if TYPE_CHECKING:
    from scanner.suppress.inputs import ScanInputs

ENGINE_ENV = "KEYSWEEP_ENGINE"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="keysweep", description="Find leaked API keys in git history, bundles and files.")
    p.add_argument("--version", action="version", version=f"keysweep {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("scan", help="scan a repository or a directory")
    s.add_argument("path", nargs="?", default=".", help="repository or directory (default: .)")
    s.add_argument("--sarif", metavar="F", help="write SARIF 2.1.0 to F ('-' for stdout)")
    s.add_argument("--json", metavar="F", dest="json_out", help="write the JSON report to F ('-' for stdout)")
    s.add_argument(
        "--summary",
        metavar="F",
        help="write the Markdown summary (the Action's job summary) to F ('-' for stdout)",
    )
    s.add_argument(
        "--state",
        metavar="F",
        type=Path,
        help="also save the finished scan to F (no secrets) for `keysweep report` (docs/state.md)",
    )
    s.add_argument(
        "--fail-on",
        choices=["none", "low", "medium", "high", "critical"],
        default=None,
        help="exit 1 when a finding (confidence ≥ medium) is at or above this severity "
        "(default: the config's fail-on, else high)",
    )
    _suppress_args(s)
    s.add_argument(
        "--baseline",
        metavar="F",
        type=Path,
        help="acknowledged findings (`keysweep baseline create`): kept in the reports, not counted",
    )
    s.add_argument(
        "--no-suppress",
        action="store_true",
        help="ignore pragmas, allowlists, disabled rules and the baseline: show and count everything",
    )
    s.add_argument(
        "--jobs", type=int, default=0, metavar="N", help="worker processes (default: one per core)"
    )
    s.add_argument(
        "--cache",
        metavar="DIR",
        type=Path,
        help="keep what a full sweep learnt in DIR (no secrets) and sweep only what changed next time; trusted input",
    )
    s.add_argument(
        "--strict",
        action="store_true",
        help="exit 3 when anything went unread (an incomplete scan), and write the reports as failed"
        " (range and staged scans always do)",
    )
    s.add_argument(
        "--bundles",
        metavar="DIR",
        action="append",
        type=Path,
        default=[],
        help="build output to read as client bundles (repeatable; need not be tracked; read by --range too)",
    )
    modes = s.add_mutually_exclusive_group()
    modes.add_argument(
        "--no-history", action="store_true", help="in a repository: HEAD's tree and the working tree only"
    )
    modes.add_argument(
        "--range",
        metavar="EXPR",
        dest="range_expr",
        help="only what the commits of EXPR (A..B, B ^REF) introduce",
    )
    modes.add_argument(
        "--staged", action="store_true", help="only what the index adds over HEAD (pre-commit)"
    )
    _report_parser(sub)
    sub.add_parser("action", help="GitHub Actions entry: reads the INPUT_* variables and the event payload")
    b = sub.add_parser("baseline", help="write or refresh a baseline of the current findings")
    bsub = b.add_subparsers(dest="baseline_command", required=True, parser_class=_Parser)
    for name, text in (
        ("create", "a new baseline of every finding of a full scan"),
        ("update", "add new findings and refresh changed entries; everything else stays byte for byte"),
    ):
        c = bsub.add_parser(name, help=text)
        c.add_argument("path", nargs="?", default=".", help="repository or directory (default: .)")
        c.add_argument("--output", metavar="F", type=Path, required=True, help="the baseline file")
        c.add_argument("--reason", metavar="TEXT", help="the reason recorded on new entries")
        _suppress_args(c)
        c.add_argument("--jobs", type=int, default=0, metavar="N", help="worker processes")
        if name == "update":
            c.add_argument("--prune", action="store_true", help="drop stale entries (their secret is gone)")
    r = sub.add_parser("rules", help="print the rule table")
    r.add_argument("--json", action="store_true", help="as JSON")
    r.add_argument("--markdown", action="store_true", help="as a Markdown table (the README's)")
    r.add_argument(
        "--check",
        metavar="FILE",
        type=Path,
        help="validate a rules file (YAML, or a .keysweep.toml's [[rules]]) and test its examples",
    )
    return p


def _report_parser(sub: argparse._SubParsersAction[_Parser]) -> None:
    """`keysweep report STATE`: the reports of a saved scan, again (docs/state.md)."""
    r = sub.add_parser("report", help="render the reports of a scan saved with `scan --state F`")
    r.add_argument("state", metavar="STATE", type=Path, help="the state file `scan --state` wrote")
    r.add_argument("--sarif", metavar="F", help="write SARIF 2.1.0 to F ('-' for stdout)")
    r.add_argument("--json", metavar="F", dest="json_out", help="write the JSON report to F ('-' for stdout)")
    r.add_argument("--summary", metavar="F", help="write the Markdown summary to F ('-' for stdout)")
    r.add_argument(
        "--console", action="store_true", help="print the console report (the default when no file is named)"
    )
    r.add_argument(
        "--config", metavar="F", type=Path, help="the config file the scan ran with, if it added rules"
    )
    r.set_defaults(cache=None)


def _suppress_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config",
        metavar="F",
        type=Path,
        help="the configuration file (default: .keysweep.toml at the repository root)",
    )


def _engine() -> str:
    value = os.environ.get(ENGINE_ENV, "auto")
    if value not in ("auto", "hyperscan", "python"):
        raise UsageError(f"{ENGINE_ENV} must be auto, hyperscan or python, not {value!r}")
    return value


def _write(dest: str, text: str) -> None:
    if dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(dest).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {dest}: {e.strerror}") from None


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse output options that would lose a report or write two documents into one stream."""
    outs = [(flag, dest) for flag, dest in _outputs(args) if dest]
    if sum(1 for _, d in outs if d == "-") > 1:
        raise UsageError("only one of --sarif, --json and --summary can write to stdout ('-')")
    files = [Path(d).resolve() for _, d in outs if d != "-"]
    if len(files) != len(set(files)):
        raise UsageError("--sarif, --json and --summary must name different files")
    if args.cache is not None and args.cache.exists() and not args.cache.is_dir():
        raise UsageError(f"--cache must name a directory: {args.cache} is not one")


def _outputs(args: argparse.Namespace) -> tuple[tuple[str, str | None], ...]:
    return (("--sarif", args.sarif), ("--json", args.json_out), ("--summary", args.summary))


def _color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def _emit(report: Report, args: argparse.Namespace, code: int, fail_on: Severity | None) -> None:
    from scanner.output.console import render_console

    _write_reports(report, args, code, fail_on)
    stream = sys.stderr if "-" in (args.sarif, args.json_out, args.summary) else sys.stdout
    stream.write(render_console(report, color=_color(stream)))
    stream.flush()


def _write_reports(report: Report, args: argparse.Namespace, code: int, fail_on: Severity | None) -> None:
    from scanner.output.json import render_json
    from scanner.output.sarif import render_sarif
    from scanner.output.summary import SummaryContext, render_summary

    if args.sarif:
        _write(args.sarif, render_sarif(report))
    if args.json_out:
        _write(args.json_out, render_json(report))
    if args.summary:
        _write(args.summary, render_summary(report, SummaryContext(fail_on=fail_on, exit_code=code)))


class _Progress:
    """Progress of long sweeps on stderr: one redrawn line on a TTY, a plain line every 10 s
    otherwise; nothing at all for sweeps that finish within 2 s."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.t0 = time.monotonic()
        self.phase = ""
        self.phase_t0 = self.t0
        self.last = 0.0
        self.drawn = False

    def update(self, phase: str, done: int, total: int, nbytes: int) -> None:
        now = time.monotonic()
        if phase != self.phase:
            self.phase, self.phase_t0 = phase, now
        if now - self.t0 < 2.0 or now - self.last < (0.25 if self.tty else 10.0):
            return
        self.last = now
        took = max(now - self.phase_t0, 1e-6)
        rate = done / took
        eta = f"{(total - done) / rate:.0f}s" if rate > 0 else "?"
        mb = nbytes / 1e6
        text = (
            f"keysweep: {phase} {done}/{total} ({100 * done // max(total, 1)}%), "
            f"{mb:.0f} MB at {mb / took:.0f} MB/s, {rate:.0f} objects/s, ETA {eta}"
        )
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.drawn = True
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.drawn = False


def _bundle_dirs(dirs: list[Path], mode: Mode) -> tuple[Path, ...]:
    if dirs and mode is Mode.STAGED:
        raise UsageError("--bundles cannot be combined with --staged, which reads only the index")
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"--bundles must name a directory: {d} is not one")
    return tuple(dirs)


def _cmd_scan(args: argparse.Namespace) -> int:
    from scanner.matcher_cache import load_matcher
    from scanner.pipeline import scan

    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (one per core) or more")
    _check_outputs(args)
    builtin = load_rules()
    target = open_target(Path(args.path))  # the run's repository, opened once (scanner/target.py)
    inputs = _inputs(
        args, builtin, args.baseline, args.fail_on, suppress=not args.no_suppress, root=target.root
    )
    rules = inputs.rules
    mode = _mode(args)
    group = _group_key(inputs.fingerprint_key)
    config = ScanConfig(
        target=Path(args.path),
        mode=mode,
        range_expr=args.range_expr,
        jobs=args.jobs,
        engine=_engine(),
        fail_on=inputs.fail_on,
        cache=args.cache,
        strict=args.strict,
        fingerprint_key=inputs.fingerprint_key,
        group_key=group,
        policy=inputs.policy,
        bundles=_bundle_dirs(args.bundles, mode),
    )
    _check_state(args)
    started = _now()
    try:
        matcher = load_matcher(rules, config.engine)
        report = scan(config, rules, matcher, _Progress(sys.stderr), target)
    except ScanError as e:
        _failed(args, rules, config, str(e), started)
        raise
    except KeysweepError:
        raise
    except Exception as e:  # noqa: BLE001 - a crash is exit 3 and a failed report
        _failed(args, rules, config, _describe(e), started)
        raise _Crash(_describe(e)) from None
    if config.cache is not None:
        from scanner.cache import USES

        for use in (u for u in USES.values() if u.ignored):
            _say(f"history cache ignored: {use.found}; {use.reused}")
    code, report = gate(report, config.fail_on, config.strict)
    _emit(report, args, code, config.fail_on)
    _save_state(args, report, code, config, builtin, started)
    if code == EXIT_FAILED:
        _say(f"scan failed: {report.error}")
    return code


def _mode(args: argparse.Namespace) -> Mode:
    if args.range_expr is not None:
        return Mode.RANGE
    return Mode.STAGED if args.staged else Mode.TREE if args.no_history else Mode.HISTORY


def _inputs(
    args: argparse.Namespace,
    builtin: tuple[Rule, ...],
    baseline: Path | None,
    fail_on: str | None,
    suppress: bool,
    root: Path | None = None,
) -> ScanInputs:
    from scanner.suppress.inputs import load_local, resolve

    scanning = args.command == "scan"
    settings, base, source = load_local(Path(args.path), builtin, args.config, baseline, scanning, root)
    return resolve(builtin, settings, base, source, fail_on, suppress)


def _cmd_baseline(args: argparse.Namespace) -> int:
    """`baseline create|update`: a full scan with the config applied, its findings written as a
    baseline; an update that changes nothing leaves the file untouched."""
    from scanner.matcher_cache import load_matcher
    from scanner.pipeline import scan
    from scanner.suppress.apply import live_map
    from scanner.suppress.baseline import create_baseline, parse_baseline, render_baseline, update_baseline

    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (one per core) or more")
    out: Path = args.output
    creating = args.baseline_command == "create"
    if creating and out.exists():
        raise UsageError(f"{out} exists; `keysweep baseline update` refreshes it")
    old_text = None
    if not creating:
        try:
            old_text = out.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read the baseline {out}: {getattr(e, 'strerror', None) or e}") from None
    builtin = load_rules()
    target = open_target(Path(args.path))
    inputs = _inputs(args, builtin, None, "none", suppress=True, root=target.root)
    policy = dataclasses.replace(inputs.policy, baseline=None)
    config = ScanConfig(
        target=Path(args.path),
        jobs=args.jobs,
        engine=_engine(),
        fingerprint_key=inputs.fingerprint_key,
        policy=policy,
    )
    matcher = load_matcher(inputs.rules, config.engine)
    report = scan(config, inputs.rules, matcher, _Progress(sys.stderr), target)
    if report.status != "ok":
        raise ScanError(f"the scan of {args.path} is {report.status}; a baseline needs a complete scan")
    live = live_map(report)
    mode = report.scan.mode
    if creating:
        baseline = create_baseline(report.findings, mode, live, inputs.fingerprint_key, args.reason)
        _write(str(out), render_baseline(baseline))
        print(f"keysweep: {out}: {len(baseline.entries)} entries", file=sys.stderr)
        return EXIT_OK
    assert old_text is not None
    old = parse_baseline(old_text, str(out))
    from scanner.suppress.baseline import key_id

    if old.key_id != key_id(inputs.fingerprint_key):
        raise UsageError(f"{out}: made with another fingerprint key; recreate it with `baseline create`")
    result = update_baseline(old, report.findings, mode, live, args.reason, args.prune)
    text = render_baseline(result.baseline)
    if text != old_text:
        _write(str(out), text)
    stale = "dropped" if result.pruned else "kept (--prune drops them)"
    print(
        f"keysweep: {out}: {len(result.added)} added, {len(result.refreshed)} refreshed, "
        f"{len(result.stale)} stale {stale}" + ("" if text != old_text else "; unchanged, not rewritten"),
        file=sys.stderr,
    )
    for entry in result.stale:
        print(f"keysweep: stale: {entry.rule_id} {entry.fingerprint[:12]} (no longer found)", file=sys.stderr)
    return EXIT_OK


class _Crash(Exception):
    """An unexpected error, already reported in the outputs."""


def _failed(
    args: argparse.Namespace,
    rules: tuple[Rule, ...],
    config: ScanConfig,
    message: str,
    started: datetime | None = None,
) -> None:
    """Reports that say the run failed, so an upload never marks real alerts fixed."""
    if not (args.sarif or args.json_out or args.summary or getattr(args, "state", None)):
        return
    report = Report(
        status="failed",
        scan=ScanInfo(mode=config.mode.value, target=str(config.target)),
        stats=Stats(seconds=0.0, complete=False),
        findings=(),
        ruleset=ruleset_hash(rules),
        rules=rules,
        error=message,
    )
    with contextlib.suppress(KeysweepError):  # the failure itself is what gets reported
        _write_reports(report, args, EXIT_FAILED, config.fail_on)
        _save_state(args, report, EXIT_FAILED, config, load_rules(), started or _now())


def _describe(e: BaseException) -> str:
    """Type and innermost frame only: an exception's message could quote scanned data."""
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"internal error ({type(e).__name__}){where}"


def _group_key(config_key: bytes) -> bytes | None:
    """The key that groups weak secrets across runs (docs/state.md): KEYSWEEP_FINGERPRINT_KEY (a
    CI secret), else the config's `fingerprint-key`, else None (a per-run key)."""
    from scanner.findings import resolve_group_key

    return resolve_group_key(os.environ.get("KEYSWEEP_FINGERPRINT_KEY"), config_key)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _check_state(args: argparse.Namespace) -> None:
    reports = {Path(d).resolve() for _, d in _outputs(args) if d and d != "-"}
    if args.state is not None and (str(args.state) == "-" or args.state.resolve() in reports):
        raise UsageError("--state must name a file of its own (not '-', not one of the reports)")


def _save_state(
    args: argparse.Namespace,
    report: Report,
    code: int,
    config: ScanConfig,
    builtin: tuple[Rule, ...],
    started: datetime,
) -> None:
    """`--state F`: the finished scan, for `keysweep report` (scanner/state/)."""
    if getattr(args, "state", None) is None:
        return
    from scanner.findings import weak_key_id
    from scanner.state import RunSettings, SavedState, WeakGroups, render_state
    from scanner.suppress.baseline import key_id

    known = {r.id for r in builtin}
    settings = RunSettings(
        fail_on=config.fail_on,
        exit_code=code,
        strict=config.strict,
        fingerprint_key_id=key_id(config.fingerprint_key),
        config_rules=tuple(sorted(r.id for r in report.rules if r.id not in known)),
    )
    weak = WeakGroups(weak_key_id(config.group_key) if config.group_key is not None else None)
    state = SavedState(__version__, started, settings, weak, report)
    _write(str(args.state), render_state(state))


def _cmd_report(args: argparse.Namespace) -> int:
    """`report STATE`: the saved scan's reports, written by the scan's own writer (identical files)."""
    from scanner.state import read_state

    _check_outputs(args)
    try:
        data = args.state.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the state {args.state}: {e.strerror}") from None
    rules = load_rules()
    if args.config is not None:  # the rules the config adds (its policy was applied by the scan)
        from scanner.suppress.inputs import resolve
        from scanner.suppress.settings import load_config

        rules = resolve(rules, load_config(args.config, rules), None, None, "none").rules
    saved = read_state(data, str(args.state), __version__, ruleset_hash(rules))
    report, settings = saved.with_rules(rules), saved.settings
    if args.console or not (args.sarif or args.json_out or args.summary):
        _emit(report, args, settings.exit_code, settings.fail_on)
    else:
        _write_reports(report, args, settings.exit_code, settings.fail_on)
    return settings.exit_code


def _cmd_rules(args: argparse.Namespace) -> int:
    from scanner.output import ruletable

    rules = load_rules()
    if args.check is not None:
        from scanner.rulecheck import check_rules, load_checked

        extra = load_checked(args.check, rules)
        result = check_rules(extra, rules, _engine(), args.check.name)
        print(
            f"{args.check}: {result.rules} rules valid; {result.examples} examples found by their rule, "
            f"{result.negatives} negative examples not found"
        )
        return EXIT_OK
    if args.json:
        sys.stdout.write(ruletable.render_json(rules))
    elif args.markdown:
        sys.stdout.write(ruletable.render_markdown(rules))
    else:
        sys.stdout.write(ruletable.render_text(rules))
    return EXIT_OK


def entry() -> int:
    """The `keysweep` command: `main` under the stall watchdog (scanner/watchdog.py)."""
    from scanner import watchdog
    from scanner.output.escape import escape_text

    return watchdog.supervise(main, escape_text, _killed)


def _killed(message: str) -> None:
    """In the watchdog's parent, when the scanning child stalled or died of a signal (the
    out-of-memory killer): the failed reports the child could not write."""
    args = _parser().parse_args()
    if args.command == "action":
        from scanner.action import report_failed

        report_failed(os.environ, message, sys.stdout, sys.stderr)
        return
    if args.command != "scan":
        return
    mode = _mode(args)
    fail_on: Severity | None = None
    with contextlib.suppress(Exception):  # the config decides fail-on; an unreadable one is not this failure
        fail_on = _inputs(args, load_rules(), args.baseline, args.fail_on, suppress=False).fail_on
    _failed(args, load_rules(), ScanConfig(target=Path(args.path), mode=mode, fail_on=fail_on), message)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keysweep` command; returns the exit code."""
    args: argparse.Namespace | None = None
    try:
        args = _parser().parse_args(argv)
        if args.command == "scan":
            return _cmd_scan(args)
        if args.command == "action":
            from scanner.action import run_action

            return run_action(os.environ, sys.stdout, sys.stderr)
        if args.command == "baseline":
            return _cmd_baseline(args)
        if args.command == "report":
            return _cmd_report(args)
        return _cmd_rules(args)
    except SystemExit as e:  # --help / --version
        return int(e.code or 0) if isinstance(e.code, int) else EXIT_OK
    except UsageError as e:
        _say(f"error: {e}")
        return EXIT_USAGE
    except (ScanError, _Crash) as e:
        _say(f"scan failed: {e}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("keysweep: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:  # noqa: BLE001 - main catches everything: a crash is 3, never 1
        _say(f"scan failed: {_describe(e)}")
        return EXIT_FAILED


def _say(message: str) -> None:
    """Every message of the command goes out here, escaped: a path given on the command line or
    read from a repository can hold ESC, BEL or a line starting with `::` (a workflow command)."""
    from scanner.output.escape import escape_text

    print("keysweep: " + "\n  ".join(escape_text(line) for line in message.split("\n")), file=sys.stderr)
