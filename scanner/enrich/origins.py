"""Enrich step 2, source-map origins: every hit at a bundle place (enrich step 1 judged which)
gets the original position its source map gives, found as browsers find it (sources/maps.py); a
hit inside a map file's `sourcesContent` gets its position inside that source. Each place reads
its own tree through its source's `Reads` (a commit's bundle with that commit's map, a file on
disk with the map beside it).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import replace

from scanner import watchdog
from scanner.detect.decoders import INLINE_MAP_ENCODING
from scanner.detect.positions import utf16_units
from scanner.detect.sourcemap import SourceMapError, parse
from scanner.enrich.reads import Files, Sourced
from scanner.model import Match, Original, Position
from scanner.skips import UNMAPPED
from scanner.sources.base import Found, Hits, Place, SourceResult
from scanner.sources.maps import (
    FoundMap,
    Resolve,
    content_origin,
    entry_path,
    find_map,
    origin_of,
    project_of,
    resolver,
)


class SourceMapOrigins:
    """Sets `Place.origins` on the bundle places of every source whose files can be read."""

    name = "source-map-origins"

    def __call__(self, found: Sequence[Sourced]) -> list[Sourced]:
        out: list[Sourced] = []
        for s in found:
            files = s.reads.files
            if files is None:
                out.append(s)
                continue
            res = s.result
            res = replace(
                res,
                founds=[Found(f.hits, list(f.places)) for f in res.founds],
                skips=list(res.skips),
                skip_counts=dict(res.skip_counts),
            )
            add_origins(res, files, os.fsdecode(s.reads.context))
            out.append(Sourced(res, s.reads))
        return out


# a bundle place's file as read from its tree: (path, content, its map (None for a map file),
# how its sources become paths)
_Bundle = tuple[str, bytes, FoundMap | None, "Resolve"]


def add_origins(res: SourceResult, files: Files, context: str = "") -> None:
    """Give every hit at a bundle place the original position its source map gives; a hit inside
    a map file's `sourcesContent` gets its position inside that source. Each place reads its own
    tree (a commit's map for a commit's bundle); a bundle and its map are read and parsed once
    for all the texts found in it, so the map's decoded lines serve every one of them. `context`
    is the scan root's path inside its project (`dist`), so that source paths come out relative
    to the scan root wherever it is (`../src/a.ts`)."""
    read_once: dict[tuple[bytes | None, bytes], _Bundle | None] = {}
    for found in res.founds:
        if any(p.bundle for p in found.places):
            found.places = [_with_origins(found, p, files, read_once, context) for p in found.places]
    for path, _data, fm, _resolve in (b for b in read_once.values() if b is not None):
        if fm is not None and fm.map is not None and fm.map.exhausted:
            res.skip(
                UNMAPPED,
                f"{path}: its source map is too long to decode as far as every hit (some have no origin)",
            )


def _bundle(place: Place, files: Files, context: str) -> _Bundle | None:
    read = files(place)
    if read is None:
        return None
    path = place.path.decode("utf-8", "surrogateescape")
    data = read(path)
    if data is None:
        return None
    if path.endswith(".map"):
        return path, data, None, resolver(read, project_of(path, read, context))
    fm = find_map(path, data, read)
    if fm is None or fm.map is None:
        return None
    return path, data, fm, resolver(read, project_of(fm.path or path, read, context))


def _with_origins(
    found: Found,
    place: Place,
    files: Files,
    read_once: dict[tuple[bytes | None, bytes], _Bundle | None],
    context: str = "",
) -> Place:
    if not place.bundle or place.origins:
        return place
    key = (place.commit, place.path)
    # a stall here names the bundle whose map is being read and decoded, not the last object read
    with watchdog.doing(f"reading the source map of {place.path.decode('utf-8', 'replace')}"):
        if key not in read_once:
            read_once[key] = _bundle(place, files, context)
        got = read_once[key]
        if got is None:
            return place
        path, data, fm, resolve = got
        if fm is None:
            origins = _content_origins(data, path, found.hits, resolve)
        else:
            origins = tuple(_origin(fm, path, m, pos, data, resolve) for m, pos in found.hits)
    return replace(place, origins=origins) if any(origins) else place


def _origin(
    fm: FoundMap, bundle: str, m: Match, pos: Position, js: bytes, resolve: Resolve
) -> Original | None:
    """A bundle hit's origin: through the mappings, or, for a key the engine found in the inline
    map's sources (encoding `source-map`, located at the data: URL), inside that source."""
    if m.encoding == INLINE_MAP_ENCODING:
        if fm.map is None or m.secret is None:
            return None
        return content_origin(fm.map, m.secret, bundle, resolve)
    return origin_of(fm, bundle, pos, js, resolve=resolve)


def _content_origins(
    data: bytes, map_path: str, hits: Hits, resolve: Resolve | None = None
) -> tuple[Original | None, ...]:
    """For hits inside a map file: which `sourcesContent` entry holds each (every section's, in
    an index map), and where in it."""
    spans = _content_spans(data)
    if not spans:
        return ()
    try:
        sm = parse(data)
    except SourceMapError:  # not a map keysweep reads (damaged, nested too deep): no origins
        return ()
    out: list[Original | None] = []
    for _m, pos in hits:
        at = pos.byte_offset
        got: Original | None = None
        for start, end in spans:
            if not start < at < end:
                continue
            try:
                before = json.loads(data[start:at].decode("utf-8") + '"')
                whole = json.loads(data[start : end + 1].decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                break
            if whole not in sm.contents:
                break
            line = before.count("\n") + 1
            column = utf16_units(before.rsplit("\n", 1)[-1].encode("utf-8", "surrogatepass")) + 1
            got = Original(
                path=entry_path(sm, sm.contents.index(whole), map_path, resolve), line=line, column=column
            )
            break
        out.append(got)
    return tuple(out)


def _content_spans(data: bytes) -> list[tuple[int, int]]:
    """Byte spans (opening quote, closing quote) of the `sourcesContent` strings of a map file,
    every section's; a `null` entry is an empty span. Scanned as bytes, so offsets match the
    hits' byte offsets."""
    spans: list[tuple[int, int]] = []
    key = data.find(b'"sourcesContent"')
    n = len(data)
    while key >= 0:
        i = data.find(b"[", key)
        while 0 <= i < n:
            j = i + 1
            while j < n and data[j] in b" \t\r\n,":
                j += 1
            if j >= n or data[j : j + 1] == b"]":
                i = j
                break
            if data[j : j + 1] != b'"':  # null
                k = j
                while k < n and data[k : k + 1] not in (b",", b"]"):
                    k += 1
                spans.append((j, j))
                i = k - 1 if data[k : k + 1] == b"]" else k
                continue
            k = j + 1
            while k < n and data[k : k + 1] != b'"':
                k += 2 if data[k : k + 1] == b"\\" else 1
            spans.append((j, k))
            i = k
        key = data.find(b'"sourcesContent"', max(i, key + 1)) if i >= 0 else -1
    return spans
