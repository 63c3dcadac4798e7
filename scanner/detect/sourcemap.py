"""Source maps (revision 3, ECMA-426): parse a map, find the original position of a generated one,
and resolve its `sources` names. Pure: text in, positions out; nothing is ever opened or fetched.

A map's `mappings` can be megabytes; only the generated lines a finding sits on are decoded
(`str.split` cuts the lines in C; a line's segments are decoded on first use and kept). Lines and
columns of a map are 0-based, columns in UTF-16 code units; what this module returns is 1-based,
as keysweep's positions are. Hostile input (invalid JSON, bad VLQ, indexes out of range, nested
index maps, absurd sizes) yields "no origin", never an exception.
"""

from __future__ import annotations

import base64
import binascii
import json
import posixpath
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

MAX_MAP_BYTES = 256 << 20  # a map larger than this is not parsed (a bundler writes far less)
MAX_SECTIONS = 10_000
_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_BUNDLER_SCHEMES = ("webpack://", "webpack-internal://", "turbopack://", "rollup://", "vite://", "ng://")


class SourceMapError(ValueError):
    """Not a source map keysweep can read (the caller records it and goes on)."""


@dataclass(frozen=True, slots=True)
class Origin:
    """Where generated code came from: a `sources` entry (as written and resolved), 1-based."""

    source: int  # index into the map's `sources`
    line: int
    column: int  # where the mapped token starts in the source
    name: str | None = None  # the `names` entry of the segment (the identifier, when the bundler kept it)
    shift: int = 0  # how far into the generated token the asked column is (UTF-16 units)


@dataclass(slots=True)
class _Flat:
    """One map without sections: its sources and its `mappings`, walked only as far as hits need.

    `mappings` stays one string (no list of lines, no list of segments: a 256 MB map of 10^7
    segments on one line would take gigabytes). Each generated line's start offset and the VLQ
    state there (source, line, column, name run on across lines) are found once, in order; within
    a line, a checkpoint every `_CHECK` segments lets the next hit resume near its column."""

    sources: list[str]
    contents: list[str | None]
    names: list[str]
    source_root: str
    mappings: str
    line_pos: list[int] = field(default_factory=lambda: [0])  # where each line found so far starts
    starts: list[tuple[int, int, int, int]] = field(default_factory=lambda: [(0, 0, 0, 0)])
    # per line: (segment's generated column, its offset, generated column before it, state before it)
    checks: dict[int, list[tuple[int, int, int, tuple[int, int, int, int]]]] = field(default_factory=dict)
    walked: int = 0  # segments decoded so far (the budget is MAX_SEGMENTS)
    reached: int = -1  # the furthest chunk start in `mappings` counted in `walked`


@dataclass(slots=True)
class SourceMap:
    """A parsed map: flat, or an index map of sections (each with its generated offset)."""

    sections: list[tuple[int, int, _Flat]]  # (generated line, column, map), sorted
    source_offsets: list[int]  # index of each section's first source in `sources`
    sources: list[str]  # every section's sources, in order
    contents: list[str | None]
    source_root: str = ""
    roots: list[str] = field(default_factory=list)  # each source's `sourceRoot` (index maps: its section's)

    @property
    def exhausted(self) -> bool:
        """Whether a lookup gave up: the map has more segments than MAX_SEGMENTS before a hit."""
        return any(flat.walked > MAX_SEGMENTS for _l, _c, flat in self.sections)

    def original(self, line: int, column: int) -> Origin | None:
        """The origin of generated 1-based (line, column), None when the map says nothing there."""
        gl, gc = line - 1, column - 1
        keys = [(sl, sc) for sl, sc, _ in self.sections]
        k = bisect_right(keys, (gl, gc)) - 1
        if k < 0:
            return None
        sl, sc, flat = self.sections[k]
        rel_line = gl - sl
        rel_col = gc - sc if rel_line == 0 else gc
        got = _lookup(flat, rel_line, rel_col)
        if got is None:
            return None
        src, oline, ocol, name, shift = got
        return Origin(self.source_offsets[k] + src, oline + 1, ocol + 1, name, shift)


def parse(text: str | bytes) -> SourceMap:
    """A source map from its JSON text; SourceMapError when it is not one."""
    if len(text) > MAX_MAP_BYTES:
        raise SourceMapError("source map over the size limit")
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise SourceMapError(f"not JSON: {type(e).__name__}") from None
    if not isinstance(doc, dict):
        raise SourceMapError("not a JSON object")
    if "sections" in doc:
        return _index_map(doc)
    flat = _flat(doc)
    roots = [flat.source_root] * len(flat.sources)
    return SourceMap([(0, 0, flat)], [0], flat.sources, flat.contents, flat.source_root, roots)


