"""The history cache (`--cache DIR`, ARCHITECTURE.md §5): what a full sweep learnt, minus secrets.

One file per (keysweep version, ruleset hash, config hash, repository, PATH), holding

- the repository state it describes (a digest of pack names and sizes, loose object ids, ref
  tips, HEAD, the shallow list and the index): when it is unchanged, the sweep's result is reused;
- the result (`CachedResult`): the places of every matched text and the provenance of every
  secret, keyed by the SHA-256 of the secret (never the secret itself);
- the sweep's intermediate state (`SweepTables`): every object id by kind, commit and tag headers,
  which blobs and messages matched (ids only), unreadable ids and the trees that lead to matched
  blobs — when objects were added, only the new ones are read.

The file is a typed, versioned container (`FORMAT`): a magic line, the format number, a JSON
header (key, state, and each section's length and CRC-32), then the sections — JSON for the result
and the small tables, raw id arrays and little-endian integer arrays for the large ones. Each
section is checked and parsed field by field when it is first needed (an unchanged repository
never reads the tables). A missing, damaged, foreign or older file is ignored and the reason is
kept (`HistoryCache.found`, `USES`): the sweep then reads everything, it never trusts or crashes
on it. The cache is no code, but it is still trusted for completeness: a cache that lies about
which objects were read can hide a secret, so keep it where only the same repository's CI writes.
"""

from __future__ import annotations

import hashlib
import json
import struct
import sys
import zlib
from array import array
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scanner.model import Original, Provenance, Skip
from scanner.paths import write_atomic
from scanner.state.codec import encode_original, encode_provenance, parse_original, parse_provenance
from scanner.state.reader import Fields, Invalid, parse_json

FORMAT = 4  # 4: places say whether HEAD holds them (`Place.at_head`); 3: a typed container instead of a pickle; 2: secrets keyed by model.secret_id
MAGIC = b"keysweep history cache\n"
_HEAD = struct.Struct("<II")  # format, header length

# (name, email, time) of a commit's author or committer, or a tag's tagger
Sig = tuple[str, str, int]
# tree, parents, author name, email, time, committer name, email, time
CommitRow = tuple[bytes, tuple[bytes, ...], str, str, int, str, str, int]
# target, target type, name, tagger
TagRow = tuple[bytes, int, bytes, Sig | None]


class CacheDamaged(ValueError):
    """A section that is not what the header says: the cache is ignored."""


def cache_key(*parts: object) -> str:
    h = hashlib.sha256()
    for p in (FORMAT, *parts):
        h.update(repr(p).encode("utf-8", "backslashreplace"))
        h.update(b"\x00")
    return h.hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class CacheUse:
    """What a sweep made of its cache file, for the log (the Action says it: a cache that is
    never found, or never reused, should not go unnoticed)."""

    found: str  # "found", or why not: "no cache file", "damaged", "made for another …"
    reused: str  # how much of it was reused: "all of it …", "N of M objects …", "none: …"

    @property
    def ignored(self) -> bool:
        """A cache file was there but not trusted (damaged, another format): worth a warning."""
        return self.found not in ("found", NO_FILE)


NO_FILE = "no cache file for this repository, keysweep version and ruleset"


# cache file → what the last sweep of this process made of it (one sweep per Action run)
USES: dict[str, CacheUse] = {}


@dataclass(frozen=True, slots=True)
class CachedPlace:
    """A place of a matched text (sources/base.py's Place, as the cache keeps it)."""

    source: str
    path: bytes
    blob: bytes | None = None
    commit: bytes | None = None
    commit_time: int | None = None
    local_only: bool = False
    bundle: bool = False
    origins: tuple[Original | None, ...] = ()
    pragmas_added: tuple[int, ...] = ()
    at_head: bool = False


@dataclass(frozen=True, slots=True)
class CachedFound:
    kind: str  # blob | commit | tag: how to read the text again
    oid: bytes
    places: tuple[CachedPlace, ...]


