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

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from scanner.detect.positions import utf16_units
from scanner.detect.sourcemap import (
    SourceMap,
    SourceMapError,
    data_url_payload,
    mapping_url,
    parse,
)
from scanner.model import Original, Position

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
    path = entry_path(sm, got.source, found.path or bundle, resolve, project)
    return Original(path=path, line=got.line, column=column)


def entry_path(
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
            return Original(path=entry_path(sm, i, map_path, resolve), line=line, column=column)
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
