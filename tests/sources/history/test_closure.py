"""The trees that lead to matched blobs (the closure) are read and sorted by the sweep's workers, in
pack order, looking up only the entries that matter: the result is what parsing every entry gives."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import scanner.sources.history.links as links
from scanner.git.objects import tree_entries
from scanner.sources.history.links import mode_entries, sort_entries, wanted_entries
from tests.oracle import Expect, digest
from tests.repo_builder import RepoBuilder, env_line, make_key, pack_all

Swept = Callable[..., dict[str, Expect]]


def _entry(mode: bytes, name: bytes, oid: bytes) -> bytes:
    return mode + b" " + name + b"\x00" + oid


def _tricky_tree(rng: random.Random, wanted: bytes) -> bytes:
    """Raw tree data where `wanted` follows a NUL inside another entry's id (and so is no entry),
    names hold mode-like text, and real entries name `wanted` twice."""
    other = bytes(rng.randrange(1, 256) for _ in range(20))
    assert wanted.endswith(b"100644")
    fake = b"\x11" * 5 + b"\x00" + wanted[:14]  # its NUL + 14 bytes + the next entry's "100644"
    parts = [
        _entry(b"100644", b"a 40000 b", other),
        _entry(b"40000", b"b", fake),
        _entry(b"100644", b"c", other),  # "\x00" + wanted spans the end of `fake` and this entry
        _entry(b"100644", b"d 100644 e", wanted),
        _entry(b"040000", b"f", other),
        _entry(b"100755", b"g", wanted),
    ]
    return b"".join(parts)


def test_wanted_entries_are_the_parsed_entries_that_name_them() -> None:
    rng = random.Random(7)
    for _ in range(50):
        wanted = bytes(rng.randrange(1, 256) for _ in range(14)) + b"100644"
        data = _tricky_tree(rng, wanted)
        assert data.count(b"\x00" + wanted) == 3  # one of them is no entry
        want = [e for e in tree_entries(data) if e[2] == wanted]
        assert len(want) == 2
        assert wanted_entries(data, [wanted]) == want
        other = tree_entries(data)[0][2]
        assert wanted_entries(data, [other, wanted]) == [
            e for e in tree_entries(data) if e[2] in (other, wanted)
        ]
        assert wanted_entries(data, [bytes(20)]) == []


def test_an_id_in_bytes_between_entries_is_no_entry() -> None:
    """A damaged tree with bytes no entry covers: the id there is skipped, the entry after it kept."""
    rng = random.Random(3)
    wanted = bytes(rng.randrange(0x80, 0x100) for _ in range(20))
    first = _entry(b"100644", b"a", bytes(rng.randrange(0x80, 0x100) for _ in range(20)))
    data = first + b"\x00" + wanted + _entry(b"100644", b"b", wanted)
    want = [e for e in tree_entries(data) if e[2] == wanted]
    assert [e[1] for e in want] == [b"b"]
    assert wanted_entries(data, [wanted]) == want


def test_sorted_entries_match_the_full_parse_on_random_trees() -> None:
    rng = random.Random(11)
    for _ in range(200):
        ids = [bytes(rng.randrange(256) for _ in range(20)) for _ in range(12)]
        modes = [b"100644", b"40000", b"160000", b"100755", b"120000", b"040000", b"0160000"]
        names = [b"", b" 40000 x", b" 100644", b" 160000 y", b"160000 "]
        data = b"".join(
            _entry(rng.choice(modes), b"n%d%s" % (k, rng.choice(names)), rng.choice(ids))
            for k in range(rng.randrange(1, 30))
        )
        if rng.random() < 0.2:  # a damaged tree: bytes no entry covers
            cut = rng.randrange(len(data))
            data = data[:cut] + b"\x00" + rng.choice(ids) + b"160000 " + data[cut:]
        closure, unread, interesting = set(ids[:3]), set(ids[3:4]), set(ids[4:6])
        full = sort_entries(tree_entries(data), closure, unread, interesting)
        assert sort_entries(wanted_entries(data, ids[:6]), closure, unread, interesting) == full
        for mode in (b"160000", b"40000", b"100644"):
            assert mode_entries(data, mode) == [e for e in tree_entries(data) if e[0] == mode]


def _deep(path: Path) -> RepoBuilder:
    """Secrets three directories down, kept for many commits while other files change."""
    b = RepoBuilder(path)
    b.commit({"README": b"hi\n"})
    for i in range(30):
        files: dict[str | bytes, bytes | None] = {f"src/m{i % 4}/f{i}.txt": b"v%d\n" % i}
        if i % 7 == 0:
            files[f"conf/env/app{i}/.env"] = env_line(300 + i)
        if i == 20:
            files["conf/env/app0/.env"] = None
        b.commit(files)
    return b


@pytest.fixture
def parent_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[bytes]]:
    """Every tree the parent process reads itself for the closure walk."""
    seen: list[bytes] = []
    real = links.read_raw

    def counting(repo: object, raw: bytes) -> tuple[int, bytes]:
        seen.append(raw)
        return real(repo, raw)  # type: ignore[arg-type]

    monkeypatch.setattr(links, "read_raw", counting)
    yield seen


@pytest.mark.parametrize("jobs", [1, 3])
def test_the_closure_comes_sorted_from_the_workers(
    tmp_path: Path, swept: Swept, parent_reads: list[bytes], monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    import scanner.sources.history.sweep as sweep

    monkeypatch.setattr(sweep, "POOL_MIN_OBJECTS", 0)
    monkeypatch.setattr(sweep, "CHUNK_OBJECTS", 7)
    b = _deep(tmp_path / "r")
    pack_all(b.repo)
    exp = swept(tmp_path / "r", jobs=jobs)  # agrees with the oracle, which parses every tree
    assert digest(make_key(300)) in exp and digest(make_key(321)) in exp
    assert parent_reads == []


def test_loose_trees_are_sorted_by_the_workers_too(
    tmp_path: Path, swept: Swept, parent_reads: list[bytes]
) -> None:
    _deep(tmp_path / "r")
    exp = swept(tmp_path / "r")
    assert digest(make_key(307)) in exp
    assert parent_reads == []
