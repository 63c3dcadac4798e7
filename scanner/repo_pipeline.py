"""A scan of a git repository, from a config to a finished Report (ARCHITECTURE.md §4, §5, §7).

Modes: the full sweep ("history", default), the tree scan ("tree", `--no-history`), a commit range
("range", `--range`) and the index ("staged", `--staged`). Sources hand over texts that matched
with every place they sit and the provenance of each secret; this module turns them into hits,
findings, stats and the report status.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum

from scanner.cache import HistoryCache, cache_key
from scanner.config import ScanConfig
from scanner.detect.engine import Matcher
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Location, Provenance, Report, Rule, ScanInfo, SourceKind, Stats
from scanner.rules import ruleset_hash
from scanner.sources.directory import display_path
from scanner.sources.repository import (
    DEFAULT_BLOB_CAP,
    NullProgress,
    Progress,
    RepoSite,
    SourceResult,
    Sweep,
    open_repository,
    pool_spec,
    secret_key,
)
from scanner.sources.skips import examples_by_reason, is_incomplete
from scanner.sources.staged import read_index, staged_scan


class RepoMode(StrEnum):
    HISTORY = "history"
    TREE = "tree"
    RANGE = "range"
    STAGED = "staged"


_EXPOSURE = {
    "history": Exposure.REPOSITORY,
    "message": Exposure.REPOSITORY,
    "staged": Exposure.REPOSITORY,
    "worktree": Exposure.REPOSITORY,
    "unreachable": Exposure.UNREACHABLE,
}


def scan_repository(
    config: ScanConfig,
    rules: Sequence[Rule],
    matcher: Matcher,
    site: RepoSite,
    mode: RepoMode = RepoMode.HISTORY,
    range_expr: str | None = None,
    progress: Progress | None = None,
    blob_cap: int = DEFAULT_BLOB_CAP,
) -> Report:
    """Scan the repository at `site` in `mode`; raises RevisionError (exit 2) or ScanError (exit 3)."""
    t0 = time.monotonic()
    prog = progress or NullProgress()
    repo = open_repository(site.gitdir)
    cap = blob_cap
    results: list[SourceResult] = []
    scope: str | None = None
    try:
        match mode:
            case RepoMode.HISTORY:
                spec = pool_spec(repo, rules, matcher, cap, config.workers)
                cache = _history_cache(config, rules, site, cap)
                sweep = Sweep(
                    repo,
                    matcher,
                    spec,
                    prog,
                    site.prefix,
                    lambda: read_index(repo),
                    cache,
                    lambda: _worktree(repo, site, matcher, config),
                )
                results.append(sweep.run())
                results.append(sweep.meanwhile_result or _worktree(repo, site, matcher, config))
            case RepoMode.TREE:
                from scanner.sources.repository import tree_scan

                spec = pool_spec(repo, rules, matcher, cap, config.workers)
                results.append(tree_scan(repo, matcher, spec, prog, site.prefix))
                results.append(_worktree(repo, site, matcher, config))
            case RepoMode.RANGE:
                from scanner.sources.repository import range_scan

                assert range_expr is not None
                results.append(range_scan(repo, matcher, cap, range_expr, site.prefix))
                scope = "range"
            case RepoMode.STAGED:
                results.append(staged_scan(repo, matcher, cap, site.prefix))
    finally:
        prog.close()
    return _report(config, rules, site, mode, range_expr, results, scope, time.monotonic() - t0)


def _history_cache(
    config: ScanConfig, rules: Sequence[Rule], site: RepoSite, cap: int
) -> HistoryCache | None:
    """The cache file for this repository, PATH, keysweep version, ruleset and config."""
    if config.cache is None:
        return None
    from scanner import __version__

    key = cache_key(__version__, ruleset_hash(rules), cap, str(site.gitdir.resolve()), site.prefix)
    return HistoryCache(config.cache, key)


def _worktree(repo: object, site: RepoSite, matcher: Matcher, config: ScanConfig) -> SourceResult:
    from scanner.sources.worktree import worktree_scan

    return worktree_scan(repo, site, matcher, config.size_cap)


def _report(
    config: ScanConfig,
    rules: Sequence[Rule],
    site: RepoSite,
    mode: RepoMode,
    range_expr: str | None,
    results: Sequence[SourceResult],
    scope: str | None,
    seconds: float,
) -> Report:
    rule_map = {r.id: r for r in rules}
    hits: list[Hit] = []
    suppressed: Counter[str] = Counter()
    for res in results:
        for found in res.founds:
            for place in found.places:
                source = SourceKind(place.source)
                path, path_bytes = display_path(place.path)
                exposure = Exposure.LOCAL_ONLY if place.local_only else _EXPOSURE[place.source]
                for m, pos in found.hits:
                    if m.pragma:
                        suppressed["pragma"] += 1
                        continue
                    prov = res.provenance.get(secret_key(m), Provenance())
                    loc = Location(
                        source=source,
                        path=path,
                        position=pos,
                        path_bytes=path_bytes,
                        encoding=m.encoding,
                        commit=place.commit.hex() if place.commit else None,
                        blob=place.blob.hex() if place.blob else None,
                        commit_time=place.commit_time,
                    )
                    hits.append(Hit(match=m, location=loc, exposure=exposure, provenance=prov))
    findings = build_findings(hits, rule_map, config.fingerprint_key)
    if scope is not None:
        findings = [replace(f, scope=scope) for f in findings]
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
        suppressed=dict(suppressed),
        skipped=dict(skipped),
        skipped_examples=examples,
        complete=not incomplete,
    )
    return Report(
        status="incomplete" if incomplete else "ok",
        scan=ScanInfo(
            mode=mode.value,
            target=str(config.target),
            head=head.hex() if head else None,
            range=range_expr,
        ),
        stats=stats,
        findings=tuple(findings),
        ruleset=ruleset_hash(rules),
        rules=tuple(rules),
    )
