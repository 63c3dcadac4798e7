"""The history cache's file (scanner/sources/history/cache.py): a typed, versioned container, not a pickle; every
record comes back as it was written; a damaged, truncated, foreign or older file is ignored with a
logged reason, and the sweep reads everything instead (never trusted, never a crash)."""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from pathlib import Path

import pytest

from scanner import cli
from scanner.model import CommitRef, Original, Provenance, Skip
from scanner.sources.history.cache import (
    FORMAT,
    MAGIC,
    USES,
    CacheData,
    CachedFound,
    CachedPlace,
    CachedResult,
    HistoryCache,
    SweepTables,
)
from tests.repo_builder import cache_history_repo, env_line

HEAD = struct.Struct("<II")


def _sample() -> CacheData:
    ids = [bytes([i]) * 20 for i in range(1, 9)]
    ref = CommitRef("ab" * 20, "Zoë", "z@example.invalid", "2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", 7)
    result = CachedResult(
        founds=(
            CachedFound(
                "blob",
                ids[0],
                (
                    CachedPlace("history", b"a/\xff\xfename.env", ids[0], ids[1], 1_600_000_000),
                    CachedPlace(
                        "bundle",
                        b"dist/app.js",
                        None,
                        None,
                        None,
                        True,
                        True,
                        (None, Original("src/a.ts", 3, 9)),
                        (1,),
                    ),
                ),
            ),
            CachedFound("commit", ids[1], (CachedPlace("message", b"commit:x", None, ids[1], 5),)),
        ),
        provenance={"cd" * 32: Provenance(ref, ref, True, ("refs/heads/main",), False, None)},
        head=ids[1],
        commits=2,
        objects=8,
        blobs=3,
        nbytes=1234,
        files=0,
        sources={"history": 3, "message": 2},
        skips=(Skip("gitlink", "sub"),),
        skip_counts={"gitlink": 1},
    )
    tables = SweepTables(
        commits={
            ids[1]: (ids[2], (), "Ada", "ada@example.invalid", 10, "Ada", "ada@example.invalid", 11),
            ids[3]: (ids[4], (ids[1], ids[5]), "Bob \u202e", "b@x", -5, "Ada", "ada@example.invalid", 12),
        },
        tags={ids[6]: (ids[3], 1, b"v1\xff", ("T", "t@x", 13)), ids[7]: (ids[1], 1, b"v0", None)},
        blobs=(ids[0], ids[5]),
        trees=(ids[2], ids[4]),
        unreadable=(ids[7],),
        matched=(ids[0],),
        commit_hits=(ids[1],),
        tag_hits=(),
        closure=(ids[2],),
        unread_trees=(),
        counts=(8, 3, 1234),
        skips=(("gitlink", "sub"),),
        skip_counts={"gitlink": 1},
        packs=("pack-1.pack",),
    )
    return CacheData("state-digest", result, tables)


def test_every_record_comes_back_as_written(tmp_path: Path) -> None:
    data = _sample()
    cache = HistoryCache(tmp_path, "k" * 32)
    cache.save(data)
    raw = cache.path.read_bytes()
    assert raw.startswith(MAGIC) and b"\x80\x04\x95" not in raw[:64]  # no pickle
    loaded = HistoryCache(tmp_path, "k" * 32).load()
    assert loaded is not None
    assert (loaded.state, loaded.result, loaded.tables()) == (data.state, data.result, data.tables)


def _sections(raw: bytes) -> tuple[dict[str, object], list[tuple[str, bytes]]]:
    at = len(MAGIC)
    _, hlen = HEAD.unpack_from(raw, at)
    at += HEAD.size
    header = json.loads(raw[at : at + hlen])
    at += hlen
    out = []
    for s in header["sections"]:
        out.append((s["name"], raw[at : at + s["length"]]))
        at += s["length"]
    return header, out


def _container(header: dict[str, object], sections: list[tuple[str, bytes]], fmt: int = FORMAT) -> bytes:
    header = {
        **header,
        "sections": [{"name": n, "length": len(b), "crc32": zlib.crc32(b)} for n, b in sections],
    }
    text = json.dumps(header).encode()
    return MAGIC + HEAD.pack(fmt, len(text)) + text + b"".join(b for _, b in sections)


def _with(raw: bytes, name: str, edit: bytes) -> bytes:
    header, sections = _sections(raw)
    return _container(header, [(n, edit if n == name else b) for n, b in sections])


DAMAGE = {
    "truncated": (lambda raw: raw[: len(raw) - 7], "truncated"),
    "flipped byte": (lambda raw: raw[:-3] + bytes([raw[-3] ^ 0x40]) + raw[-2:], "checksum"),
    "a pickle": (lambda raw: pickle.dumps({"key": "x"}), "not a keysweep history cache"),
    "an older format": (
        lambda raw: MAGIC + HEAD.pack(FORMAT - 1, 0) + raw[len(MAGIC) + HEAD.size :],
        f"cache format {FORMAT - 1}",
    ),
    "wrong type": (
        lambda raw: _with(raw, "result", json.dumps({"founds": "x"}).encode()),
        "founds: expected a list",
    ),
    "unknown field": (
        lambda raw: _with(
            raw, "result", json.dumps({**json.loads(_sections(raw)[1][0][1]), "extra": 1}).encode()
        ),
        "unknown field 'extra'",
    ),
    "an id cut in two": (lambda raw: _with(raw, "blobs", b"\x01" * 30), "not a whole number of ids"),
    "a string index out of range": (
        lambda raw: _with(raw, "signatures", b"\xff" * 8 * 6 * _commits(raw)),
        "a string the table does not have",
    ),
}


def _commits(raw: bytes) -> int:
    return len(dict(_sections(raw)[1])["commit_ids"]) // 20


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_cache_is_ignored_with_its_reason(
    tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    b = cache_history_repo(tmp_path / "r")
    cache = tmp_path / "cache"
    args = ["scan", str(tmp_path / "r"), "--jobs", "1", "--json"]
    assert cli.main([*args, str(tmp_path / "first.json"), "--cache", str(cache)]) == 1
    (path,) = cache.glob("history-*.cache")
    # a new commit: the sweep resumes, so it needs the tables as well as the result
    b.commit({"src/m1/new.env": env_line(741)})
    assert cli.main([*args, str(tmp_path / "plain.json")]) == 1
    edit, why = DAMAGE[damage]
    path.write_bytes(edit(path.read_bytes()))
    capsys.readouterr()
    USES.clear()
    assert cli.main([*args, str(tmp_path / "again.json"), "--cache", str(cache)]) == 1
    err = capsys.readouterr().err
    assert "history cache ignored" in err and why in err, err
    (use,) = USES.values()
    assert use.ignored and why in use.found and use.reused.startswith("none")
    plain, again = (json.loads((tmp_path / n).read_text()) for n in ("plain.json", "again.json"))
    assert again["findings"] == plain["findings"] and again["stats"]["blobs"] == plain["stats"]["blobs"]
    # and the file was written anew, whole: the next run reuses it
    USES.clear()
    assert cli.main([*args, str(tmp_path / "third.json"), "--cache", str(cache)]) == 1
    (use,) = USES.values()
    assert use.found == "found" and use.reused.startswith("all of it")
