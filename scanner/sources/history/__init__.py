"""The full-history sweep: reading (sweep, workers), tree links, provenance and the cache."""

from __future__ import annotations

import pygit2

from scanner.git.index import load_index
from scanner.git.repo import RepoSite
from scanner.sources.base import ScanContext, SourceResult
from scanner.sources.blobs import pool_spec
from scanner.sources.history.sweep import Started, Sweep


class HistorySource:
    """Every object of the repository's database (ARCHITECTURE.md §4 "Full sweep").

    `start` runs the sweep up to where its worker processes read objects and this process is
    free: the pipeline scans its other sources then, and asks for the result after
    (`pipeline.run_sources`).
    """

    def __init__(self, repo: pygit2.Repository, site: RepoSite) -> None:
        self.repo = repo
        self.site = site

    def start(self, ctx: ScanContext) -> Started:
        repo = self.repo
        spec = pool_spec(repo, ctx.rules, ctx.matcher, ctx.blob_cap, ctx.workers)
        sweep = Sweep(
            repo, ctx.matcher, spec, ctx.progress, self.site.prefix, lambda: load_index(repo), ctx.cache
        )
        return Started(sweep.steps())

    def scan(self, ctx: ScanContext) -> SourceResult:
        return self.start(ctx).result()
