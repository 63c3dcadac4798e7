"""Finding a bundle's source map as browsers and debuggers do, and what the map adds to a scan.

- An external map named by the bundle's `sourceMappingURL` comment, resolved against the bundle's
  own directory; a hidden map beside the bundle with no comment (`X.js.map`); an inline
  `data:application/json;base64,` map. A URL with a scheme or host is recorded, never fetched.
- Every hit in generated code gets the `Original` position the map gives (detect/sourcemap.py).
- Every `sourcesContent` entry is scanned as a virtual file: a key that tree-shaking dropped from
  the bundle is still served to anyone who asks for the map.

Where the files come from (a directory on disk, a commit's tree) is the caller's: it passes
`read(path) -> bytes | None` for repository-relative paths, so the same logic serves the working
tree, HEAD and every commit of the history.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from scanner.detect.engine import Matcher
from scanner.detect.positions import LineIndex
from scanner.detect.sourcemap import SourceMap, SourceMapError, mapping_url, parse, resolve_source
from scanner.model import Original, Position
from scanner.sources.base import Hits

Read = Callable[[str], bytes | None]  # a repository-relative path's bytes, None when absent
_DATA_PREFIX = "data:application/json"


@dataclass(frozen=True, slots=True)
class FoundMap:
    """A bundle's map: where it was found (`path` None for an inline map) and the map itself."""

    path: str | None
    how: str  # "comment", "beside" or "inline"
    map: SourceMap | None  # None: named but unreadable or not a map (see `problem`)
    problem: str | None = None  # why there is no map (a remote URL, a damaged map), for the report


def find_map(bundle: str, js: bytes, read: Read) -> FoundMap | None:
    """The map of the bundle at repository-relative `bundle` with content `js`, or None."""
    url = mapping_url(js)
    if url is not None:
        if url.startswith(_DATA_PREFIX):
            return _inline(url)
        if "://" in url or url.startswith("//"):
            return FoundMap(None, "comment", None, f"remote source map not fetched: {url[:200]}")
        target = posixpath.normpath(posixpath.join(posixpath.dirname(bundle), unquote(url.split("?")[0])))
        if target.startswith("../") or target == ".." or posixpath.isabs(target):
            return FoundMap(None, "comment", None, "source map outside the repository not read")
        return _load(target, "comment", read)
    beside = bundle + ".map"
    data = read(beside)
    if data is None:
        return None
    return _parsed(beside, "beside", data)


def _inline(url: str) -> FoundMap:
    head, _, payload = url.partition(",")
    try:
        raw = (
            base64.b64decode(payload, validate=False)
            if head.endswith(";base64")
            else unquote(payload).encode()
        )
    except (binascii.Error, ValueError):
        return FoundMap(None, "inline", None, "inline source map is not valid base64")
    return _parsed(None, "inline", raw)


def _load(path: str, how: str, read: Read) -> FoundMap:
    data = read(path)
    if data is None:
        return FoundMap(path, how, None, f"source map {path} is named but absent")
    return _parsed(path, how, data)


def _parsed(path: str | None, how: str, data: bytes) -> FoundMap:
    try:
        return FoundMap(path, how, parse(data))
    except SourceMapError as e:
        return FoundMap(path, how, None, f"not a readable source map ({e})")


def origin_of(found: FoundMap, bundle: str, pos: Position) -> Original | None:
    """The original position of a hit at `pos` in the bundle, path resolved (repository-relative
    when the source lies inside the repository, as written otherwise)."""
    sm = found.map
    if sm is None:
        return None
    got = sm.original(pos.line, pos.column)
    if got is None or not 0 <= got.source < len(sm.sources):
        return None
    map_path = found.path or bundle
    path, _inside = resolve_source(sm.sources[got.source], sm.source_root, map_path)
    return Original(path=path, line=got.line, column=got.column)


@dataclass(frozen=True, slots=True)
class ContentHit:
    """Matches inside one `sourcesContent` entry: the source's resolved path and its hits, with
    positions inside that source (the map file's own position is the caller's to give)."""

    source: str
    hits: Hits


def scan_contents(found: FoundMap, bundle: str, matcher: Matcher) -> list[ContentHit]:
    """Every `sourcesContent` entry scanned as the file it was (JSON escapes already undone by
    the parser); positions are inside that source."""
    sm = found.map
    if sm is None:
        return []
    out: list[ContentHit] = []
    map_path = found.path or bundle
    for i, text in enumerate(sm.contents):
        if not text:
            continue
        data = text.encode("utf-8", "surrogatepass")
        found_here = matcher.scan(data)
        if not found_here:
            continue
        index = LineIndex(data)
        hits = tuple((m, index.position(m.start, m.end)) for m in found_here)
        path, _inside = resolve_source(sm.sources[i] if i < len(sm.sources) else "", sm.source_root, map_path)
        out.append(ContentHit(path, hits))
    return out