@dataclass(frozen=True, slots=True)
class CachedResult:
    """A finished sweep's result: what an unchanged repository gives again."""

    founds: tuple[CachedFound, ...]
    provenance: dict[str, Provenance]  # by secret id: a digest, never the secret
    head: bytes | None
    commits: int
    objects: int
    blobs: int
    nbytes: int
    files: int
    sources: dict[str, int]
    skips: tuple[Skip, ...]
    skip_counts: dict[str, int]


@dataclass(frozen=True, slots=True)
class SweepTables:
    """What the object phases learnt, for a sweep that resumes after objects were added."""

    commits: dict[bytes, CommitRow]
    tags: dict[bytes, TagRow]
    blobs: tuple[bytes, ...]
    trees: tuple[bytes, ...]
    unreadable: tuple[bytes, ...]
    matched: tuple[bytes, ...]
    commit_hits: tuple[bytes, ...]
    tag_hits: tuple[bytes, ...]
    closure: tuple[bytes, ...]
    unread_trees: tuple[bytes, ...]
    counts: tuple[int, int, int]  # objects, blobs, bytes after the object phases
    skips: tuple[tuple[str, str], ...]  # (reason, example) after the object phases
    skip_counts: dict[str, int]
    packs: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CacheData:
    state: str
    result: CachedResult
    tables: SweepTables


class CacheFile:
    """A loaded cache file: its state and result, and the tables parsed when first asked for."""

    def __init__(self, state: str, result: CachedResult, sections: _Sections) -> None:
        self.state = state
        self.result = result
        self._sections = sections

    def tables(self) -> SweepTables:
        """The sweep's tables; CacheDamaged when a section is not what the header says."""
        try:
            return _parse_tables(self._sections)
        except (Invalid, ValueError, IndexError, struct.error) as e:
            raise CacheDamaged(str(e)) from None


class HistoryCache:
    """One cache file in DIR; loading a missing, damaged or foreign file gives None."""

    def __init__(self, directory: Path, key: str) -> None:
        self.directory = directory
        self.path = directory / f"history-{key}.cache"
        self.key = key
        self.found = "not loaded"

    def record(self, reused: str) -> None:
        """Say how much of the loaded cache the sweep reused (see `USES`)."""
        USES[str(self.path)] = CacheUse(self.found, reused)

    def load(self) -> CacheFile | None:
        self.found = NO_FILE
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            self.found = f"the cache file cannot be read ({e.strerror})"
            return None
        try:
            got = _open(data, self.key)
        except (Invalid, ValueError, IndexError, struct.error) as e:
            self.found = f"the cache file is damaged or of another version: {e}"
            return None
        self.found = "found"
        return got

    def save(self, data: CacheData) -> None:
        """Write atomically; a cache that cannot be written is skipped (the scan still counts)."""
        blob = _render(data, self.key)
        if blob is not None:
            write_atomic(self.path, blob)


# --- the container ------------------------------------------------------------------------------


class _Sections:
    """The sections of a file, each checked against its CRC-32 when it is read."""

    def __init__(self, views: dict[str, memoryview], crcs: dict[str, int]) -> None:
        self._views = views
        self._crcs = crcs

    def raw(self, name: str) -> memoryview:
        view = self._views.get(name)
        if view is None:
            raise Invalid(f"no section {name}")
        if zlib.crc32(view) != self._crcs[name]:
            raise Invalid(f"section {name} fails its checksum: damaged")
        return view

    def json(self, name: str) -> Fields:
        return parse_json(bytes(self.raw(name)).decode("utf-8"))

    def ids(self, name: str, width: int) -> tuple[bytes, ...]:
        view = self.raw(name)
        if len(view) % width:
            raise Invalid(f"section {name} is not a whole number of ids")
        data = bytes(view)
        return tuple(data[i : i + width] for i in range(0, len(data), width))

    def ints(self, name: str) -> array[int]:
        view = self.raw(name)
        if len(view) % 8:
            raise Invalid(f"section {name} is not a whole number of integers")
        out = array("q")
        out.frombytes(view)
        if sys.byteorder == "big":
            out.byteswap()
        return out


