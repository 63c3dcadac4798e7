"""sources → detect → findings → report → suppress: one scan, from a config to a finished Report.

`scan` picks the sources a mode reads (ARCHITECTURE.md §4), runs each, and `build_report` turns
what they found into hits, findings, stats and the report status — the only place a report is
assembled and findings are identified and ordered; `suppress` then applies pragmas, the config
and the baseline, once.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from scanner.cache import HistoryCache, cache_key
from scanner.config import Mode, ScanConfig
from scanner.detect.context import construct
from scanner.detect.engine import Matcher
from scanner.detect.slots import SLOT_VALIDATOR
from scanner.errors import ScanError, UsageError
from scanner.findings import Hit, build_findings
from scanner.git.repo import RepoSite, discover, open_repository
from scanner.model import Exposure, Location, Provenance, Report, Rule, ScanInfo, SourceKind, Stats
from scanner.rules import ruleset_hash
from scanner.skips import PATH_ABSENT, examples_by_reason, is_incomplete
from scanner.sources.base import NullProgress, Place, Progress, ScanContext, Source, SourceResult, secret_id
from scanner.sources.directory import DirectorySource
from scanner.sources.filekinds import VENDORED_DOC, applies, not_own_settings, vendored_doc
from scanner.sources.walk import display_path

_EXPOSURE = {
    "history": Exposure.REPOSITORY,
    "message": Exposure.REPOSITORY,
    "staged": Exposure.REPOSITORY,
    "worktree": Exposure.REPOSITORY,
    "directory": Exposure.FILE,
    "unreachable": Exposure.UNREACHABLE,
    "bundle": Exposure.CLIENT_BUNDLE,  # build output read from disk (sources/bundles.py)
}


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
    config: ScanConfig, rules: Sequence[Rule], matcher: Matcher, progress: Progress | None = None
) -> Report:
    """Scan `config.target` in `config.mode`: a repository found upward from it, else a directory.
    Raises RevisionError/UsageError (exit 2) or ScanError (exit 3)."""
    t0 = time.monotonic()
    if not config.target.exists():
        raise ScanError(f"target does not exist: {config.target}")
    prog = progress or NullProgress()
    ctx = ScanContext(
        matcher=matcher,
        rules=tuple(rules),
        workers=config.workers,
        size_cap=config.size_cap,
        progress=prog,
    )
    site = discover(config.target)
    root = _report_root(config.target, site)
    try:
        if site is None:
            if config.mode not in (Mode.HISTORY, Mode.TREE):
                raise UsageError(f"--{config.mode} needs a git repository; {config.target} is not in one")
            in_repo = find_repository(config.target) is not None
            results = [s.scan(ctx) for s in directory_sources(config, "worktree" if in_repo else "directory")]
            mode = "tree" if in_repo else "directory"
        else:
            ctx = replace(ctx, cache=_history_cache(config, rules, site, ctx.blob_cap))
            results = [s.scan(ctx) for s in repository_sources(config, site)]
            mode = config.mode.value
            if site.prefix and config.mode in (Mode.HISTORY, Mode.TREE):
                results.append(_path_check(site))
    finally:
        prog.close()
    report = build_report(config, rules, mode, results, time.monotonic() - t0)
    return suppress(replace(report, scan=replace(report.scan, root=root)), config)


def _report_root(target: Path, site: RepoSite | None) -> str | None:
    """The absolute directory the report's paths are relative to."""
    if site is not None:
        return str(site.workdir.resolve()) if site.workdir is not None else None
    return str((target if target.is_dir() else target.parent).resolve())


def directory_sources(config: ScanConfig, kind: str) -> list[Source]:
    """A directory's files, judged for client output, and the `--bundles` dirs outside it."""
    import os

    from scanner.sources.bundles import (
        BundleSource,
        ClientOutput,
        bundle_dirs,
        file_reader,
        root_context,
        split_dirs,
    )
    from scanner.sources.maps import WithOrigins, disk_files

    root = config.target if config.target.is_dir() else config.target.parent
    inner, outer = split_dirs(bundle_dirs(config.bundles, root), root)
    # where the root sits in its project (`dist`, `.next`): judged as from the project's root
    context = root_context(root)
    read = file_reader(os.fsencode(root))
    judged = ClientOutput(DirectorySource(config.target, kind), read, inner, context)
    return [
        WithOrigins(judged, disk_files(os.fsencode(root)), os.fsdecode(context)),
        *([BundleSource(outer)] if outer else []),
    ]


