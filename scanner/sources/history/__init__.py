"""The full-history sweep: reading (sweep, workers), tree links, provenance and the cache."""

from __future__ import annotations

import pygit2

from scanner.git.index import load_index
from scanner.git.repo import RepoSite
from scanner.sources.base import ScanContext, Source, SourceResult, pool_spec
from scanner.sources.history.sweep import Sweep


class HistorySource:
    """Every object of the repository's database (ARCHITECTURE.md §4 "Full sweep").

    `meanwhile` (the working tree) is scanned by this process while the workers read objects.
    """

    def __init__(self, repo: pygit2.Repository, site: RepoSite, meanwhile: Source | None = None) -> None:
        self.repo = repo
        self.site = site
        self.meanwhile = meanwhile

    def scan(self, ctx: ScanContext) -> SourceResult:
        repo, other = self.repo, self.meanwhile
        spec = pool_spec(repo, ctx.rules, ctx.matcher, ctx.blob_cap, ctx.workers)
        sweep = Sweep(
            repo,
            ctx.matcher,
            spec,
            ctx.progress,
            self.site.prefix,
            lambda: load_index(repo),
            ctx.cache,
            None if other is None else (lambda: other.scan(ctx)),
        )
        return sweep.run()