def _open(data: bytes, key: str) -> CacheFile:
    if not data.startswith(MAGIC):
        raise Invalid("not a keysweep history cache")
    at = len(MAGIC)
    fmt, hlen = _HEAD.unpack_from(data, at)
    if fmt != FORMAT:
        raise Invalid(f"cache format {fmt}, this keysweep writes {FORMAT}")
    at += _HEAD.size
    header = parse_json(data[at : at + hlen].decode("utf-8"))
    at += hlen
    if header.text("key") != key:
        raise Invalid("made for another repository, keysweep version or ruleset")
    state = header.text("state")
    view = memoryview(data)
    views: dict[str, memoryview] = {}
    crcs: dict[str, int] = {}
    for entry in header.objects("sections", lambda o: o):
        name, length = entry.text("name"), entry.count("length")
        crcs[name] = entry.count("crc32")
        entry.done()
        if at + length > len(data):
            raise Invalid(f"section {name} is cut short: truncated")
        views[name] = view[at : at + length]
        at += length
    header.done()
    if at != len(data):
        raise Invalid("bytes after the last section")
    sections = _Sections(views, crcs)
    return CacheFile(state, _parse_result(sections.json("result")), sections)


def _render(data: CacheData, key: str) -> bytes | None:
    """The file's bytes; None when the tables hold ids of more than one length (not written)."""
    t = data.tables
    width = len(next(iter(t.commits))) if t.commits else 20
    sections: list[tuple[str, bytes]] = [("result", _json(_result_doc(data.result)))]
    strings: dict[str, int] = {}
    sigs = array("q")
    parents = bytearray()
    counts = array("q")
    for _tree, ps, an, ae, at, cn, ce, ct in t.commits.values():
        for p in ps:
            parents += p
        counts.append(len(ps))
        sigs.extend(
            (
                strings.setdefault(an, len(strings)),
                strings.setdefault(ae, len(strings)),
                at,
                strings.setdefault(cn, len(strings)),
                strings.setdefault(ce, len(strings)),
                ct,
            )
        )
    small = {
        "id_width": width,
        "strings": list(strings),
        "tags": [
            [oid.hex(), target.hex(), ttype, name.hex(), list(tagger) if tagger else None]
            for oid, (target, ttype, name, tagger) in t.tags.items()
        ],
        "counts": list(t.counts),
        "skips": [list(s) for s in t.skips],
        "skip_counts": t.skip_counts,
        "packs": list(t.packs),
    }
    sections.append(("tables", _json(small)))
    id_lists: list[tuple[str, Iterable[bytes]]] = [
        ("commit_ids", t.commits.keys()),
        ("commit_trees", (c[0] for c in t.commits.values())),
        ("blobs", t.blobs),
        ("trees", t.trees),
        ("unreadable", t.unreadable),
        ("matched", t.matched),
        ("commit_hits", t.commit_hits),
        ("tag_hits", t.tag_hits),
        ("closure", t.closure),
        ("unread_trees", t.unread_trees),
    ]
    for name, ids in id_lists:
        joined = b"".join(ids)
        if len(joined) % width:
            return None
        sections.append((name, joined))
    if len(parents) % width:
        return None
    sections += [
        ("commit_parents", bytes(parents)),
        ("parent_counts", _le(counts)),
        ("signatures", _le(sigs)),
    ]
    header = _json(
        {
            "key": key,
            "state": data.state,
            "sections": [{"name": n, "length": len(b), "crc32": zlib.crc32(b)} for n, b in sections],
        }
    )
    return b"".join([MAGIC, _HEAD.pack(FORMAT, len(header)), header, *(b for _, b in sections)])


def _json(doc: object) -> bytes:
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _le(values: array[int]) -> bytes:
    if sys.byteorder == "big":
        values = array("q", values)
        values.byteswap()
    return values.tobytes()


