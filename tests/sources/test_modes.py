"""--range, --staged, --no-history and worker counts, checked against the oracle and the CLI contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pygit2
import pytest

from scanner.cli import main
from scanner.config import Mode
from scanner.detect.engine import Matcher
from scanner.git.refs import parse_range
from scanner.model import Report
from tests.conftest import assert_agrees
from tests.oracle import Oracle, digest, normalize
from tests.repo_builder import RepoBuilder, env_line, make_key

Scan = Callable[..., Report]


def _pr_repo(root: Path) -> tuple[RepoBuilder, dict[str, pygit2.Oid]]:
    b = RepoBuilder(root)
    c = {}
    c["base"] = b.commit({"README": b"hi\n", "old/.env": env_line(30)})
    c["main2"] = b.commit({"README": b"main\n"})
    b.commit({"feat.py": b"x\n"}, ref="refs/heads/pr", parents=[c["base"]])
    c["add"] = b.commit({"feat.env": b"# new\n" + env_line(31)}, ref="refs/heads/pr")
    c["move"] = b.commit({"old/.env": None, "new/.env": env_line(30)}, ref="refs/heads/pr")
    c["msg"] = b.commit({"feat.py": b"y\n"}, ref="refs/heads/pr", message=f"oops {make_key(32)}\n")
    c["del"] = b.commit({"feat.env": b"# gone\n"}, ref="refs/heads/pr")
    return b, c


def _range(scan: Scan, matcher: Matcher, root: Path, expr: str) -> dict[str, object]:
    report = scan(root, Mode.RANGE, expr)
    assert report.scan.mode == "range" and report.scan.range == expr
    got = normalize(report)
    inc, exc = parse_range(expr)
    repo = pygit2.Repository(str(root))
    want = Oracle(root, matcher).range(
        [str(repo.revparse_single(x).id) for x in inc], [str(repo.revparse_single(x).id) for x in exc]
    )
    assert_agrees(got, want)
    assert all(f.scope == "range" for f in report.findings)
    return got  # type: ignore[return-value]


def test_range_reports_what_it_introduces(tmp_path: Path, scan: Scan, matcher: Matcher) -> None:
    _b, c = _pr_repo(tmp_path / "r")
    got = _range(scan, matcher, tmp_path / "r", "main..pr")
    assert set(got) == {digest(make_key(k)) for k in (30, 31, 32)}
    added = got[digest(make_key(31))]
    assert added.first_seen == str(c["add"]) and added.moved_from is None  # type: ignore[attr-defined]
    assert added.last_seen == str(c["msg"])  # type: ignore[attr-defined]
    assert added.present_at_head is False  # type: ignore[attr-defined]
    moved = got[digest(make_key(30))]
    assert moved.moved_from == "old/.env" and moved.first_seen == str(c["move"])  # type: ignore[attr-defined]
    assert moved.present_at_refs == ("refs/heads/pr",)  # type: ignore[attr-defined]
    msg = got[digest(make_key(32))]
    assert msg.first_seen == str(c["msg"])  # type: ignore[attr-defined]


def test_range_forms_agree(tmp_path: Path, scan: Scan, matcher: Matcher) -> None:
    _pr_repo(tmp_path / "r")
    a = _range(scan, matcher, tmp_path / "r", "main..pr")
    b = _range(scan, matcher, tmp_path / "r", "pr ^main")
    assert a == b
    assert _range(scan, matcher, tmp_path / "r", "pr..main") == {}


def test_range_exit_codes_and_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _b, c = _pr_repo(tmp_path / "r")
    root = str(tmp_path / "r")
    out = tmp_path / "o.json"
    assert main(["scan", root, "--range", "main..pr", "--json", str(out)]) == 1
    rep = json.loads(out.read_text())
    assert rep["scan"]["mode"] == "range" and rep["scan"]["head"] == str(c["del"])
    # only the move: reported, does not count for --fail-on
    assert main(["scan", root, "--range", f"{c['add']}..{c['move']}", "--json", str(out)]) == 0
    rep = json.loads(out.read_text())
    assert [f["moved_from"] for f in rep["findings"]] == ["old/.env"]
    assert main(["scan", root, "--range", "main...pr"]) == 2
    assert main(["scan", root, "--range", "nosuchbranch..pr"]) == 2
    assert main(["scan", root, "--range", "ma:in..pr"]) == 2
    assert main(["scan", root, "--range", "deadbeef" * 5 + "..pr", "--json", str(out)]) == 3
    assert json.loads(out.read_text())["status"] == "failed"
    assert "fetch-depth: 0" in capsys.readouterr().err
    assert main(["scan", root, "--range", "x", "--staged"]) == 2  # mutually exclusive


def test_range_copy_is_a_new_leak(tmp_path: Path, scan: Scan, matcher: Matcher) -> None:
    """The old path left as it was: a copy, not a move (counted by --fail-on)."""
    b = RepoBuilder(tmp_path / "r")
    base = b.commit({"a.env": env_line(60), "README": b"hi\n"})
    copy = b.commit({"b.env": b"# copied\n" + env_line(60)})
    got = _range(scan, matcher, tmp_path / "r", f"{base}..{copy}")
    assert set(got) == {digest(make_key(60))}
    found = got[digest(make_key(60))]
    assert found.moved_from is None and found.first_seen == str(copy)  # type: ignore[attr-defined]
    assert {loc[1] for loc in found.locations} == {"b.env"}  # type: ignore[attr-defined]
    out = tmp_path / "o.json"
    root = str(tmp_path / "r")
    assert main(["scan", root, "--range", f"{base}..{copy}", "--fail-on", "high", "--json", str(out)]) == 1
    rep = json.loads(out.read_text())
    got_json = [(f["moved_from"], [loc["path"] for loc in f["locations"]]) for f in rep["findings"]]
    assert got_json == [(None, ["b.env"])]


def test_range_move_that_edits_the_old_file(tmp_path: Path, scan: Scan, matcher: Matcher) -> None:
    """The old file stays but loses the key in the same commit: a move from it."""
    b = RepoBuilder(tmp_path / "r")
    base = b.commit({"conf/old.env": b"A=1\n" + env_line(61), "README": b"hi\n"})
    move = b.commit({"conf/old.env": b"A=1\n", "srv/new.env": env_line(61)})
    got = _range(scan, matcher, tmp_path / "r", f"{base}..{move}")
    assert got[digest(make_key(61))].moved_from == "conf/old.env"  # type: ignore[attr-defined]
    root = str(tmp_path / "r")
    assert main(["scan", root, "--range", f"{base}..{move}", "--fail-on", "high"]) == 0


def test_range_merge_moves_from_its_second_parent(tmp_path: Path, scan: Scan, matcher: Matcher) -> None:
    """A merge whose result drops the second parent's file and holds its key elsewhere: a move."""
    b = RepoBuilder(tmp_path / "r")
    base = b.commit({"README": b"hi\n"})
    side = b.commit({"side/.env": env_line(62)}, ref="refs/heads/side", parents=[base])
    main_tip = b.commit({"README": b"main\n"})
    merge = b.commit({"app/.env": env_line(62)}, parents=[main_tip, side], message="merge side")
    assert b"side/.env" not in b.files[merge]
    got = _range(scan, matcher, tmp_path / "r", f"{side}..{merge}")
    assert set(got) == {digest(make_key(62))}
    moved = got[digest(make_key(62))]
    assert moved.moved_from == "side/.env" and moved.first_seen == str(merge)  # type: ignore[attr-defined]
    root = str(tmp_path / "r")
    assert main(["scan", root, "--range", f"{side}..{merge}", "--fail-on", "high"]) == 0


