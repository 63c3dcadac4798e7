"""The full sweep on packed repositories: pack order, delta rebuilding, worker processes, and the
checks that stand in for per-entry parsing (a missing subtree or parent blob is never a silent gap)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pygit2
import pytest

from tests.oracle import Expect, digest
from tests.repo_builder import RepoBuilder, env_line, make_key, pack_all

Swept = Callable[..., dict[str, Expect]]


def history(path: Path) -> RepoBuilder:
    b = RepoBuilder(path)
    c = b.commit({"README": b"hi\n"})
    for i in range(40):
        files: dict[str | bytes, bytes | None] = {f"d{i % 5}/sub{i % 3}/f{i}.txt": b"line %d\n" % i * (i + 1)}
        if i % 9 == 0:
            files[f"d{i % 5}/k{i}.env"] = env_line(400 + i)
        if i % 13 == 0 and i:
            files[f"d{(i + 3) % 5}/k{i - 13}.env"] = None
        c = b.commit(files, message=f"c{i}" + (f" {make_key(500 + i)}" if i % 20 == 0 else ""))
        if i % 15 == 0:
            b.commit({f"side{i}.env": env_line(600 + i)}, ref=f"refs/heads/side{i}", parents=[c])
    return b


@pytest.fixture
def many_workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Worker processes even for a small repository, over many small chunks."""
    import scanner.sources.history.sweep as repository

    monkeypatch.setattr(repository, "POOL_MIN_OBJECTS", 0)
    monkeypatch.setattr(repository, "CHUNK_OBJECTS", 7)
    yield


def test_packed_history_agrees_with_the_oracle(tmp_path: Path, swept: Swept) -> None:
    b = history(tmp_path / "r")
    pack_all(b.repo)
    assert not any((tmp_path / "r" / ".git" / "objects").glob("??"))
    exp = swept(tmp_path / "r")
    assert digest(make_key(400)) in exp and digest(make_key(500)) in exp


def test_packed_history_with_workers_agrees(tmp_path: Path, swept: Swept, many_workers: None) -> None:
    b = history(tmp_path / "r")
    pack_all(b.repo)
    one = swept(tmp_path / "r", jobs=1)
    many = swept(tmp_path / "r", jobs=3)
    assert one == many


def test_loose_and_packed_and_workers_give_the_same_report(
    tmp_path: Path, scan: Callable[..., object], many_workers: None
) -> None:
    b = history(tmp_path / "r")
    loose1 = scan(tmp_path / "r", jobs=1)
    loose3 = scan(tmp_path / "r", jobs=3)
    pack_all(b.repo)
    packed1 = scan(tmp_path / "r", jobs=1)
    packed3 = scan(tmp_path / "r", jobs=3)
    for other in (loose3, packed1, packed3):
        assert other.findings == loose1.findings  # type: ignore[attr-defined]
        assert other.stats.blobs == loose1.stats.blobs  # type: ignore[attr-defined]
        assert other.stats.commits == loose1.stats.commits  # type: ignore[attr-defined]


def test_a_subtree_missing_from_the_pack_is_found(tmp_path: Path, scan: Callable[..., object]) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"a/b/x.txt": b"x\n", "k.env": env_line(31)})
    c2 = b.commit({"a/b/y.txt": b"y\n"})
    sub = b.repo[b.repo[c2].tree["a"].id]
    pack_all(b.repo, frozenset({sub.id}))
    report = scan(tmp_path / "r")
    assert report.status == "incomplete"  # type: ignore[attr-defined]
    assert any(str(sub.id) in e for e in report.stats.skipped_examples["missing-object"])  # type: ignore[attr-defined]


def test_a_parent_blob_missing_from_the_pack_truncates(
    tmp_path: Path, swept: Swept, scan: Callable[..., object]
) -> None:
    """No sign of a missing object besides the blob itself: provenance still checks it (§4)."""
    b = RepoBuilder(tmp_path / "r")
    b.commit({"k.env": b"# v1\n" + env_line(32)})
    b.commit({"k.env": b"# v2\n" + env_line(32)})
    c1 = b.repo.revparse_single("HEAD~1")
    old = b.repo[c1.tree["k.env"].id].id
    pack_all(b.repo, frozenset({old}))
    exp = swept(tmp_path / "r")
    e = exp[digest(make_key(32))]
    assert e.first_seen is None and e.first_seen_truncated is True
    report = scan(tmp_path / "r")
    assert report.status == "incomplete"  # type: ignore[attr-defined]


def test_a_gitlink_in_a_packed_tree_is_counted(tmp_path: Path, scan: Callable[..., object]) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"vendor/lib": (bytes.fromhex("34" * 20), pygit2.GIT_FILEMODE_COMMIT), "k.env": env_line(33)})
    pack_all(b.repo)
    report = scan(tmp_path / "r")
    assert report.stats.skipped.get("gitlink") == 1  # type: ignore[attr-defined]
    assert report.status == "ok"  # type: ignore[attr-defined]


def test_objects_in_two_packs_and_loose_are_swept_once(
    tmp_path: Path, scan: Callable[..., object], many_workers: None
) -> None:
    b = history(tmp_path / "r")
    loose = scan(tmp_path / "r")
    b.repo.pack()  # a pack of everything, loose copies kept
    b.commit({"late.env": env_line(34)})
    b.repo.pack()  # a second pack holding the first one's objects again
    from scanner.git.packs import list_objects

    listing = list_objects([Path(b.repo.path) / "objects"])
    assert listing is not None and len(listing.packs) == 2 and listing.loose and listing.dup
    assert listing.total == len({o.raw for o in b.repo.odb})
    after = scan(tmp_path / "r", jobs=3)
    assert after.stats.objects == loose.stats.objects + 3  # type: ignore[attr-defined]
    assert after.stats.blobs == loose.stats.blobs + 1  # type: ignore[attr-defined]
    assert {f.secret_sha256 for f in loose.findings} < {f.secret_sha256 for f in after.findings}  # type: ignore[attr-defined]


@pytest.mark.parametrize("jobs", [1, 3])
def test_a_blob_missing_from_the_pack_is_counted(
    tmp_path: Path, swept: Swept, scan: Callable[..., object], many_workers: None, jobs: int
) -> None:
    """Issue 19 item 3: a pack written without a blob its trees name, and no promisor marker (a
    repository damaged or copied without its largest objects), is no complete sweep: the key
    inside the absent blob is not found, so the report says what it could not read."""
    b = history(tmp_path / "r")
    c = b.commit({"big/k.env": env_line(35)})
    b.commit({"README": b"later\n"})
    lost = b.repo[c].tree["big"]["k.env"].id
    pack_all(b.repo, frozenset({lost}))
    assert not list((tmp_path / "r" / ".git" / "objects" / "pack").glob("*.promisor"))
    report = scan(tmp_path / "r", jobs=jobs)
    assert report.status == "incomplete" and report.stats.complete is False  # type: ignore[attr-defined]
    assert report.stats.skipped["missing-object"] >= 1  # type: ignore[attr-defined]
    assert any(str(lost) in e for e in report.stats.skipped_examples["missing-object"])  # type: ignore[attr-defined]
    assert digest(make_key(35)) not in {f.secret_sha256 for f in report.findings}  # type: ignore[attr-defined]
    swept(tmp_path / "r", jobs=jobs)  # the rest of the history still agrees with the oracle