def _index_map(doc: dict[str, object]) -> SourceMap:
    sections = doc.get("sections")
    if not isinstance(sections, list) or len(sections) > MAX_SECTIONS:
        raise SourceMapError("bad sections")
    out: list[tuple[int, int, _Flat]] = []
    for sec in sections:
        if not isinstance(sec, dict):
            raise SourceMapError("bad section")
        off = sec.get("offset")
        inner = sec.get("map")
        if not isinstance(off, dict) or not isinstance(inner, dict) or "sections" in inner:
            raise SourceMapError("bad section (a `url` section or a nested index map is not read)")
        line, col = off.get("line"), off.get("column")
        if not isinstance(line, int) or not isinstance(col, int) or line < 0 or col < 0:
            raise SourceMapError("bad section offset")
        out.append((line, col, _flat(inner)))
    out.sort(key=lambda s: (s[0], s[1]))
    offsets: list[int] = []
    sources: list[str] = []
    contents: list[str | None] = []
    roots: list[str] = []
    for _l, _c, flat in out:
        offsets.append(len(sources))
        sources.extend(flat.sources)
        contents.extend(flat.contents)
        roots.extend([flat.source_root] * len(flat.sources))
    return SourceMap(out, offsets, sources, contents, "", roots)


def _flat(doc: dict[str, object]) -> _Flat:
    if doc.get("version") not in (3, "3"):
        raise SourceMapError("not version 3")
    mappings = doc.get("mappings")
    if not isinstance(mappings, str):
        raise SourceMapError("no mappings")
    raw_sources = doc.get("sources") or []
    if not isinstance(raw_sources, list):
        raise SourceMapError("bad sources")
    sources = [s if isinstance(s, str) else "" for s in raw_sources]
    raw_contents = doc.get("sourcesContent") or []
    contents: list[str | None] = (
        [c if isinstance(c, str) else None for c in raw_contents] if isinstance(raw_contents, list) else []
    )
    contents = (contents + [None] * len(sources))[: len(sources)]
    raw_names = doc.get("names") or []
    names = [n if isinstance(n, str) else "" for n in raw_names] if isinstance(raw_names, list) else []
    root = doc.get("sourceRoot")
    return _Flat(sources, contents, names, root if isinstance(root, str) else "", mappings)


def _vlq(segment: str) -> list[int] | None:
    """The signed values of one segment, None when it is not valid base64 VLQ."""
    out: list[int] = []
    value = shift = 0
    for ch in segment:
        digit = _B64.get(ch)
        if digit is None:
            return None
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
            if shift > 60:
                return None
            continue
        out.append(-(value >> 1) if value & 1 else value >> 1)
        value = shift = 0
    return None if shift else out


MAX_SEGMENTS = 60_000_000  # segments decoded per map at most (a bundler's 256 MB map has fewer)
_CHUNK = 1 << 16  # characters of `mappings` split at a time (a checkpoint at each)
_MEMO_MAX = 1 << 18
# segment text → (generated column, source, line, column, name deltas, fields): segments repeat
# (small deltas), so most are a dict lookup; fields 0 is an empty or invalid segment (no effect)
_Vals = tuple[int, int, int, int, int, int]
_memo: dict[str, _Vals] = {}
_NOTHING: _Vals = (0, 0, 0, 0, 0, 0)
# the same five deltas packed in one int, 64 bits a field, each biased to be positive, and a sixth
# field counting invalid segments: one C-level sum() over a chunk's segments adds all five up
_LANE, _BIAS, _SMALL = 64, 1 << 24, 1 << 20
_MASK = (1 << _LANE) - 1
_packed: dict[str, int] = {}


class _Exhausted(Exception):
    pass


def _values(seg: str) -> _Vals:
    got = _memo.get(seg)
    if got is None:
        v = _vlq(seg) if seg else None
        if v is None or len(v) not in (1, 4, 5):
            got = _NOTHING
        else:
            k = len(v)
            v += [0] * (5 - k)
            got = (v[0], v[1], v[2], v[3], v[4], k)
        if len(_memo) < _MEMO_MAX:
            _memo[seg] = got
            if all(-_SMALL < x < _SMALL for x in got[:5]):
                _packed[seg] = sum((x + _BIAS) << (_LANE * i) for i, x in enumerate(got[:5])) + (
                    (0 if got[5] else 1) << (_LANE * 5)
                )
    return got


