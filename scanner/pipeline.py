"""sources → enrich → findings → report → suppress: one scan, from a config to a finished Report.

`scan` takes the run's target (scanner/target.py: opened once by the entry point), picks the
sources a mode reads (ARCHITECTURE.md §4) with how each one's places are read again, runs each
once, and hands what they found to the enrich stage (scanner/enrich/: client bundles, then
source-map origins); `build_report` turns the enriched hits into findings, stats and the report
status — the only place a report is assembled and findings are identified and ordered;
`suppress` then applies pragmas, the config and the baseline, once, reading no git.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.config import Mode, ScanConfig
from scanner.detect.engine import Matcher
from scanner.enrich import NO_READS, Reads, Sourced, disk_reads, enrich, git_reads
from scanner.enrich.hits import reported_hits
from scanner.enrich.window import Removals, format_time, git_removals, windows
from scanner.enrich.workflows import TextRead, text_reader, workflow_environments
from scanner.errors import ScanError, UsageError
from scanner.findings import build_findings, finding_order, verified_finding
from scanner.model import Report, Rule, ScanInfo, Stats
from scanner.rules import ruleset_hash
from scanner.skips import PATH_ABSENT, examples_by_reason, is_incomplete
from scanner.sources.base import (
    NullProgress,
    Pending,
    Progress,
    ScanContext,
    Source,
    SourceResult,
    StartingSource,
)
from scanner.sources.directory import DirectorySource
from scanner.target import Target, open_target

if TYPE_CHECKING:  # the history package loads libgit2: imported only by a history scan
    from scanner.sources.history.cache import HistoryCache

Planned = tuple[Source, Reads]  # a source, and how the enrich stage reads its places again


def find_repository(path: Path) -> Path | None:
    """The working tree root above `path`, if `path` is inside a git repository."""
    p = path.resolve()
    for d in (p, *p.parents):
        try:
            if (d / ".git").exists():
                return d
        except OSError:  # an unreadable parent: no repository we could open anyway
            return None
    return None


def scan(
    config: ScanConfig,
    rules: Sequence[Rule],
    matcher: Matcher,
    progress: Progress | None = None,
    target: Target | None = None,
) -> Report:
    """Scan `config.target` in `config.mode`: a repository found upward from it, else a directory.
    `target` is the run's context (scanner/target.py), opened here when the caller has none.
    Raises RevisionError/UsageError (exit 2) or ScanError (exit 3)."""
    t0 = time.monotonic()
    if not config.target.exists():
        raise ScanError(f"target does not exist: {config.target}")
    opened = target if target is not None else open_target(config.target)
    prog = progress or NullProgress()
    ctx = ScanContext(
        matcher=matcher,
        rules=tuple(rules),
        workers=config.workers,
        size_cap=config.size_cap,
        progress=prog,
    )
    site = opened.site
    root = _report_root(opened)
    try:
        if site is None:
            if config.mode not in (Mode.HISTORY, Mode.TREE):
                raise UsageError(f"--{config.mode} needs a git repository; {config.target} is not in one")
            in_repo = find_repository(config.target) is not None
            planned = directory_sources(config, "worktree" if in_repo else "directory")
            results = run_sources(_verifying(planned, config, rules), ctx)
            mode = "tree" if in_repo else "directory"
        else:
            ctx = replace(ctx, cache=_history_cache(config, rules, opened, ctx.blob_cap))
            results = run_sources(_verifying(repository_sources(config, opened), config, rules), ctx)
            mode = config.mode.value
            if site.prefix and config.mode in (Mode.HISTORY, Mode.TREE):
                results.append(_path_check(opened))
    finally:
        prog.close()
    removals = git_removals(opened.repo, opened.head) if site is not None and opened.head else None
    texts = text_reader(opened.repo if site is not None else None, _text_root(opened, config))
    report = build_report(config, rules, mode, results, time.monotonic() - t0, removals, texts)
    return suppress(replace(report, scan=replace(report.scan, root=root)), config)


def run_sources(planned: Sequence[Planned], ctx: ScanContext) -> list[SourceResult]:
    """Each source scanned once, in order — a source that can be started (the full sweep) runs
    its workers while the ones after it are scanned — then the enrich stage (scanner/enrich/)."""
    started: list[Pending | SourceResult] = []
    try:
        for source, _reads in planned:
            started.append(source.start(ctx) if isinstance(source, StartingSource) else source.scan(ctx))
        results = [s if isinstance(s, SourceResult) else s.result() for s in started]
    finally:
        for s in started:
            if not isinstance(s, SourceResult):
                s.close()
    return enrich([Sourced(res, reads) for res, (_s, reads) in zip(results, planned, strict=True)])


def _verifying(planned: list[Planned], config: ScanConfig, rules: Sequence[Rule]) -> list[Planned]:
    """With `--verify`, every source's places may be asked about (scanner/enrich/verification.py)."""
    if config.verify is None:
        return planned
    asked = (config.verify, tuple(rules))
    return [(source, replace(reads, verify=asked)) for source, reads in planned]


