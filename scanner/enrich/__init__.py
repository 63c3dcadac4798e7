"""The enrich stage, between the sources and the report: each step takes what the sources found
(hits with the places they sit) and the read access it needs, and returns them enriched.

Sources only say where a text sits; what a place *means* is decided here, once the sources are
done, in the order `STEPS` declares:

1. `bundles.ClientBundles` — client-bundle judgement: which places are built output a browser is
   served (by path, and for scripts by content read again), `Place.bundle`;
2. `origins.SourceMapOrigins` — source-map origins: the original position of every hit at a bundle
   place (it needs step 1's judgement), `Place.origins`;
3. `verification.LiveVerification` — live verification (`--verify`, off unless the run's `Reads`
   carry a verifier): one read-only request per distinct secret of the findings to be, the answers
   by digest in `SourceResult.verifications` (it needs the places' final exposure).

A step reads only through the `Reads` its source's result comes with (a repository's blobs and
commits' trees, or files under a root on disk); it never opens anything itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from scanner.enrich.bundles import ClientBundles
from scanner.enrich.origins import SourceMapOrigins
from scanner.enrich.reads import NO_READS, Reads, Sourced, disk_reads, git_reads
from scanner.enrich.verification import LiveVerification
from scanner.sources.base import SourceResult


class EnrichStep(Protocol):
    """One step of the enrich stage: the sources' results in, the same results enriched out
    (new `Found`s and places; a step may add skips, e.g. a map too long to decode)."""

    name: str

    def __call__(self, found: Sequence[Sourced]) -> list[Sourced]: ...


# The order of the enrich stage (each step may use what the ones before it added).
STEPS: tuple[EnrichStep, ...] = (ClientBundles(), SourceMapOrigins(), LiveVerification())


def enrich(found: Sequence[Sourced], steps: Sequence[EnrichStep] = STEPS) -> list[SourceResult]:
    """Run the enrich steps in order; the results, in the sources' order."""
    got = list(found)
    for step in steps:
        got = step(got)
    return [s.result for s in got]


__all__ = ["NO_READS", "STEPS", "EnrichStep", "Reads", "Sourced", "disk_reads", "enrich", "git_reads"]
