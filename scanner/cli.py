"""Command line: the only module that reads argv and the environment and writes output files.

What is the CLI's own: argv (into a `config.Request`), the config file and baseline on disk
(`suppress.inputs.load_local`), the files and streams it writes, and the exit code (the codes and
their precedence are defined once, in `scanner/errors.py`; `main` catches everything, so a crash
is 3, never 1). The config is resolved once (`config.resolve_config`, shared with the Action);
the reports are rendered through the format registry (`output/formats.py`) and written by
`write_outputs`, which `keysweep report` reuses.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from scanner import __version__
from scanner.config import Mode, Request, ScanConfig, engine, resolve_config
from scanner.defaults import ENGINE_ENV, GROUP_KEY_ENV
from scanner.errors import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    InternalError,
    KeysweepError,
    ScanError,
    UsageError,
    describe,
)
from scanner.model import Report, Rule, ScanInfo
from scanner.outcome import failed_report, gate
from scanner.output.context import RenderContext
from scanner.output.formats import FILE_FORMATS
from scanner.progress import TermProgress
from scanner.rules import load_rules, ruleset_hash
from scanner.target import open_target

if TYPE_CHECKING:
    from scanner.suppress.inputs import ConfigFiles
    from scanner.verify import VerifySettings


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="keysweep", description="Find leaked API keys in git history, bundles and files.")
    p.add_argument("--version", action="version", version=f"keysweep {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    s = sub.add_parser("scan", help="scan a repository or a directory")
    s.add_argument("path", nargs="?", default=".", help="repository or directory (default: .)")
    add_output_flags(s)
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
    s.add_argument(
        "--verify",
        action="store_true",
        help="ask each provider once per distinct secret, read-only and free, whether the key works now",
    )
    s.add_argument(
        "--verify-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="with --verify: the whole check's time limit; what is left then is unknown (default: 30)",
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
    add_output_flags(r)
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


def add_output_flags(p: argparse.ArgumentParser) -> None:
    """The output options, one per file format of the registry (`--sarif F`, `--json F`, …)."""
    for fmt in FILE_FORMATS:
        assert fmt.flag is not None
        p.add_argument(fmt.flag, metavar="F", dest=_dest(fmt.name), help=fmt.help)


def _dest(name: str) -> str:
    return f"output_{name}"


def requested_outputs(args: argparse.Namespace) -> dict[str, str]:
    """The file formats the options ask for: format name → destination ('-': stdout)."""
    return {f.name: dest for f in FILE_FORMATS if (dest := getattr(args, _dest(f.name), None))}


def check_outputs(outputs: dict[str, str]) -> None:
    """Refuse outputs that would lose a report or write two documents into one stream."""
    flags = [f.flag or f.name for f in FILE_FORMATS]
    named = f"{', '.join(flags[:-1])} and {flags[-1]}"
    if sum(1 for d in outputs.values() if d == "-") > 1:
        raise UsageError(f"only one of {named} can write to stdout ('-')")
    files = [Path(d).resolve() for d in outputs.values() if d != "-"]
    if len(files) != len(set(files)):
        raise UsageError(f"{named} must name different files")


def write_outputs(report: Report, outputs: dict[str, str], context: RenderContext) -> None:
    """Every requested file format of `report`, rendered through the registry, in the registry's
    order (`keysweep scan` and `keysweep report` both write through here)."""
    from scanner.output.formats import render

    for fmt in FILE_FORMATS:
        dest = outputs.get(fmt.name)
        if dest:
            _write(dest, render(fmt.name, report, context))


def _write(dest: str, text: str) -> None:
    if dest == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        Path(dest).write_text(text, encoding="utf-8")
    except OSError as e:
        raise UsageError(f"cannot write {dest}: {e.strerror}") from None


def _color(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def emit(report: Report, outputs: dict[str, str], context: RenderContext) -> None:
    """The requested files, then the console report (on stderr when a file went to stdout)."""
    from scanner.output.formats import render

    write_outputs(report, outputs, context)
    stream = sys.stderr if "-" in outputs.values() else sys.stdout
    stream.write(render("console", report, replace(context, color=_color(stream))))
    stream.flush()


def _bundle_dirs(dirs: list[Path], mode: Mode) -> tuple[Path, ...]:
    if dirs and mode is Mode.STAGED:
        raise UsageError("--bundles cannot be combined with --staged, which reads only the index")
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"--bundles must name a directory: {d} is not one")
    return tuple(dirs)


def _cmd_scan(args: argparse.Namespace) -> int:
    from scanner.pipeline import scan
    from scanner.rules.matcher_cache import load_matcher

    if args.jobs < 0:
        raise UsageError("--jobs must be 0 (one per core) or more")
    outputs = requested_outputs(args)
    check_outputs(outputs)
    if args.cache is not None and args.cache.exists() and not args.cache.is_dir():
        raise UsageError(f"--cache must name a directory: {args.cache} is not one")
    builtin = load_rules()
    target = open_target(Path(args.path))  # the run's repository, opened once (scanner/target.py)
    files = _files(args, builtin, args.baseline, target.root)
    mode = _mode(args)
    config = resolve_config(
        Request(
            target=Path(args.path),
            mode=mode,
            range_expr=args.range_expr,
            jobs=args.jobs,
            engine=engine(os.environ.get(ENGINE_ENV)),
            fail_on=args.fail_on,
            cache=args.cache,
            strict=args.strict,
            bundles=_bundle_dirs(args.bundles, mode),
            suppress=not args.no_suppress,
            group_secret=os.environ.get(GROUP_KEY_ENV),
            verify=_verify_settings(args),
        ),
        builtin,
        files,
    )
    _check_state(args, outputs)
    started = _now()
    config = replace(config, started=config.started or started)  # the ages and the state: one time
    try:
        matcher = load_matcher(config.rules, config.engine)
        report = scan(config, config.rules, matcher, TermProgress(sys.stderr), target)
    except ScanError as e:
        _failed(outputs, config.rules, config, str(e), args.state, started, builtin)
        raise
    except KeysweepError:
        raise
    except Exception as e:  # noqa: BLE001 - a crash is exit 3 and a failed report
        _failed(outputs, config.rules, config, describe(e), args.state, started, builtin)
        raise InternalError(describe(e)) from None
    if config.cache is not None:
        from scanner.sources.history.cache import USES

        for use in (u for u in USES.values() if u.ignored):
            _say(f"history cache ignored: {use.found}; {use.reused}")
    code, report = gate(report, config.fail_on, config.strict)
    emit(report, outputs, RenderContext(fail_on=config.fail_on, exit_code=code))
    _save_state(args.state, report, code, config, builtin, started)
    if code == EXIT_FAILED:
        _say(f"scan failed: {report.error}")
    return code


def _verify_settings(args: argparse.Namespace) -> VerifySettings | None:
    """`--verify`: the network settings of this environment (proxy, CA bundle), read here."""
    budget: float | None = args.verify_budget
    if budget is not None and not (0 < budget <= 3600):
        raise UsageError("--verify-budget must be more than 0 and at most 3600 seconds")
    if not args.verify:
        if budget is not None:
            raise UsageError("--verify-budget needs --verify")
        return None
    from scanner.verify import VerifySettings

    return VerifySettings.from_env(os.environ, **({} if budget is None else {"budget": budget}))


def _mode(args: argparse.Namespace) -> Mode:
    if args.range_expr is not None:
        return Mode.RANGE
    return Mode.STAGED if args.staged else Mode.TREE if args.no_history else Mode.HISTORY


def _files(
    args: argparse.Namespace, builtin: tuple[Rule, ...], baseline: Path | None, root: Path | None = None
) -> ConfigFiles:
    """The config file and baseline on disk (`--config`, else `.keysweep.toml` at the root — the
    run target's, `root`, when it is open; a scan also reads the baseline the config names)."""
    from scanner.suppress.inputs import load_local

    return load_local(Path(args.path), builtin, args.config, baseline, args.command == "scan", root)


def _cmd_baseline(args: argparse.Namespace) -> int:
    """`baseline create|update`: a full scan with the config applied, its findings written as a
    baseline; an update that changes nothing leaves the file untouched."""
    from scanner.pipeline import scan
    from scanner.rules.matcher_cache import load_matcher
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
    request = Request(
        Path(args.path), jobs=args.jobs, engine=engine(os.environ.get(ENGINE_ENV)), fail_on="none"
    )
    target = open_target(Path(args.path))
    config = resolve_config(
        request, builtin, _files(args, builtin, None, target.root)
    )  # never the old baseline
    matcher = load_matcher(config.rules, config.engine)
    report = scan(config, config.rules, matcher, TermProgress(sys.stderr), target)
    if report.status != "ok":
        raise ScanError(f"the scan of {args.path} is {report.status}; a baseline needs a complete scan")
    live = live_map(report)
    mode = report.scan.mode
    if creating:
        baseline = create_baseline(report.findings, mode, live, config.fingerprint_key, args.reason)
        _write(str(out), render_baseline(baseline))
        print(f"keysweep: {out}: {len(baseline.entries)} entries", file=sys.stderr)
        return EXIT_OK
    assert old_text is not None
    old = parse_baseline(old_text, str(out))
    from scanner.suppress.baseline import key_id

    if old.key_id != key_id(config.fingerprint_key):
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


def _failed(
    outputs: dict[str, str],
    rules: tuple[Rule, ...],
    config: ScanConfig,
    message: str,
    state: Path | None = None,
    started: datetime | None = None,
    builtin: tuple[Rule, ...] | None = None,
) -> None:
    """Reports that say the run failed, so an upload never marks real alerts fixed. `builtin`: the
    bundled rules (the state names the rules a config added); `rules` when not given."""
    if not outputs and state is None:
        return
    report = failed_report(rules, ScanInfo(mode=config.mode.value, target=str(config.target)), message)
    with contextlib.suppress(KeysweepError):  # the failure itself is what gets reported
        write_outputs(report, outputs, RenderContext(fail_on=config.fail_on, exit_code=EXIT_FAILED))
        _save_state(state, report, EXIT_FAILED, config, builtin or rules, started or _now())


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _check_state(args: argparse.Namespace, outputs: dict[str, str]) -> None:
    reports = {Path(d).resolve() for d in outputs.values() if d != "-"}
    if args.state is not None and (str(args.state) == "-" or args.state.resolve() in reports):
        raise UsageError("--state must name a file of its own (not '-', not one of the reports)")


def _save_state(
    state: Path | None,
    report: Report,
    code: int,
    config: ScanConfig,
    builtin: tuple[Rule, ...],
    started: datetime,
) -> None:
    """`--state F`: the finished scan, for `keysweep report` (scanner/state/)."""
    if state is None:
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
    _write(str(state), render_state(SavedState(__version__, started, settings, weak, report)))


def _cmd_report(args: argparse.Namespace) -> int:
    """`report STATE`: the saved scan's reports, written through the same registry and writer as
    the scan's own (identical files)."""
    from scanner.state import read_state

    outputs = requested_outputs(args)
    check_outputs(outputs)
    try:
        data = args.state.read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the state {args.state}: {e.strerror}") from None
    rules = load_rules()
    if args.config is not None:  # the rules the config adds (its policy was applied by the scan)
        from scanner.suppress.settings import load_config

        settings_file = load_config(args.config, rules)
        rules = tuple(sorted((*rules, *settings_file.rules), key=lambda r: r.id))
    saved = read_state(data, str(args.state), __version__, ruleset_hash(rules))
    report, settings = saved.with_rules(rules), saved.settings
    context = RenderContext(fail_on=settings.fail_on, exit_code=settings.exit_code)
    if args.console or not outputs:
        emit(report, outputs, context)
    else:
        write_outputs(report, outputs, context)
    return settings.exit_code


def _cmd_rules(args: argparse.Namespace) -> int:
    from scanner.output import ruletable

    rules = load_rules()
    if args.check is not None:
        from scanner.rules.check import check_rules, load_checked

        if args.check.suffix == ".toml":  # a config's [[rules]], validated as the config loader does
            from scanner.suppress.settings import load_config

            extra = load_config(args.check, rules).rules
        else:
            extra = load_checked(args.check, rules)
        result = check_rules(extra, rules, engine(os.environ.get(ENGINE_ENV)), args.check.name)
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
        from scanner.github.entry import report_failed

        report_failed(os.environ, message, sys.stdout, sys.stderr)
        return
    if args.command != "scan":
        return
    builtin = load_rules()
    config = ScanConfig(target=Path(args.path), mode=_mode(args), fail_on=None)
    with contextlib.suppress(Exception):  # the config decides fail-on; an unreadable one is not this failure
        request = Request(config.target, config.mode, fail_on=args.fail_on, suppress=False)
        config = resolve_config(request, builtin, _files(args, builtin, args.baseline))
    _failed(requested_outputs(args), builtin, config, message, args.state, _now())


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `keysweep` command; returns the exit code."""
    args: argparse.Namespace | None = None
    try:
        args = _parser().parse_args(argv)
        if args.command == "scan":
            return _cmd_scan(args)
        if args.command == "action":
            from scanner.github.entry import run_action

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
    except (ScanError, InternalError) as e:
        _say(f"scan failed: {e}")
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("keysweep: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except Exception as e:  # noqa: BLE001 - main catches everything: a crash is 3, never 1
        _say(f"scan failed: {describe(e)}")
        return EXIT_FAILED


def _say(message: str) -> None:
    """Every message of the command goes out here, escaped: a path given on the command line or
    read from a repository can hold ESC, BEL or a line starting with `::` (a workflow command)."""
    from scanner.output.escape import escape_text

    print("keysweep: " + "\n  ".join(escape_text(line) for line in message.split("\n")), file=sys.stderr)