# --- the result ---------------------------------------------------------------------------------


def _result_doc(r: CachedResult) -> dict[str, object]:
    return {
        "founds": [
            {"kind": f.kind, "oid": f.oid.hex(), "places": [_place_doc(p) for p in f.places]}
            for f in r.founds
        ],
        "provenance": {sid: encode_provenance(p) for sid, p in r.provenance.items()},
        "head": r.head.hex() if r.head is not None else None,
        "commits": r.commits,
        "objects": r.objects,
        "blobs": r.blobs,
        "nbytes": r.nbytes,
        "files": r.files,
        "sources": r.sources,
        "skips": [[s.reason, s.example] for s in r.skips],
        "skip_counts": r.skip_counts,
    }


def _place_doc(p: CachedPlace) -> dict[str, object]:
    return {
        "source": p.source,
        "path": p.path.hex(),
        "blob": p.blob.hex() if p.blob is not None else None,
        "commit": p.commit.hex() if p.commit is not None else None,
        "commit_time": p.commit_time,
        "local_only": p.local_only,
        "bundle": p.bundle,
        "origins": [encode_original(o) for o in p.origins],
        "pragmas_added": list(p.pragmas_added),
        "at_head": p.at_head,
    }


def _hex(o: Fields, key: str) -> bytes:
    try:
        return bytes.fromhex(o.text(key))
    except ValueError:
        raise Invalid(f"{o.where}.{key}: not hex") from None


def _opt_hex(o: Fields, key: str) -> bytes | None:
    return None if o.value(key) is None else _hex(o, key)


def _parse_result(o: Fields) -> CachedResult:
    r = CachedResult(
        founds=o.objects("founds", _parse_found),
        provenance={sid: parse_provenance(p) for sid, p in _members(o.obj("provenance"))},
        head=_opt_hex(o, "head"),
        commits=o.count("commits"),
        objects=o.count("objects"),
        blobs=o.count("blobs"),
        nbytes=o.count("nbytes"),
        files=o.count("files"),
        sources=o.counts("sources"),
        skips=tuple(Skip(a, b) for a, b in _pairs(o, "skips")),
        skip_counts=o.counts("skip_counts"),
    )
    o.done()
    return r


def _members(o: Fields) -> list[tuple[str, Fields]]:
    out = [(k, o.obj(k)) for k in o.names()]
    o.done()
    return out


def _pairs(o: Fields, key: str) -> tuple[tuple[str, str], ...]:
    lists = o.value(key)
    if not isinstance(lists, list) or not all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in lists
    ):
        raise Invalid(f"{o.where}.{key}: expected a list of [reason, example]")
    return tuple((str(p[0]), str(p[1])) for p in lists)


def _parse_found(o: Fields) -> CachedFound:
    kind = o.text("kind")
    if kind not in ("blob", "commit", "tag"):
        raise Invalid(f"{o.where}.kind: {kind!r}")
    f = CachedFound(kind=kind, oid=_hex(o, "oid"), places=o.objects("places", _parse_place))
    o.done()
    return f


def _parse_place(o: Fields) -> CachedPlace:
    origins = o.value("origins")
    if not isinstance(origins, list):
        raise Invalid(f"{o.where}.origins: expected a list")
    added = o.value("pragmas_added")
    if not isinstance(added, list) or not all(type(i) is int for i in added):
        raise Invalid(f"{o.where}.pragmas_added: expected a list of integers")
    p = CachedPlace(
        source=o.text("source"),
        path=_hex(o, "path"),
        blob=_opt_hex(o, "blob"),
        commit=_opt_hex(o, "commit"),
        commit_time=o.opt_integer("commit_time"),
        local_only=o.flag("local_only"),
        bundle=o.flag("bundle"),
        origins=tuple(
            None if x is None else parse_original(Fields(x, f"{o.where}.origins[{i}]"))
            for i, x in enumerate(origins)
        ),
        pragmas_added=tuple(int(i) for i in added),
        at_head=o.flag("at_head"),
    )
    o.done()
    return p