def _report_root(target: Target) -> str | None:
    """The absolute directory the report's paths are relative to."""
    if target.site is not None:
        return str(target.site.workdir.resolve()) if target.site.workdir is not None else None
    path = target.path
    return str((path if path.is_dir() else path.parent).resolve())


def directory_sources(config: ScanConfig, kind: str) -> list[Planned]:
    """A directory's files (judged for client output by the enrich stage), and the `--bundles`
    dirs outside it."""
    from scanner.sources.bundles import BundleSource, bundle_dirs, root_context, split_dirs

    root = config.target if config.target.is_dir() else config.target.parent
    inner, outer = split_dirs(bundle_dirs(config.bundles, root), root)
    # where the root sits in its project (`dist`, `.next`): judged as from the project's root
    reads = disk_reads(os.fsencode(root), inner, root_context(root))
    return [
        (DirectorySource(config.target, kind), reads),
        *([(BundleSource(outer), NO_READS)] if outer else []),
    ]


def suppress(report: Report, config: ScanConfig) -> Report:
    """The suppress stage, once, on the finished report (ARCHITECTURE.md §1): pragmas, the
    config's allowlists and disabled rules, the baseline (scanner/suppress/apply.py). It reads
    no git: which files hold a secret at HEAD is on the locations (`Location.at_head`)."""
    from scanner.suppress.apply import apply_policy, live_map

    live = None
    if config.policy.baseline is not None and config.policy.suppress:
        live = live_map(report)
    return apply_policy(report, config.policy, live)


def repository_sources(config: ScanConfig, target: Target) -> list[Planned]:
    """The sources a mode reads in the target's repository: every place but the working tree's
    is judged for client output by the enrich stage (the working tree judges its own), and
    `--bundles` dirs the mode does not read are added."""
    from scanner.sources.bundles import BundleSource, bundle_dirs, split_dirs
    from scanner.sources.worktree import WorktreeSource

    site = target.site
    assert site is not None
    repo = target.repo
    dirs = bundle_dirs(config.bundles, site.workdir)
    inner, outer = split_dirs(dirs, site.workdir)
    in_git = git_reads(repo, inner)
    on_disk = NO_READS if site.workdir is None else disk_reads(os.fsencode(str(site.workdir)), judge=False)
    extra: list[Planned] = [(BundleSource(outer), NO_READS)] if outer else []
    match config.mode:
        case Mode.HISTORY:
            from scanner.sources.history import HistorySource

            return [(HistorySource(repo, site), in_git), (WorktreeSource(repo, site, inner), on_disk), *extra]
        case Mode.TREE:  # HEAD's tree, the index entries that differ from it, the working tree (§4)
            from scanner.sources.staged import StagedSource
            from scanner.sources.tree import TreeSource

            return [
                (TreeSource(repo, site), in_git),
                (StagedSource(repo, site, change=False), in_git),
                (WorktreeSource(repo, site, inner), on_disk),
                *extra,
            ]
        case Mode.RANGE:  # the working tree is not read, but --bundles dirs are (§4)
            from scanner.sources.range import RangeSource

            assert config.range_expr is not None
            return [
                (RangeSource(repo, site, config.range_expr), in_git),
                *([(BundleSource(dirs), NO_READS)] if dirs else []),
            ]
        case Mode.STAGED:
            from scanner.sources.staged import StagedSource

            return [(StagedSource(repo, site), in_git)]