def test_staged(tmp_path: Path, scan: Scan, matcher: Matcher) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"keep.env": env_line(40), "README": b"hi\n"})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (tmp_path / "r" / "new.env").write_bytes(env_line(41))
    (tmp_path / "r" / "keep.env").write_bytes(b"# edited\n" + env_line(40))  # HEAD's blob holds it: no count
    (tmp_path / "r" / "moved.env").write_bytes(env_line(40))
    (tmp_path / "r" / "unstaged.env").write_bytes(env_line(42))  # never read in this mode
    idx = b.repo.index
    for p in ("new.env", "keep.env", "moved.env"):
        idx.add(p)
    idx.write()
    report = scan(tmp_path / "r", Mode.STAGED)
    got = normalize(report)
    assert_agrees(got, Oracle(tmp_path / "r", matcher).staged())
    assert set(got) == {digest(make_key(41)), digest(make_key(40))}
    assert {loc[1] for loc in got[digest(make_key(40))].locations} == {"moved.env"}
    assert all(f.present_at_head is None and f.first_seen is None for f in report.findings)


def test_staged_conflict_and_unborn_head(tmp_path: Path, scan: Scan, matcher: Matcher) -> None:
    b = RepoBuilder(tmp_path / "u")
    (tmp_path / "u" / "a.env").write_bytes(env_line(43))
    b.repo.index.add("a.env")
    b.repo.index.write()
    got = normalize(scan(tmp_path / "u", Mode.STAGED))
    assert set(got) == {digest(make_key(43))}
    assert_agrees(got, Oracle(tmp_path / "u", matcher).staged())

    b = RepoBuilder(tmp_path / "c")
    base = b.commit({"f.env": b"A=1\n"})
    ours = b.commit({"f.env": b"A=2\n" + env_line(44)})
    theirs = b.commit({"f.env": b"A=3\n" + env_line(45)}, ref="refs/heads/other", parents=[base])
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    b.repo.merge(theirs)
    assert b.repo.index.conflicts is not None
    got = normalize(scan(tmp_path / "c", Mode.STAGED))
    assert_agrees(got, Oracle(tmp_path / "c", matcher).staged())
    assert set(got) == {digest(make_key(45))}  # stage 2 is HEAD's blob; stage 3 brings the other key
    del ours


