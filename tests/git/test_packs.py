"""The pack reader: deltas rebuilt by the compiled applier and by the Python one agree with each
other and with libgit2, and a malformed delta is a PackError (the caller then asks libgit2)."""

from __future__ import annotations

import importlib
import random
import subprocess
from pathlib import Path

import pygit2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.git import packs
from scanner.git.packs import PackError, PackReader, apply_delta, list_objects, py_apply_delta

create_delta = importlib.import_module("dulwich._pack").create_delta  # compiled, no stubs


def _edit(rng: random.Random, base: bytes) -> bytes:
    """A target that shares runs with `base` (so the delta has copy and insert opcodes)."""
    out = bytearray(base)
    for _ in range(rng.randrange(1, 8)):
        at = rng.randrange(len(out) + 1)
        if rng.random() < 0.5 and out:
            del out[at : at + rng.randrange(1, 64)]
        else:
            out[at:at] = rng.randbytes(rng.randrange(1, 80))
    return bytes(out)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 70000))
def test_both_appliers_rebuild_the_target(seed: int, size: int) -> None:
    rng = random.Random(seed)
    base = rng.randbytes(size)
    target = _edit(rng, base)
    delta = create_delta(base, target)
    assert apply_delta(base, delta) == target
    assert py_apply_delta(base, delta) == target


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32))
def test_a_damaged_delta_is_refused_as_git_refuses_it(seed: int) -> None:
    """The Python applier checks what git's patch_delta checks (base size, opcodes inside the
    delta, result size). The compiled one must refuse every truncation and agree wherever the
    Python one succeeds; it may be lenient on flipped or trailing bytes, which in a pack would
    already fail zlib's Adler-32 check."""
    rng = random.Random(seed)
    base = rng.randbytes(rng.randrange(1, 3000))
    delta = bytearray(create_delta(base, _edit(rng, base)))
    how = rng.randrange(3)
    if how == 0:
        del delta[rng.randrange(len(delta)) :]
    elif how == 1:
        delta[rng.randrange(len(delta))] ^= 1 << rng.randrange(8)
    else:
        delta += rng.randbytes(rng.randrange(1, 4))
    outcomes: list[bytes | None] = []
    for fn in (apply_delta, py_apply_delta):
        try:
            outcomes.append(fn(base, bytes(delta)))
        except PackError:
            outcomes.append(None)
    compiled, strict = outcomes
    if how == 0:
        assert compiled is None and strict is None
    elif strict is not None:
        assert compiled == strict


def _delta_repo(path: Path) -> pygit2.Repository:
    """A packed repository whose blobs and trees are mostly deltas of each other."""
    repo = pygit2.init_repository(str(path), bare=True)
    sig = pygit2.Signature("t", "t@example.invalid", 1_700_000_000, 0)
    rng = random.Random(7)
    text = rng.randbytes(20000)
    parents: list[pygit2.Oid] = []
    for i in range(30):
        text = _edit(rng, text)
        tb = repo.TreeBuilder()
        tb.insert("big.bin", repo.create_blob(text), pygit2.GIT_FILEMODE_BLOB)
        for j in range(i % 7 + 1):
            tb.insert(f"f{j}.txt", repo.create_blob(b"v%d %d\n" % (i, j)), pygit2.GIT_FILEMODE_BLOB)
        c = repo.create_commit("refs/heads/main", sig, sig, f"c{i}", tb.write(), parents)
        parents = [c]
    # git writes deltas against offsets (OFS_DELTA), as in every real clone; libgit2's packer
    # names bases by id, which this reader leaves to libgit2
    subprocess.run(["git", "-C", str(path), "repack", "-adq", "--depth=50"], check=True)
    subprocess.run(["git", "-C", str(path), "prune-packed"], check=True)
    return pygit2.Repository(str(path))


@pytest.mark.parametrize("compiled", [True, False])
def test_the_reader_gives_libgit2s_bytes_for_every_packed_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compiled: bool
) -> None:
    if not compiled:
        monkeypatch.setattr(packs, "_c_apply", None)
    repo = _delta_repo(tmp_path / "r.git")
    listing = list_objects([Path(repo.path) / "objects"])
    assert listing is not None and len(listing.packs) == 1
    src = listing.packs[0]
    reader = PackReader(src.path, cache_bytes=1 << 16)  # small: evictions rebuild chains from bases
    deltas = 0
    for j, raw in listing.ids_of(0, 0, len(src.keys)):
        off = src.keys[j] >> 32
        otype, data = reader.read(off)
        obj = repo.odb.read(pygit2.Oid(raw=raw))
        assert (otype, data) == (int(obj[0]), obj[1])
        deltas += reader._header(off)[3] >= 0
    reader.close()
    assert deltas >= 20  # the test is about deltas: there must be many
    # the tree pass's inlined path: the same bytes, from the cache, the block or the general path
    trees = [
        (j, raw)
        for j, raw in listing.ids_of(0, 0, len(src.keys))
        if repo.odb.read(pygit2.Oid(raw=raw))[0] == 2
    ]
    assert len(trees) >= 30
    for cache_bytes in (1 << 12, 1 << 20):
        fast = PackReader(src.path, cache_bytes=cache_bytes)
        for j, raw in trees + trees[::-3]:  # in pack order, then again backwards (cached or not)
            assert fast.read_tree(src.keys[j] >> 32) == repo.odb.read(pygit2.Oid(raw=raw))[1]
        fast.close()