def _path_check(target: Target) -> SourceResult:
    """A PATH that no commit holds limits a sweep to nothing: say so instead of looking clean."""
    from scanner.git.trees import display, history_holds_path

    assert target.site is not None
    prefix = target.site.prefix
    tips = [t.target for t in target.refs[0]]
    head = target.head
    res = SourceResult()
    if not history_holds_path(target.repo, [*([head] if head else []), *tips], prefix):
        res.skip(PATH_ABSENT, f"{display(prefix)}: no commit holds this path; only the working tree was read")
    return res


def _history_cache(
    config: ScanConfig, rules: Sequence[Rule], target: Target, cap: int
) -> HistoryCache | None:
    """The cache file for this repository, PATH, keysweep version, ruleset and config."""
    if config.cache is None or config.mode is not Mode.HISTORY or target.site is None:
        return None
    from scanner import __version__
    from scanner.sources.history.cache import HistoryCache, cache_key

    site = target.site
    key = cache_key(__version__, ruleset_hash(rules), cap, str(site.gitdir.resolve()), site.prefix)
    return HistoryCache(config.cache, key)


def _text_root(opened: Target, config: ScanConfig) -> Path | None:
    """Where a location's path is read from disk: the working tree's root, or the scanned
    directory (paths are relative to it); None for a bare repository."""
    if opened.site is not None:
        return opened.site.workdir
    return config.target if config.target.is_dir() else config.target.parent


def build_report(
    config: ScanConfig,
    rules: Sequence[Rule],
    mode: str,
    results: Sequence[SourceResult],
    seconds: float,
    removals: Removals | None = None,
    texts: TextRead | None = None,
) -> Report:
    """The report of a scan: hits from every place (pragma-marked ones too: the suppress stage
    decides and counts), findings with their exposure windows (`removals`: the walk of HEAD's
    first-parent line, enrich/window.py), stats and status."""
    rule_map = {r.id: r for r in rules}
    hits = reported_hits(results, rule_map)
    findings = build_findings(hits, rule_map, config.fingerprint_key, config.group_key)
    answers = {d: v for res in results for d, v in res.verifications.items()}
    if answers:  # --verify (scanner/enrich/verification.py): a live key is critical, and first
        findings = [verified_finding(f, answers.get(f.secret_sha256 or "")) for f in findings]
        findings.sort(key=finding_order)
    if config.mode is Mode.RANGE:
        findings = [replace(f, scope="range") for f in findings]
    started = config.started or datetime.now(UTC).replace(microsecond=0)
    if texts is not None:  # a workflow job's `environment:` (enrich/workflows.py), then the windows
        findings = workflow_environments(findings, texts)
    findings = windows(findings, started, config.max_key_age, removals, config.environments)
    skipped: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    head = None
    commits = objects = blobs = nbytes = files = 0
    for res in results:
        skipped.update(res.skip_counts)
        sources.update(res.sources)
        head = head or res.head
        commits += res.commits
        objects += res.objects
        blobs += res.blobs
        nbytes += res.nbytes
        files += res.files
    examples = examples_by_reason(s for res in results for s in res.skips)
    incomplete = is_incomplete(skipped)
    stats = Stats(
        seconds=round(seconds, 3),
        files=files,
        commits=commits,
        objects=objects,
        blobs=blobs,
        bytes_scanned=nbytes,
        sources=dict(sources),
        skipped=dict(skipped),
        skipped_examples=examples,
        complete=not incomplete,
    )
    return Report(
        status="incomplete" if incomplete else "ok",
        scan=ScanInfo(
            mode=mode,
            target=str(config.target),
            head=head.hex() if head else None,
            range=config.range_expr if config.mode is Mode.RANGE else None,
            started=format_time(started),
        ),
        stats=stats,
        findings=tuple(findings),
        ruleset=ruleset_hash(rules),
        rules=tuple(rules),
    )
