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

import json
import posixpath
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import unquote

from scanner import watchdog
from scanner.detect.decoders import INLINE_MAP_ENCODING
from scanner.detect.positions import utf16_units
from scanner.detect.sourcemap import (
    SourceMap,
    SourceMapError,
    data_url_payload,
    mapping_url,
    parse,
    resolve_source,
)
from scanner.model import Match, Original, Position
from scanner.skips import UNMAPPED
from scanner.sources.base import Found, Hits, Place, ScanContext, Source, SourceResult

Read = Callable[[str], bytes | None]  # a repository-relative path's bytes, None when absent
MAX_READ = 256 << 20  # a bundle or map larger than this is not paired (detect/sourcemap.py refuses it too)
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
    raw = data_url_payload(url)
    if raw is None:
        return FoundMap(None, "inline", None, "inline source map is not a readable data: URL")
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


def origin_of(found: FoundMap, bundle: str, pos: Position, js: bytes | None = None) -> Original | None:
    """The original position of a hit at `pos` in the bundle, path resolved (repository-relative
    when the source lies inside the repository, as written otherwise).

    A map names where each generated token starts. A hit inside a token (a key inside its string
    literal) is placed as far into the source token only when `sourcesContent` shows the token was
    copied as it is; a token the bundler wrote itself (a `define`d value in place of
    `process.env.X`) points at the source token's start."""
    sm = found.map
    if sm is None:
        return None
    got = sm.original(pos.line, pos.column)
    if got is None or not 0 <= got.source < len(sm.sources):
        return None
    column = got.column
    if got.shift and js is not None and got.source < len(sm.contents):
        column += _copied(js, pos.byte_offset, got.shift, sm.contents[got.source], got.line, got.column)
    return Original(path=_source_path(sm, got.source, found.path or bundle), line=got.line, column=column)


def _source_path(sm: SourceMap, i: int, map_path: str) -> str:
    """`sources[i]` resolved against its own `sourceRoot` (an index map's section's) and the map."""
    root = sm.roots[i] if i < len(sm.roots) else sm.source_root
    return resolve_source(sm.sources[i] if i < len(sm.sources) else "", root, map_path)[0]


def content_origin(sm: SourceMap, secret: str, map_path: str) -> Original | None:
    """Where `secret` first sits in the map's `sourcesContent` (an inline map's hit is located at
    its data: URL; this is the line of source it ships)."""
    for i, text in enumerate(sm.contents):
        at = text.find(secret) if text else -1
        if text and at >= 0:
            before = text[:at]
            line = before.count("\n") + 1
            last = before.rsplit("\n", 1)[-1]
            column = utf16_units(last.encode("utf-8", "surrogatepass")) + 1
            return Original(path=_source_path(sm, i, map_path), line=line, column=column)
    return None


def _copied(js: bytes, offset: int, shift: int, content: str | None, line: int, column: int) -> int:
    """`shift` when the `shift` characters before the hit in the bundle are the source's at the
    token's start, else 0."""
    if not content or shift > 4096:
        return 0
    lines = content.splitlines()
    if not 0 < line <= len(lines):
        return 0
    before = js[max(0, offset - 4 * shift) : offset].decode("utf-8", "replace")[-shift:]
    src = lines[line - 1][column - 1 : column - 1 + shift]
    return shift if before == src else 0


# ----------------------------------------------------------------------------------------------
# origins on a scan's bundle places

Files = Callable[[Place], Read | None]  # the files of the tree a place sits in (None: not readable)


# a bundle place's file as read from its tree: (path, content, its map; None for a map file)
_Bundle = tuple[str, bytes, FoundMap | None]


def add_origins(res: SourceResult, files: Files) -> None:
    """Give every hit at a bundle place the original position its source map gives; a hit inside
    a map file's `sourcesContent` gets its position inside that source. Each place reads its own
    tree (a commit's map for a commit's bundle); a bundle and its map are read and parsed once
    for all the texts found in it, so the map's decoded lines serve every one of them."""
    read_once: dict[tuple[bytes | None, bytes], _Bundle | None] = {}
    for found in res.founds:
        if any(p.bundle for p in found.places):
            found.places = [_with_origins(found, p, files, read_once) for p in found.places]
    for path, _data, fm in (b for b in read_once.values() if b is not None):
        if fm is not None and fm.map is not None and fm.map.exhausted:
            res.skip(
                UNMAPPED,
                f"{path}: its source map is too long to decode as far as every hit (some have no origin)",
            )


