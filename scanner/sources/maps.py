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


def origin_of(
    found: FoundMap,
    bundle: str,
    pos: Position,
    js: bytes | None = None,
    project: str | None = None,
    resolve: Resolve | None = None,
) -> Original | None:
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
    path = _source_path(sm, got.source, found.path or bundle, resolve, project)
    return Original(path=path, line=got.line, column=column)


def _source_path(
    sm: SourceMap, i: int, map_path: str, resolve: Resolve | None = None, project: str | None = None
) -> str:
    """`sources[i]` resolved against its own `sourceRoot` (an index map's section's) and the map,
    with the bundlers' naming schemes (`source_path`, or a `resolver` that sees the files)."""
    root = sm.roots[i] if i < len(sm.roots) else sm.source_root
    name = sm.sources[i] if i < len(sm.sources) else ""
    return resolve(name, root, map_path) if resolve else source_path(name, root, map_path, project)


def content_origin(
    sm: SourceMap, secret: str, map_path: str, resolve: Resolve | None = None
) -> Original | None:
    """Where `secret` first sits in the map's `sourcesContent` (an inline map's hit is located at
    its data: URL; this is the line of source it ships)."""
    for i, text in enumerate(sm.contents):
        at = text.find(secret) if text else -1
        if text and at >= 0:
            before = text[:at]
            line = before.count("\n") + 1
            last = before.rsplit("\n", 1)[-1]
            column = utf16_units(last.encode("utf-8", "surrogatepass")) + 1
            return Original(path=_source_path(sm, i, map_path, resolve), line=line, column=column)
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
                path=_source_path(sm, sm.contents.index(whole), map_path, resolve), line=line, column=column
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

    def __init__(self, inner: Source, files: Files, context: str = "") -> None:
        self.inner = inner
        self.files = files
        self.context = context

    def scan(self, ctx: ScanContext) -> SourceResult:
        res = self.inner.scan(ctx)
        add_origins(res, self.files, self.context)
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


# ----------------------------------------------------------------------------------------------
# source URLs → paths (the bundlers' naming schemes)

# schemes whose path is relative to the bundler's project (webpack's `context`, Turbopack's
# `[project]`), after an optional namespace segment (`webpack://my-app/./src/a.ts`)
_PROJECT_SCHEMES = ("webpack://", "webpack-internal://", "turbopack://", "rollup://", "vite://", "ng://")
_PARCEL_ROOT = "/__parcel_source_root"  # Parcel's sourceRoot: sources are project-relative
_TURBOPACK_PROJECT = "[project]/"


def _project_relative(name: str) -> str | None:
    """The project-relative path a bundler scheme names, or None (not a scheme of a project file:
    a runtime (`[turbopack]/…`, `webpack/bootstrap`), an absolute or a climbing path)."""
    for scheme in _PROJECT_SCHEMES:
        if not name.startswith(scheme):
            continue
        rest = name[len(scheme) :].split("?", 1)[0]
        if rest.startswith("/"):  # `webpack:///./src/a.ts`, `turbopack:///[project]/a.ts`
            rest = rest[1:]
            if rest.startswith("/"):
                return None  # an absolute path (`webpack:////home/…`): not the project's name for it
        elif "/" in rest:  # `webpack://namespace/./src/a.ts`
            first, rest = rest.split("/", 1)
            if first.startswith("["):
                rest = first + "/" + rest
        else:
            return None
        if rest.startswith(_TURBOPACK_PROJECT):
            rest = rest[len(_TURBOPACK_PROJECT) :]
        elif rest.startswith("["):
            return None  # Turbopack's own runtime (`[turbopack]/…`, `[next]/…`)
        norm = posixpath.normpath(rest) if rest else "."
        if norm in (".", "..") or norm.startswith("../") or posixpath.isabs(norm):
            return None
        return norm
    return None


