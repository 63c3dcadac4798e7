"""Enrich step 1, client-bundle judgement: which places of a source's hits are client output a
browser is served (sources/bundles.py says what is, by path and content), so that a secret there
is reported `client-bundle`. A matched blob or file is read again (once per text) only for a
script whose path does not already decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from scanner.detect.bundle import Sniff
from scanner.enrich.reads import Sniffer, Sourced
from scanner.sources.base import Found, Place, SourceResult
from scanner.sources.bundles import is_client

# sources whose places can be client output (never messages, unreachable objects or bundles
# already judged)
_JUDGED = frozenset({"history", "staged", "worktree", "directory"})


class ClientBundles:
    """Marks `Place.bundle` on every place a source did not judge itself."""

    name = "client-bundles"

    def __call__(self, found: Sequence[Sourced]) -> list[Sourced]:
        out: list[Sourced] = []
        for s in found:
            sniffer = s.reads.sniff
            if sniffer is None:
                out.append(s)
                continue
            res = s.result
            founds = [
                Found(f.hits, judge(f.places, sniffer, s.reads.extra, s.reads.context)) for f in res.founds
            ]
            out.append(Sourced(_with_founds(res, founds), s.reads))
        return out


def _with_founds(res: SourceResult, founds: list[Found]) -> SourceResult:
    return replace(res, founds=founds, skips=list(res.skips), skip_counts=dict(res.skip_counts))


def judge(places: Sequence[Place], read: Sniffer, extra: Sequence[bytes], context: bytes) -> list[Place]:
    """The places with client output marked (content sniffed once per text)."""
    memo: dict[bytes, Sniff] = {}

    def content_of(place: Place) -> Sniff:
        key = place.blob if place.blob is not None else place.path
        if key not in memo:
            memo[key] = read(place)
        return memo[key]

    out: list[Place] = []
    for place in places:
        if (
            place.source in _JUDGED
            and not place.bundle
            and is_client(place.path, partial(content_of, place), extra, context)
        ):
            place = replace(place, bundle=True, local_only=False)
        out.append(place)
    return out
