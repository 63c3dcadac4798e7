"""Full sweep scenarios (ARCHITECTURE.md §4): each asserts provenance and agrees with the oracle."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable
from pathlib import Path

import pygit2

from tests.oracle import Expect, digest
from tests.repo_builder import RepoBuilder, env_line, make_key

Swept = Callable[..., dict[str, Expect]]

PAD = b"# settings\n\n"  # the key sits on line 3, column 16


def only(exp: dict[str, Expect], seed: int) -> Expect:
    d = digest(make_key(seed))
    assert d in exp, "the planted key was not found"
    return exp[d]


def paths(e: Expect) -> set[tuple[str, str, int, int]]:
    return {(src, p, line, col) for src, p, line, col, _c, _b in e.locations}


def test_added_then_deleted(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    c2 = b.commit({"config/.env": PAD + env_line(1)})
    c3 = b.commit({"config/.env": PAD + b"OPENAI_API_KEY=\n"})
    b.commit({"other": b"x\n"})
    e = only(swept(tmp_path / "r"), 1)
    assert e.first_seen == str(c2)
    assert e.last_seen == str(c2)
    assert e.present_at_head is False
    assert e.present_at_refs == ()
    assert paths(e) == {("history", "config/.env", 3, 16)}
    assert str(c3) not in {c for *_, c, _b in e.locations}


def test_only_on_unmerged_branch(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"README": b"hi\n"})
    b.commit({"README": b"hi again\n"})
    f1 = b.commit({"feature.py": b"x = 1\n" + env_line(2)}, ref="refs/heads/feature", parents=[c1])
    e = only(swept(tmp_path / "r"), 2)
    assert e.first_seen == e.last_seen == str(f1)
    assert e.present_at_head is False
    assert e.present_at_refs == ("refs/heads/feature",)
    assert paths(e) == {("history", "feature.py", 2, 16)}


def test_only_behind_a_tag(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"README": b"hi\n"})
    t1 = b.commit({"deploy.sh": env_line(3)}, ref="refs/heads/tmp", parents=[c1])
    b.tag("v0.1", t1)
    b.delete_ref("refs/heads/tmp")
    b.commit({"README": b"hi 2\n"})
    e = only(swept(tmp_path / "r"), 3)
    assert e.first_seen == e.last_seen == str(t1)
    assert e.present_at_head is False
    assert e.present_at_refs == ("refs/tags/v0.1",)
    assert paths(e) == {("history", "deploy.sh", 1, 16)}


def test_only_in_a_merge_commit(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"README": b"hi\n", "app.env": b"A=1\n"})
    c2 = b.commit({"README": b"main\n"})
    f1 = b.commit({"feature": b"f\n"}, ref="refs/heads/feature", parents=[c1])
    # an evil merge: the key appears in neither parent
    m = b.commit(
        {"feature": b"f\n", "app.env": b"A=1\n" + env_line(4)}, parents=[c2, f1], message="Merge feature"
    )
    e = only(swept(tmp_path / "r"), 4)
    assert e.first_seen == e.last_seen == str(m)
    assert e.present_at_head is True
    assert e.present_at_refs == ("refs/heads/main",)
    assert paths(e) == {("history", "app.env", 2, 16)}


def test_merge_of_a_branch_does_not_introduce(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"README": b"hi\n"})
    c2 = b.commit({"README": b"main\n"})
    f1 = b.commit({"k.env": env_line(5)}, ref="refs/heads/feature", parents=[c1])
    m = b.commit({"k.env": env_line(5)}, parents=[c2, f1], message="Merge")
    e = only(swept(tmp_path / "r"), 5)
    assert e.first_seen == str(f1)
    assert e.last_seen == str(m)
    assert e.present_at_refs == ("refs/heads/feature", "refs/heads/main")


def test_only_in_unreachable_objects(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"README": b"hi\n"})
    amended = b.commit({"secrets.txt": env_line(6)})
    b.repo.references.create("refs/heads/main", c1, force=True)  # "amend": the commit is dropped
    c2 = b.commit({"README": b"fixed\n"})
    dangling = b.blob(b"lost = 1\n" + env_line(7))
    exp = swept(tmp_path / "r")
    e = only(exp, 6)
    assert e.first_seen is None and e.last_seen is None
    assert e.present_at_head is False and e.present_at_refs == ()
    assert {(s, p, c) for s, p, _l, _c, c, _b in e.locations} == {
        ("unreachable", "secrets.txt", str(amended))
    }
    e2 = only(exp, 7)
    assert paths(e2) == {("unreachable", f"blob:{dangling}", 2, 16)}
    assert e2.first_seen is None
    del c2


def test_only_in_a_commit_message(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    c2 = b.commit({"README": b"ho\n"}, message=f"rotate\n\nold key was {make_key(8)}\n")
    b.commit({"README": b"hu\n"})
    e = only(swept(tmp_path / "r"), 8)
    assert e.first_seen == e.last_seen == str(c2)
    assert e.present_at_head is False
    assert paths(e) == {("message", f"commit:{c2}", 3, 13)}


def test_tag_message(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"README": b"hi\n"})
    t = b.tag("v1", c1, message=f"release\n{make_key(9)}\n")
    e = only(swept(tmp_path / "r"), 9)
    assert e.first_seen == e.last_seen == str(t)
    assert paths(e) == {("message", "tag:v1", 2, 1)}


def test_same_key_in_two_files(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    c2 = b.commit({"a/.env": env_line(10)})
    c3 = b.commit({"b/settings.py": b"import os\n\n" + env_line(10, "KEY")})
    e = only(swept(tmp_path / "r"), 10)
    assert e.first_seen == str(c2)
    assert e.last_seen == str(c3)
    assert e.present_at_head is True
    assert paths(e) == {("history", "a/.env", 1, 16), ("history", "b/settings.py", 3, 5)}
    assert {(p, c) for _s, p, _l, _c, c, _b in e.locations} == {
        ("a/.env", str(c2)),
        ("b/settings.py", str(c3)),
    }


def test_rename(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"old/.env": env_line(11)})
    c2 = b.commit({"old/.env": None, "new/.env": env_line(11)})
    e = only(swept(tmp_path / "r"), 11)
    assert e.first_seen == str(c1)
    assert e.last_seen == str(c2)
    assert e.present_at_head is True
    assert {(p, c) for _s, p, _l, _c, c, _b in e.locations} == {("old/.env", str(c1)), ("new/.env", str(c2))}


def test_key_readded_later(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({".env": env_line(12)})
    b.commit({".env": b"# nothing\n"})
    c3 = b.commit({".env": env_line(12)})
    c4 = b.commit({"README": b"x\n"})
    e = only(swept(tmp_path / "r"), 12)
    assert e.first_seen == str(c1)
    assert e.last_seen == str(c4)
    assert e.present_at_head is True
    # one location: the same blob at the same path, first introduced by c1 (c3 brings it back)
    assert {(p, c) for _s, p, _l, _c, c, _b in e.locations} == {(".env", str(c1))}
    del c3


def test_same_blob_on_two_branches(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"README": b"hi\n"})
    a = b.commit({"k.env": env_line(13)}, ref="refs/heads/a", parents=[c1])
    bb = b.commit({"k.env": env_line(13)}, ref="refs/heads/b", parents=[c1])
    e = only(swept(tmp_path / "r"), 13)
    first, second = sorted([a, bb], key=lambda c: (b.repo[c].commit_time, str(c)))
    assert e.first_seen == str(first)
    assert e.last_seen == str(second)
    assert e.present_at_head is False
    assert e.present_at_refs == ("refs/heads/a", "refs/heads/b")
    assert {(p, c) for _s, p, _l, _c, c, _b in e.locations} == {("k.env", str(first))}


def test_non_utf8_path(tmp_path: Path, swept: Swept, scan: Callable[..., object]) -> None:
    b = RepoBuilder(tmp_path / "r")
    name = b"caf\xe9/.env"
    c1 = b.commit({name: env_line(14)})
    e = only(swept(tmp_path / "r"), 14)
    assert e.first_seen == str(c1)
    assert paths(e) == {("history", "caf\ufffd/.env", 1, 16)}
    report = scan(tmp_path / "r")
    loc = report.findings[0].locations[0]  # type: ignore[attr-defined]
    assert loc.path_bytes == base64.b64encode(name).decode()


def test_corrupt_object(tmp_path: Path, swept: Swept, scan: Callable[..., object]) -> None:
    b = RepoBuilder(tmp_path / "r")
    c1 = b.commit({"a.txt": b"alpha\n" * 10, "k.env": env_line(15)})
    c2 = b.commit({"a.txt": b"beta\n" * 10})
    c3 = b.commit({"k2.env": env_line(16)})
    # damage the loose blob of c2's a.txt
    bad = b.repo[b.repo[c2].tree["a.txt"].id].id
    loose = tmp_path / "r" / ".git" / "objects" / str(bad)[:2] / str(bad)[2:]
    loose.chmod(0o644)
    loose.write_bytes(zlib.compress(b"blob 99\x00truncated")[:-4])
    exp = swept(tmp_path / "r")
    assert only(exp, 15).first_seen == str(c1)
    assert only(exp, 16).first_seen == str(c3)
    report = scan(tmp_path / "r")
    assert report.status == "incomplete"  # type: ignore[attr-defined]
    assert report.stats.complete is False  # type: ignore[attr-defined]
    assert report.stats.skipped.get("corrupt-object") == 1  # type: ignore[attr-defined]
    assert str(bad) in report.stats.skipped_examples["corrupt-object"][0]  # type: ignore[attr-defined]


def test_missing_parent_blob_truncates(tmp_path: Path, swept: Swept) -> None:
    """A commit whose parent's blob at P is unreadable introduces nothing there (§4)."""
    b = RepoBuilder(tmp_path / "r")
    b.commit({"k.env": b"# v1\n" + env_line(17)})
    b.commit({"k.env": b"# v2\n" + env_line(17)})
    c1 = b.repo.revparse_single("HEAD~1")
    old = b.repo[c1.tree["k.env"].id].id
    loose = tmp_path / "r" / ".git" / "objects" / str(old)[:2] / str(old)[2:]
    loose.unlink()
    e = only(swept(tmp_path / "r"), 17)
    assert e.first_seen is None and e.first_seen_truncated is True
    assert e.present_at_head is True