def test_tree_scan(tmp_path: Path, scan: Scan) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"gone.env": env_line(50)})
    head = b.commit({"gone.env": None, "src/k.py": b"\n" + env_line(51)})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (tmp_path / "r" / "untracked.env").write_bytes(env_line(52))
    (tmp_path / "r" / ".gitignore").write_bytes(b".env.local\n")
    (tmp_path / "r" / ".env.local").write_bytes(env_line(53))
    report = scan(tmp_path / "r", Mode.TREE)
    assert report.scan.mode == "tree" and report.scan.head == str(head)
    by = {f.secret_sha256: f for f in report.findings}
    assert set(by) == {digest(make_key(k)) for k in (51, 52, 53)}
    f51 = by[digest(make_key(51))]
    assert f51.present_at_head is True
    assert [(x.source.value, x.path, x.position.line, x.commit) for x in f51.locations] == [
        ("history", "src/k.py", 2, str(head))
    ]
    assert by[digest(make_key(52))].locations[0].source.value == "worktree"
    local = by[digest(make_key(53))]
    assert local.exposure.value == "local-only" and local.severity.value == "low"


def test_full_sweep_includes_worktree_and_staged(
    tmp_path: Path, scan: Scan, swept: Callable[..., object]
) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (tmp_path / "r" / "staged.env").write_bytes(env_line(54))
    b.repo.index.add("staged.env")
    b.repo.index.write()
    (tmp_path / "r" / "wip.env").write_bytes(env_line(55))
    swept(tmp_path / "r")  # the staged blob agrees with the oracle
    report = scan(tmp_path / "r")
    assert report.scan.mode == "history"
    src = {f.secret_sha256: f.locations[0].source.value for f in report.findings}
    assert src == {digest(make_key(54)): "staged", digest(make_key(55)): "worktree"}


def test_one_and_many_workers_agree(tmp_path: Path, scan: Scan) -> None:
    b = RepoBuilder(tmp_path / "r")
    c = b.commit({"README": b"hi\n"})
    for i in range(60):
        files: dict[str | bytes, bytes | None] = {f"d{i % 7}/f{i}.txt": b"line\n" * (i + 1)}
        if i % 9 == 0:
            files[f"d{i % 7}/k{i}.env"] = env_line(100 + i)
        if i % 13 == 0:
            files[f"d{(i + 3) % 7}/k{i - 13}.env"] = None
        c = b.commit(files, message=f"c{i}" + (f" {make_key(200 + i)}" if i % 20 == 0 else ""))
        if i % 15 == 0:
            b.commit({f"side{i}.env": env_line(300 + i)}, ref=f"refs/heads/side{i}", parents=[c])
    import scanner.sources.history.sweep as repository

    # worker processes even for this small repository, over many small chunks
    old = repository.POOL_MIN_OBJECTS, repository.CHUNK_OBJECTS
    repository.POOL_MIN_OBJECTS, repository.CHUNK_OBJECTS = 0, 16
    try:
        one = scan(tmp_path / "r", jobs=1)
        many = scan(tmp_path / "r", jobs=3)
    finally:
        repository.POOL_MIN_OBJECTS, repository.CHUNK_OBJECTS = old
    assert one.findings and one.findings == many.findings
    assert one.stats.blobs == many.stats.blobs and one.stats.commits == many.stats.commits
