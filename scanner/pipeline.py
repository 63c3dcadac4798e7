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

from scanner.cache import HistoryCache, cache_key
from scanner.config import Mode, ScanConfig
from scanner.detect.context import construct
from scanner.detect.engine import Matcher
from scanner.detect.slots import SLOT_VALIDATOR
from scanner.enrich import NO_READS, Reads, Sourced, disk_reads, enrich, git_reads
from scanner.enrich.window import Removals, format_time, git_removals, windows
from scanner.errors import ScanError, UsageError
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Location, Provenance, Report, Rule, ScanInfo, SourceKind, Stats
from scanner.rules import ruleset_hash
from scanner.skips import PATH_ABSENT, examples_by_reason, is_incomplete
from scanner.sources.base import (
    NullProgress,
    Pending,
    Place,
    Progress,
    ScanContext,
    Source,
    SourceResult,
    StartingSource,
    secret_id,
)
from scanner.sources.directory import DirectorySource
from scanner.sources.filekinds import VENDORED_DOC, applies, not_own_settings, vendored_doc
from scanner.sources.walk import display_path
from scanner.target import Target, open_target

_EXPOSURE = {
    "history": Exposure.REPOSITORY,
    "message": Exposure.REPOSITORY,
    "staged": Exposure.REPOSITORY,
    "worktree": Exposure.REPOSITORY,
    "directory": Exposure.FILE,
    "unreachable": Exposure.UNREACHABLE,
    "bundle": Exposure.CLIENT_BUNDLE,  # build output read from disk (sources/bundles.py)
}

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
            results = run_sources(directory_sources(config, "worktree" if in_repo else "directory"), ctx)
            mode = "tree" if in_repo else "directory"
        else:
            ctx = replace(ctx, cache=_history_cache(config, rules, opened, ctx.blob_cap))
            results = run_sources(repository_sources(config, opened), ctx)
            mode = config.mode.value
            if site.prefix and config.mode in (Mode.HISTORY, Mode.TREE):
                results.append(_path_check(opened))
    finally:
        prog.close()
    removals = git_removals(opened.repo, opened.head) if site is not None and opened.head else None
    report = build_report(config, rules, mode, results, time.monotonic() - t0, removals)
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

    site = target.site
    key = cache_key(__version__, ruleset_hash(rules), cap, str(site.gitdir.resolve()), site.prefix)
    return HistoryCache(config.cache, key)


def _ships(rule_map: dict[str, Rule], rule_id: str, place: Place) -> bool:
    rule = rule_map.get(rule_id)
    return rule is None or applies(rule.contexts, place.path, place.bundle)


def build_report(
    config: ScanConfig,
    rules: Sequence[Rule],
    mode: str,
    results: Sequence[SourceResult],
    seconds: float,
    removals: Removals | None = None,
) -> Report:
    """The report of a scan: hits from every place (pragma-marked ones too: the suppress stage
    decides and counts), findings with their exposure windows (`removals`: the walk of HEAD's
    first-parent line, enrich/window.py), stats and status."""
    rule_map = {r.id: r for r in rules}
    slot_rules = {r.id for r in rules if r.validator == SLOT_VALIDATOR}  # detect/slots.py
    hits: list[Hit] = []
    for res in results:
        for found in res.founds:
            for place in found.places:
                source = SourceKind(place.source)
                path, path_bytes = display_path(place.path)
                exposure = (
                    Exposure.CLIENT_BUNDLE
                    if place.bundle
                    else Exposure.LOCAL_ONLY
                    if place.local_only
                    else _EXPOSURE[place.source]
                )
                for k, (m, pos) in enumerate(found.hits):
                    if m.exposure_text is not None and not _ships(rule_map, m.rule_id, place):
                        continue  # an exposure construct where it cannot ship (sources/filekinds.py)
                    if m.rule_id in slot_rules and not_own_settings(place.path):
                        continue  # a credential-sounding name in a lockfile, catalogue or vendor code
                    if m.secret is not None and m.alone is None and vendored_doc(place.path):
                        m = replace(m, alone=VENDORED_DOC)  # another package's sample: low, says why
                    prov = res.provenance.get(secret_id(m), Provenance())
                    loc = Location(
                        source=source,
                        path=path,
                        position=pos,
                        path_bytes=path_bytes,
                        encoding=m.encoding,
                        commit=place.commit.hex() if place.commit else None,
                        blob=place.blob.hex() if place.blob else None,
                        commit_time=place.commit_time,
                        pragma=m.pragma,
                        pragma_added=m.pragma and k in place.pragmas_added,
                        client_bundle=exposure is Exposure.CLIENT_BUNDLE,
                        context=m.assigned or (construct(m.exposure_text) if m.exposure_text else None),
                        original=place.origins[k] if k < len(place.origins) else None,
                        at_head=place.at_head,
                    )
                    hits.append(Hit(match=m, location=loc, exposure=exposure, provenance=prov))
    findings = build_findings(hits, rule_map, config.fingerprint_key, config.group_key)
    if config.mode is Mode.RANGE:
        findings = [replace(f, scope="range") for f in findings]
    started = config.started or datetime.now(UTC).replace(microsecond=0)
    findings = windows(findings, started, config.max_key_age, removals)
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