def _sums(segs: list[str]) -> tuple[int, int, int, int, int] | None:
    """The five deltas of `segs` added up; None when one is invalid or not packable."""
    try:
        total = sum(map(_packed.__getitem__, segs))
    except KeyError:
        for seg in segs:
            _values(seg)
        try:
            total = sum(map(_packed.__getitem__, segs))
        except KeyError:  # the memo is full, or a delta is huge: the caller walks them
            return None
    if total >> (_LANE * 5):
        return None  # an invalid segment: walked one by one
    n = len(segs) * _BIAS
    g, s, line, c, nm = (((total >> (_LANE * i)) & _MASK) - n for i in range(5))
    return g, s, line, c, nm


Seg = tuple[int, int, int, int, int]  # generated column, source, line, column, name (-1: none)
State = tuple[int, int, int, int]


def _walk(
    flat: _Flat, line: int, pos: int, end: int, gcol: int, state: State, col: int | None
) -> tuple[Seg | None, State]:
    """Decode segments of `line` from offset `pos` (generated column `gcol`, VLQ `state` there)
    to `end`, or until a segment lies past `col`: the last segment at or before `col`, and the
    state at the end. A chunk that ends before `col` is summed in C (the segments' fields added
    up) and leaves a checkpoint; only the chunk that holds `col` is walked segment by segment.
    Segments are taken as written, in generated-column order (every bundler writes them so)."""
    m = flat.mappings
    src, ol, oc, nm = state
    best: Seg | None = None
    checks = flat.checks.setdefault(line, []) if col is not None else None
    while pos < end:
        cut = end
        if end - pos > _CHUNK:
            c = m.rfind(",", pos, pos + _CHUNK)
            cut = c if c > pos else end
        segs = m[pos:cut].split(",")
        if pos > flat.reached:  # new ground: a hit resuming at a checkpoint re-reads a chunk for free
            flat.reached = pos
            flat.walked += len(segs)
            if flat.walked > MAX_SEGMENTS:
                raise _Exhausted
        sums = _sums(segs)
        if checks is not None and (not checks or checks[-1][1] < pos):
            first = _values(segs[0])[0] if segs else 0
            checks.append((gcol + first, pos, gcol, (src, ol, oc, nm)))
        if sums is not None and (col is None or gcol + sums[0] <= col):
            gcol += sums[0]
            src, ol, oc, nm = src + sums[1], ol + sums[2], oc + sums[3], nm + sums[4]
            last = _values(segs[-1])[5]
            best = (gcol, -1, 0, 0, -1) if last == 1 else (gcol, src, ol, oc, nm if last == 5 else -1)
        else:
            for seg in segs:
                v = _values(seg)
                kind = v[5]
                if not kind:
                    continue
                ng = gcol + v[0]
                if col is not None and ng > col:
                    return best, (src, ol, oc, nm)
                gcol = ng
                if kind == 1:
                    best = (gcol, -1, 0, 0, -1)  # mapped to nothing: generated-only code
                    continue
                src, ol, oc, nm = src + v[1], ol + v[2], oc + v[3], nm + v[4]
                best = (gcol, src, ol, oc, nm if kind == 5 else -1)
        pos = cut + 1
    return best, (src, ol, oc, nm)


def _line(flat: _Flat, line: int) -> tuple[int, int] | None:
    """(start, end) offsets of generated `line` in `mappings`, None past the last line."""
    m, pos = flat.mappings, flat.line_pos
    while len(pos) <= line + 1:
        last = pos[-1]
        if last > len(m):
            return None
        nxt = m.find(";", last)
        pos.append(len(m) + 1 if nxt < 0 else nxt + 1)
    if pos[line] > len(m):
        return None
    return pos[line], pos[line + 1] - 1


def _lookup(flat: _Flat, line: int, col: int) -> tuple[int, int, int, str | None, int] | None:
    if line < 0 or col < 0:
        return None
    try:
        bounds = _line(flat, line)
        if bounds is None:
            return None
        while len(flat.starts) <= line:  # the state at each line's start: every line before, once
            k = len(flat.starts) - 1
            b = _line(flat, k)
            assert b is not None
            flat.starts.append(_walk(flat, k, b[0], b[1], 0, flat.starts[k], None)[1])
        pos, gcol, state = bounds[0], 0, flat.starts[line]
        checks = flat.checks.get(line)
        if checks:
            k = bisect_right(checks, col, key=lambda c: c[0]) - 1
            if k >= 0:
                _g, pos, gcol, state = checks[k]
        best, _ = _walk(flat, line, pos, bounds[1], gcol, state, col)
    except _Exhausted:
        return None
    if best is None:
        return None
    gc, src, oline, ocol, nm = best
    if src < 0 or src >= len(flat.sources) or oline < 0 or ocol < 0:
        return None
    name = flat.names[nm] if 0 <= nm < len(flat.names) else None
    return src, oline, ocol, name, col - gc