def _bundle(place: Place, files: Files) -> _Bundle | None:
    read = files(place)
    if read is None:
        return None
    path = place.path.decode("utf-8", "surrogateescape")
    data = read(path)
    if data is None:
        return None
    if path.endswith(".map"):
        return path, data, None
    fm = find_map(path, data, read)
    return (path, data, fm) if fm is not None and fm.map is not None else None


def _with_origins(
    found: Found, place: Place, files: Files, read_once: dict[tuple[bytes | None, bytes], _Bundle | None]
) -> Place:
    if not place.bundle or place.origins:
        return place
    key = (place.commit, place.path)
    # a stall here names the bundle whose map is being read and decoded, not the last object read
    with watchdog.doing(f"reading the source map of {place.path.decode('utf-8', 'replace')}"):
        if key not in read_once:
            read_once[key] = _bundle(place, files)
        got = read_once[key]
        if got is None:
            return place
        path, data, fm = got
        if fm is None:
            origins = _content_origins(data, path, found.hits)
        else:
            origins = tuple(_origin(fm, path, m, pos, data) for m, pos in found.hits)
    return replace(place, origins=origins) if any(origins) else place


def _origin(fm: FoundMap, bundle: str, m: Match, pos: Position, js: bytes) -> Original | None:
    """A bundle hit's origin: through the mappings, or, for a key the engine found in the inline
    map's sources (encoding `source-map`, located at the data: URL), inside that source."""
    if m.encoding == INLINE_MAP_ENCODING:
        if fm.map is None or m.secret is None:
            return None
        return content_origin(fm.map, m.secret, bundle)
    return origin_of(fm, bundle, pos, js)


def _content_origins(data: bytes, map_path: str, hits: Hits) -> tuple[Original | None, ...]:
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
                path=_source_path(sm, sm.contents.index(whole), map_path), line=line, column=column
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


class WithOrigins:
    """A source whose bundle places get their source-map origins (after ClientOutput judged them)."""

    def __init__(self, inner: Source, files: Files) -> None:
        self.inner = inner
        self.files = files

    def scan(self, ctx: ScanContext) -> SourceResult:
        res = self.inner.scan(ctx)
        add_origins(res, self.files)
        return res


def disk_files(root: bytes) -> Files:
    """Files of the working tree or a directory: every place reads under `root` (symlinks refused)."""
    import os

    def read(path: str) -> bytes | None:
        full = os.path.join(root, os.fsencode(path))
        try:
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            return None
        with os.fdopen(fd, "rb") as f:
            return f.read() if os.fstat(f.fileno()).st_size <= MAX_READ else None

    return lambda _place: read


def commit_files(repo: object) -> Files:
    """Files of the commit a place is attributed to (a history, tree or range place), read through
    the git layer: a commit's bundle is paired with that commit's map."""
    import pygit2

    from scanner.git.objects import parse_commit
    from scanner.git.repo import read_raw
    from scanner.git.trees import lookup

    assert isinstance(repo, pygit2.Repository)
    trees: dict[bytes, bytes | None] = {}

    def tree_of(commit: bytes) -> bytes | None:
        if commit not in trees:
            try:
                trees[commit] = parse_commit(read_raw(repo, commit)[1])[0].tree
            except (pygit2.GitError, KeyError, ValueError, OSError, IndexError):
                trees[commit] = None
        return trees[commit]

    def files(place: Place) -> Read | None:
        if place.commit is None:
            return None
        tree = tree_of(place.commit)
        if tree is None:
            return None

        def read(path: str) -> bytes | None:
            blob, _ok = lookup(repo, tree, path.encode("utf-8", "surrogateescape"))
            if blob is None:
                return None
            try:
                data = read_raw(repo, blob)[1]
            except (pygit2.GitError, KeyError, ValueError, OSError):
                return None
            return data if len(data) <= MAX_READ else None

        return read

    return files