def test_gitlink_and_symlink(tmp_path: Path, swept: Swept, scan: Callable[..., object]) -> None:
    b = RepoBuilder(tmp_path / "r")
    sub = bytes.fromhex("12" * 20)
    b.commit({"vendor/lib": (sub, pygit2.GIT_FILEMODE_COMMIT), "link": (b"target", pygit2.GIT_FILEMODE_LINK)})
    b.commit({"k.env": env_line(18)})
    swept(tmp_path / "r")
    report = scan(tmp_path / "r")
    assert report.stats.skipped.get("gitlink") == 1  # type: ignore[attr-defined]
    assert report.status == "ok"  # type: ignore[attr-defined]


def test_bare_repository(tmp_path: Path, swept: Swept) -> None:
    b = RepoBuilder(tmp_path / "r.git", bare=True)
    c1 = b.commit({"k.env": env_line(19)})
    e = only(swept(tmp_path / "r.git"), 19)
    assert e.first_seen == str(c1) and e.present_at_head is True


def test_path_limits_history(tmp_path: Path, scan: Callable[..., object], matcher: object) -> None:
    from tests.conftest import assert_agrees
    from tests.oracle import Oracle, normalize

    b = RepoBuilder(tmp_path / "r")
    b.commit({"web/.env": env_line(20), "api/.env": env_line(21), "README": b"x"})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    report = scan(tmp_path / "r" / "web")
    got = normalize(report, history_only=True)  # type: ignore[arg-type]
    assert set(got) == {digest(make_key(20))}
    assert_agrees(got, Oracle(tmp_path / "r", matcher, b"web").sweep())  # type: ignore[arg-type]


def test_bare_mirror_with_dangling_head(tmp_path: Path, swept: Swept, scan: Callable[..., object]) -> None:
    """A bare repository whose HEAD names a missing branch: HEAD is the default branch (main)."""
    from scanner.config import Mode

    b = RepoBuilder(tmp_path / "m.git", bare=True)
    c1 = b.commit({"k.env": env_line(22)})
    b.repo.references.create("HEAD", "refs/heads/master", force=True)
    e = only(swept(tmp_path / "m.git"), 22)
    assert e.present_at_head is True
    report = scan(tmp_path / "m.git", Mode.TREE)
    assert report.scan.head == str(c1)  # type: ignore[attr-defined]
    assert len(report.findings) == 1  # type: ignore[attr-defined]
    assert scan(tmp_path / "m.git", Mode.RANGE, "HEAD").findings  # type: ignore[attr-defined]