def suppress(report: Report, config: ScanConfig) -> Report:
    """The suppress stage, once, on the finished report (ARCHITECTURE.md §1): pragmas, the
    config's allowlists and disabled rules, the baseline (scanner/suppress/apply.py)."""
    from scanner.suppress.apply import apply_policy

    live = None
    if config.policy.baseline is not None and config.policy.suppress:
        from scanner.suppress.trusted import live_map

        live = live_map(report)
    return apply_policy(report, config.policy, live)


def repository_sources(config: ScanConfig, site: RepoSite) -> list[Source]:
    """The sources a mode reads in the repository at `site`; every place is judged for client
    output (sources/bundles.py), and `--bundles` dirs the mode does not read are added."""
    import os

    from scanner.sources.bundles import BundleSource, ClientOutput, blob_reader, bundle_dirs, split_dirs
    from scanner.sources.maps import WithOrigins, commit_files, disk_files
    from scanner.sources.worktree import WorktreeSource

    repo = open_repository(site.gitdir, bare=site.bare)
    dirs = bundle_dirs(config.bundles, site.workdir)
    inner, outer = split_dirs(dirs, site.workdir)
    read = blob_reader(repo)
    in_commits = commit_files(repo)

    def judged(source: Source) -> Source:
        return WithOrigins(ClientOutput(source, read, inner), in_commits)

    def on_disk(source: Source) -> Source:
        return (
            source
            if site.workdir is None
            else WithOrigins(source, disk_files(os.fsencode(str(site.workdir))))
        )

    extra: list[Source] = [BundleSource(outer)] if outer else []
    match config.mode:
        case Mode.HISTORY:
            from scanner.sources.history import HistorySource

            worktree = WorktreeSource(repo, site, inner)
            return [judged(HistorySource(repo, site, meanwhile=worktree)), on_disk(worktree), *extra]
        case Mode.TREE:  # HEAD's tree, the index entries that differ from it, the working tree (§4)
            from scanner.sources.staged import StagedSource
            from scanner.sources.tree import TreeSource

            return [
                judged(TreeSource(repo, site)),
                judged(StagedSource(repo, site, change=False)),
                on_disk(WorktreeSource(repo, site, inner)),
                *extra,
            ]
        case Mode.RANGE:  # the working tree is not read, but --bundles dirs are (§4)
            from scanner.sources.range import RangeSource

            assert config.range_expr is not None
            return [
                judged(RangeSource(repo, site, config.range_expr)),
                *([BundleSource(dirs)] if dirs else []),
            ]
        case Mode.STAGED:
            from scanner.sources.staged import StagedSource

            return [judged(StagedSource(repo, site))]


def _path_check(site: RepoSite) -> SourceResult:
    """A PATH that no commit holds limits a sweep to nothing: say so instead of looking clean."""
    from scanner.git.refs import head_commit, list_refs
    from scanner.git.trees import display, history_holds_path

    repo = open_repository(site.gitdir, bare=site.bare)
    tips = [t.target for t in list_refs(repo)[0]]
    head = head_commit(repo)
    res = SourceResult()
    if not history_holds_path(repo, [*([head] if head else []), *tips], site.prefix):
        res.skip(
            PATH_ABSENT, f"{display(site.prefix)}: no commit holds this path; only the working tree was read"
        )
    return res


def _history_cache(
    config: ScanConfig, rules: Sequence[Rule], site: RepoSite, cap: int
) -> HistoryCache | None:
    """The cache file for this repository, PATH, keysweep version, ruleset and config."""
    if config.cache is None or config.mode is not Mode.HISTORY:
        return None
    from scanner import __version__

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
) -> Report:
    """The report of a scan: hits from every place (pragma-marked ones too: the suppress stage
    decides and counts), findings, stats and status."""
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
                    )
                    hits.append(Hit(match=m, location=loc, exposure=exposure, provenance=prov))
    findings = build_findings(hits, rule_map, config.fingerprint_key, config.group_key)
    if config.mode is Mode.RANGE:
        findings = [replace(f, scope="range") for f in findings]
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
        ),
        stats=stats,
        findings=tuple(findings),
        ruleset=ruleset_hash(rules),
        rules=tuple(rules),
    )
