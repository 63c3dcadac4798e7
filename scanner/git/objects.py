"""Raw git objects: the one copy of object types, tree modes, and commit/tag/tree parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

OBJ_COMMIT, OBJ_TREE, OBJ_BLOB, OBJ_TAG = 1, 2, 3, 4
MODE_TREE = b"40000"
MODE_GITLINK = b"160000"
LFS_HEADER = b"version https://git-lfs.github.com/spec/v1"

ENTRY_FULL = re.compile(rb"([0-7]{5,6}) ([^\x00]*)\x00(.{20})", re.S)  # mode, name, id of each entry
SUBTREE = re.compile(rb"40000 [^\x00]*\x00(.{20})", re.S)  # the id of each subtree entry
# the id of every entry, over whole trees or trees joined end to end (each match ends where the
# next entry starts; a name holds no NUL, and the id is taken whole, whatever bytes it holds)
ENTRY_ID = re.compile(rb"[^\x00]*\x00(.{20})", re.S)


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    email: str
    time: int


@dataclass(frozen=True, slots=True)
class CommitMeta:
    tree: bytes
    parents: tuple[bytes, ...]
    author: Signature
    committer: Signature


@dataclass(frozen=True, slots=True)
class TagMeta:
    target: bytes
    target_type: int
    name: bytes
    tagger: Signature | None


_TYPES = {b"commit": OBJ_COMMIT, b"tree": OBJ_TREE, b"blob": OBJ_BLOB, b"tag": OBJ_TAG}


def _signature(value: bytes) -> Signature:
    lt = value.find(b"<")
    gt = value.rfind(b">")
    if lt < 0 or gt < lt:
        return Signature(value.decode("utf-8", "replace").strip(), "", 0)
    name = value[:lt].decode("utf-8", "replace").strip()
    email = value[lt + 1 : gt].decode("utf-8", "replace")
    rest = value[gt + 1 :].split()
    try:
        t = int(rest[0]) if rest else 0
    except ValueError:
        t = 0
    return Signature(name, email, t)


def split_object(data: bytes) -> tuple[dict[bytes, list[bytes]], bytes, int]:
    """(headers, message, message offset) of a raw commit or tag."""
    end = data.find(b"\n\n")
    head, off = (data, len(data)) if end < 0 else (data[:end], end + 2)
    headers: dict[bytes, list[bytes]] = {}
    last: bytes | None = None
    for line in head.split(b"\n"):
        if line.startswith(b" ") and last is not None:
            continue  # continuation (gpgsig, mergetag)
        key, _, value = line.partition(b" ")
        headers.setdefault(key, []).append(value)
        last = key
    return headers, data[off:], off


def parse_commit(data: bytes) -> tuple[CommitMeta, bytes]:
    h, message, _ = split_object(data)
    tree = bytes.fromhex(h[b"tree"][0].decode("ascii"))
    parents = tuple(bytes.fromhex(p.decode("ascii")) for p in h.get(b"parent", ()))
    author = _signature(h.get(b"author", [b""])[0])
    committer = _signature(h.get(b"committer", [b""])[0])
    return CommitMeta(tree, parents, author, committer), message


def parse_tag(data: bytes) -> tuple[TagMeta, bytes]:
    h, message, _ = split_object(data)
    target = bytes.fromhex(h[b"object"][0].decode("ascii"))
    ttype = _TYPES.get(h.get(b"type", [b""])[0], 0)
    name = h.get(b"tag", [b""])[0]
    tagger = _signature(h[b"tagger"][0]) if b"tagger" in h else None
    return TagMeta(target, ttype, name, tagger), message


def tree_entries(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(mode, name, id) of every entry of a raw tree."""
    return ENTRY_FULL.findall(data)


def iso(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def is_lfs_pointer(data: bytes) -> bool:
    return data.startswith(LFS_HEADER) and len(data) < 1024