# --- the tables ---------------------------------------------------------------------------------


def _parse_tables(s: _Sections) -> SweepTables:
    small = s.json("tables")
    width = small.count("id_width")
    if width not in (20, 32):
        raise Invalid(f"ids of {width} bytes")
    strings = small.strs("strings")
    ids = s.ids("commit_ids", width)
    trees = s.ids("commit_trees", width)
    parents = s.ids("commit_parents", width)
    counts = s.ints("parent_counts")
    sigs = s.ints("signatures")
    if (
        not (len(ids) == len(trees) == len(counts))
        or len(sigs) != 6 * len(ids)
        or sum(counts) != len(parents)
    ):
        raise Invalid("the commit sections disagree on the number of commits")
    if counts and min(counts) < 0:
        raise Invalid("a negative parent count")
    for column in (0, 1, 3, 4):  # the string indexes
        names = sigs[column::6]
        if names and (min(names) < 0 or max(names) >= len(strings)):
            raise Invalid("a signature names a string the table does not have")
    commits: dict[bytes, CommitRow] = {}
    at = 0
    for i, oid in enumerate(ids):
        n = counts[i]
        an, ae, atime, cn, ce, ctime = sigs[6 * i : 6 * i + 6]
        commits[oid] = (
            trees[i],
            parents[at : at + n],
            strings[an],
            strings[ae],
            atime,
            strings[cn],
            strings[ce],
            ctime,
        )
        at += n
    tags = {_tag_id(row, small.where): _tag(row, small.where, strings) for row in _rows(small, "tags")}
    (objects, blobs, nbytes), skips = _three(small), _pairs(small, "skips")
    t = SweepTables(
        commits=commits,
        tags=tags,
        blobs=s.ids("blobs", width),
        trees=s.ids("trees", width),
        unreadable=s.ids("unreadable", width),
        matched=s.ids("matched", width),
        commit_hits=s.ids("commit_hits", width),
        tag_hits=s.ids("tag_hits", width),
        closure=s.ids("closure", width),
        unread_trees=s.ids("unread_trees", width),
        counts=(objects, blobs, nbytes),
        skips=skips,
        skip_counts=small.counts("skip_counts"),
        packs=small.strs("packs"),
    )
    small.done()
    return t


def _three(o: Fields) -> tuple[int, int, int]:
    v = o.value("counts")
    if not isinstance(v, list) or len(v) != 3 or not all(type(x) is int and x >= 0 for x in v):
        raise Invalid(f"{o.where}.counts: expected three counts")
    return int(v[0]), int(v[1]), int(v[2])


def _rows(o: Fields, key: str) -> list[list[object]]:
    v = o.value(key)
    if not isinstance(v, list) or not all(isinstance(r, list) and len(r) == 5 for r in v):
        raise Invalid(f"{o.where}.{key}: expected rows of five")
    return [list(r) for r in v]


def _tag_id(row: list[object], where: str) -> bytes:
    return _bytes(row[0], where)


def _tag(row: list[object], where: str, strings: tuple[str, ...]) -> TagRow:
    target, ttype, name, tagger = _bytes(row[1], where), row[2], _bytes(row[3], where), row[4]
    if type(ttype) is not int:
        raise Invalid(f"{where}.tags: a target type is not an integer")
    sig: Sig | None = None
    if tagger is not None:
        if not (
            isinstance(tagger, list)
            and len(tagger) == 3
            and isinstance(tagger[0], str)
            and isinstance(tagger[1], str)
            and type(tagger[2]) is int
        ):
            raise Invalid(f"{where}.tags: a tagger is not [name, email, time]")
        sig = (tagger[0], tagger[1], tagger[2])
    return target, ttype, name, sig


def _bytes(v: object, where: str) -> bytes:
    if not isinstance(v, str):
        raise Invalid(f"{where}: expected hex")
    return bytes.fromhex(v)