def resolve_source(name: str, source_root: str, map_path: str) -> tuple[str, bool]:
    """(path, inside) for a `sources` entry: bundler schemes normalised (`webpack:///./src/a.ts`,
    `webpack://app/./src/a.ts` → `src/a.ts`), relative names joined to `sourceRoot` and the map's
    directory, so a path that lands inside the repository comes back repository-relative with
    `inside` True; a URL with a host, an absolute path or one that climbs out comes back as
    written. A name is only ever a name: nothing is opened."""
    for scheme in _BUNDLER_SCHEMES:
        if name.startswith(scheme):
            rest = name[len(scheme) :]
            rest = rest.split("/", 1)[1] if not rest.startswith("/") and "/" in rest else rest.lstrip("/")
            rest = rest.split("?", 1)[0]
            norm = posixpath.normpath(rest) if rest else ""
            if norm and not norm.startswith("..") and not posixpath.isabs(norm) and norm != ".":
                return norm, True
            return name, False
    if _SCHEME.match(name) or name.startswith("/"):
        return name, False
    joined = name
    if source_root and not _SCHEME.match(source_root) and not source_root.startswith("/"):
        joined = posixpath.join(source_root, name)
    elif source_root:
        return (source_root.rstrip("/") + "/" + name), False
    base = posixpath.dirname(map_path)
    norm = posixpath.normpath(posixpath.join(base, joined))
    if norm.startswith("../") or norm == ".." or posixpath.isabs(norm):
        return name, False
    return norm, True


_URL_KEY = b"sourceMappingURL="
_COMMENT_OPEN = re.compile(rb"(?://|/\*)[@#][ \t]+$")  # just before the key: `//# `, `/*# `, `//@ `
_URL_BODY = re.compile(rb"[^\s'\"*]*")
_URL_REST = re.compile(rb"[ \t]*(?:\*/)?[ \t]*(?:\r\n|\r|\n|$)")
_TRIES = 16  # mentions of the key looked at, from the end (an inline map's text may hold some)
MAX_INLINE_URL = MAX_MAP_BYTES * 4 // 3 + 64  # a base64 inline map of MAX_MAP_BYTES


def mapping_url_span(js: bytes) -> tuple[int, int] | None:
    """Byte span of the URL of a bundle's last `//# sourceMappingURL=` (or `/*# … */`) comment,
    wherever the bundler wrote it: the last line however long (an inline map is hundreds of KB of
    base64 on it), after code on that line, or before lines a tool appended (`//# debugId=`).
    A mention that is not such a comment (inside a string, inside an inline map's own text) is
    passed over."""
    k = len(js)
    for _ in range(_TRIES):
        k = js.rfind(_URL_KEY, 0, k)
        if k < 0:
            return None
        start = k + len(_URL_KEY)
        if _COMMENT_OPEN.search(js, max(0, k - 8), k) is None:
            continue
        body = _URL_BODY.match(js, start)
        end = body.end() if body is not None else start
        if end > start and _URL_REST.match(js, end) is not None:
            return start, end
    return None


def mapping_url(js: bytes) -> str | None:
    """The URL of the bundle's `sourceMappingURL` comment, as written (see `mapping_url_span`)."""
    span = mapping_url_span(js)
    if span is None:
        return None
    try:
        return js[span[0] : span[1]].decode("ascii")
    except UnicodeDecodeError:
        return None


def data_url_payload(url: str | bytes) -> bytes | None:
    """The bytes of a `data:application/json[;charset=…][;base64],…` URL; None when it is not one
    or does not decode."""
    raw = url.encode("ascii", "replace") if isinstance(url, str) else url
    if not raw.startswith(b"data:application/json") or len(raw) > MAX_INLINE_URL:
        return None
    head, comma, payload = raw.partition(b",")
    if not comma:
        return None
    try:
        if head.endswith(b";base64"):
            return base64.b64decode(payload, validate=False)
        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        return None


def inline_contents(js: bytes) -> tuple[int, int, list[tuple[int, str]]] | None:
    """(URL start, URL end, [(source index, text)]) of the `sourcesContent` of a bundle's inline
    map (a data: URL in its comment; flat or index map), None when it has none. What a browser
    gets with the bundle: a key only there (a source comment, an export tree-shaking dropped)
    ships too."""
    span = mapping_url_span(js)
    if span is None or not js.startswith(b"data:", span[0]):
        return None
    raw = data_url_payload(js[span[0] : span[1]])
    if raw is None:
        return None
    try:
        sm = parse(raw)
    except SourceMapError:
        return None
    texts = [(i, c) for i, c in enumerate(sm.contents) if c]
    return (span[0], span[1], texts) if texts else None