def source_path(name: str, source_root: str, map_path: str, project: str | None = None) -> str:
    """The path, relative to the scan root, of a map's `sources` entry: bundler schemes
    (`webpack://app/./src/a.ts`, `turbopack:///[project]/app/a.tsx`, Parcel's
    `/__parcel_source_root/`) name it from the project folder (`project`, relative to the scan
    root: `''`, `site`, or `..` when the scan root is the project's `dist`); relative names (Vite,
    Rollup, esbuild, Bun) from the map's own folder and `sourceRoot`, climbing at most to the
    project. A URL with a host, an absolute path, a runtime module or a path that climbs out of
    the project comes back as written. A name is only ever a name: nothing is opened."""
    if project is None:
        project = ""
    ups = len([s for s in project.split("/") if s == ".."])
    rel = _project_relative(name)
    if rel is None and source_root.rstrip("/") == _PARCEL_ROOT and not _is_url(name):
        rel = posixpath.normpath(name.lstrip("/"))
        rel = None if rel.startswith("..") else rel
    if rel is not None:
        return posixpath.normpath(posixpath.join(project, rel)) if project else rel
    if any(name.startswith(s) for s in _PROJECT_SCHEMES) or _is_url(name) or name.startswith("/"):
        return name
    joined = name
    if source_root:
        if _is_url(source_root) or source_root.startswith("/"):
            return source_root.rstrip("/") + "/" + name
        joined = posixpath.join(source_root, name)
    norm = posixpath.normpath(posixpath.join(posixpath.dirname(map_path), joined))
    climbs = 0
    for seg in norm.split("/"):
        if seg != "..":
            break
        climbs += 1
    if climbs > ups or posixpath.isabs(norm):
        return name
    return norm


def _is_url(name: str) -> bool:
    return "://" in name or (len(name) > 1 and name[0].isalpha() and ":" in name.split("/", 1)[0])


Resolve = Callable[[str, str, str], str]  # (source name, sourceRoot, map path) → path


def resolver(read: Read, project: str) -> Resolve:
    """`source_path` with the files at hand: a relative name that names no file from the map's
    folder is looked for from each folder above it (Parcel names sources from its project root —
    the folder of the lockfile or repository — with no `sourceRoot`, against the spec), and kept
    as resolved when none holds it; a name that does not climb (`src/a.js`) is the project's
    when the project is above the scan root. Only paths inside the scan root are looked at; one
    look per name."""
    memo: dict[tuple[str, str, str], str] = {}

    def exists(path: str) -> bool:
        return (
            not (path.startswith("../") or path == ".." or posixpath.isabs(path)) and read(path) is not None
        )

    def resolve(name: str, source_root: str, map_path: str) -> str:
        key = (name, source_root, map_path)
        if key in memo:
            return memo[key]
        path = source_path(name, source_root, map_path, project)
        plain = (
            not source_root
            and not _is_url(name)
            and not name.startswith("/")
            and _project_relative(name) is None
        )
        if plain and not exists(path):
            found = None
            d = posixpath.dirname(map_path)
            while d and found is None:
                d = posixpath.dirname(d)
                cand = posixpath.normpath(posixpath.join(d, name)) if d else posixpath.normpath(name)
                found = cand if exists(cand) else None
            if found is None and project.startswith("..") and not name.startswith("."):
                found = posixpath.normpath(posixpath.join(project, name))  # the project is above the root
            path = found or path
        memo[key] = path
        return path

    return resolve


def project_of(map_path: str, read: Read, context: str = "") -> str:
    """The project folder a map's bundler-scheme sources are named from, relative to the scan
    root: the nearest folder above the map with a `package.json` (not itself build output: Next's
    standalone and library builds copy one into `dist/`) or a repository's `.git/HEAD`, else the
    folder that holds the build-output folder the map is in (`app` for `app/dist/x.js.map`), else
    the project the scan root sits in (`context`: the root's path inside it, `dist` → `..`)."""
    from scanner.sources.bundles import BUILD_ROOTS, _occurs_any, output_parent

    d = posixpath.dirname(map_path)
    while True:
        for marker in ("package.json", ".git/HEAD"):
            at = posixpath.join(d, marker) if d else marker
            if not _occurs_any(at.encode("utf-8", "surrogateescape"), BUILD_ROOTS) and read(at) is not None:
                return d
        if not d:
            break
        d = posixpath.dirname(d)
    if context:
        return "/".join([".."] * len(context.split("/")))
    parent = output_parent(map_path.encode("utf-8", "surrogateescape"))
    return parent.decode("utf-8", "surrogateescape") if parent is not None else ""
