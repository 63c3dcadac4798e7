"""Pragmas the change under scan adds (`--range`, `--staged`; issue 19 item 2a), on real
repositories through the CLI: which pragmas count as added (a new line or a pragma new on its line,
at that path, against every parent), what the default and the `[pragmas] added-by-change`
setting do with them, and that a parent the scan cannot read is a gap, not a pass."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pygit2
import pytest

from scanner import cli
from scanner.errors import ConfigError
from scanner.suppress.settings import parse_config
from tests.keys import make_key, matcher, rules
from tests.repo_builder import RepoBuilder

GH = "github.pat"  # CRC-32 checksum: verified offline
ANT = "anthropic.api-key"  # nothing to verify offline


def _pragma_line(rule_id: str, seed: int, name: str = "TOKEN", indent: str = "") -> bytes:
    return f"{indent}{name} = '{make_key(rule_id, seed=seed)}'  # keysweep:allow sample\n".encode()


def _scan(path: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    out = path.parent / f"report-{len(list(path.parent.glob('report-*')))}.json"
    code = cli.main(["scan", str(path), "--jobs", "1", "--json", str(out), *flags])
    doc: dict[str, Any] = json.loads(out.read_text())
    return code, doc


def _range(path: Path, base: pygit2.Oid, head: pygit2.Oid, *flags: str) -> tuple[int, dict[str, Any]]:
    return _scan(path, "--range", f"{base}..{head}", *flags)


# --- the engine: which matches are verified offline ------------------------------------------


@pytest.mark.parametrize(
    ("rule_id", "verified"),
    [
        (GH, True),
        ("openai.project-key", True),
        ("openai.legacy-key", True),
        (ANT, False),
        ("xai.api-key", False),
    ],
)
def test_a_match_says_whether_its_structure_is_verified_offline(rule_id: str, verified: bool) -> None:
    data = f'KEY = "{make_key(rule_id, seed=7)}"\n'.encode()
    (m,) = [m for m in matcher().scan(data) if m.rule_id == rule_id]
    assert m.verified is verified


# --- the range ------------------------------------------------------------------------------


def test_a_pragma_added_in_an_earlier_commit_of_the_range_is_still_the_changes(tmp_path: Path) -> None:
    """c1 adds the pragma'd key, c2 edits another line of the file: against its parent c2's line is
    old, but c1's is new, and the range is the change."""
    b = RepoBuilder(tmp_path / "repo")
    c0 = b.commit({"README": b"hi\n"})
    line = _pragma_line(GH, 1)
    b.commit({"app.py": line})
    c2 = b.commit({"app.py": line + b"DEBUG = True\n"})
    code, doc = _range(b.path, c0, c2)
    assert code == 1
    (f,) = doc["findings"]
    assert f["rule_id"] == GH and f["pragma_ignored"].startswith("its structure is verified offline")
    assert any(loc.get("pragma_added") for loc in f["locations"])


def test_a_pragma_on_the_base_line_is_not_the_changes_even_reindented(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    c0 = b.commit({"app.py": _pragma_line(GH, 2)})
    c1 = b.commit({"app.py": b"if True:\n" + _pragma_line(GH, 2, indent="    ")})
    code, doc = _range(b.path, c0, c1)
    assert code == 0 and doc["findings"] == []
    (f,) = doc["suppressed"]  # reported (its blob changed) and suppressed by the base's own pragma
    assert f["suppression"] == {"kind": "pragma", "reason": "inline keysweep:allow"}


def test_the_same_pragma_line_at_another_path_is_added(tmp_path: Path) -> None:
    """A pragma'd line copied to a new file: the pragma is on a blob the range introduces there."""
    b = RepoBuilder(tmp_path / "repo")
    line = _pragma_line(GH, 3)
    c0 = b.commit({"old.py": line})
    c1 = b.commit({"new.py": line})
    code, doc = _range(b.path, c0, c1)
    assert code == 1
    (f,) = doc["findings"]
    assert [loc["path"] for loc in f["locations"]] == ["new.py"]


def test_a_moved_pragma_line_is_a_move_not_a_new_leak(tmp_path: Path) -> None:
    """A file with the base's pragma'd key renamed (and edited): at the new path the pragma is new,
    so it does not suppress the verified key, but the key only moved, which the gate never counts.
    A key that loses its pragma on the way is still counted, as before."""
    b = RepoBuilder(tmp_path / "repo")
    key = make_key(GH, seed=15)
    c0 = b.commit({"old.py": f"TOKEN = '{key}'  # keysweep:allow\n".encode()})
    c1 = b.commit({"old.py": None, "new.py": f"TOKEN = '{key}'  # keysweep:allow\nX = 1\n".encode()})
    code, doc = _range(b.path, c0, c1)
    assert code == 0
    (f,) = doc["findings"]
    assert f["moved_from"] == "old.py" and f["pragma_ignored"] is not None
    c2 = b.commit({"old.py": f"TOKEN = '{key}'  # keysweep:allow\n".encode(), "new.py": None}, parents=[c0])
    c3 = b.commit({"old.py": None, "new.py": f"TOKEN = '{key}'\n".encode()}, parents=[c2])
    code, doc = _range(b.path, c2, c3)
    assert code == 1 and doc["findings"][0]["moved_from"] is None


def test_a_pragma_new_on_an_existing_key_line_adds_no_secret(tmp_path: Path) -> None:
    """The key was on the base without a pragma: the range introduces no secret, the pragma only
    marks one that was there (the full sweep reports it as before)."""
    b = RepoBuilder(tmp_path / "repo")
    key = make_key(GH, seed=4)
    c0 = b.commit({"app.py": f"TOKEN = '{key}'\n".encode()})
    c1 = b.commit({"app.py": f"TOKEN = '{key}'  # keysweep:allow\n".encode()})
    code, doc = _range(b.path, c0, c1)
    assert code == 0 and doc["findings"] == [] and doc["suppressed"] == []


def test_a_merge_commit_compares_with_every_parent(tmp_path: Path) -> None:
    """A merge of a side branch that added the pragma'd line: against the side parent the merge's
    line is old, against main it is new; the side commit, in the range too, added it."""
    b = RepoBuilder(tmp_path / "repo")
    c0 = b.commit({"README": b"hi\n"})
    side = b.commit({"app.py": _pragma_line(GH, 5)}, parents=[c0], ref="refs/heads/side")
    main = b.commit({"README": b"hi there\n"}, parents=[c0])
    merge = b.commit({"app.py": _pragma_line(GH, 5)}, parents=[main, side])
    code, doc = _range(b.path, c0, merge)
    assert code == 1 and [f["rule_id"] for f in doc["findings"]] == [GH]
    # the main line alone (the merge's first-parent view) sees the same
    code, doc = _range(b.path, main, merge)
    assert code == 1


def test_a_pragma_in_a_commit_message_of_the_range_is_added(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    c0 = b.commit({"README": b"hi\n"})
    c1 = b.commit({"README": b"hi!\n"}, message=f"rotate {make_key(GH, seed=6)} keysweep:allow\n")
    code, doc = _range(b.path, c0, c1)
    assert code == 1
    (f,) = doc["findings"]
    assert f["locations"][0]["source"] == "message" and f["locations"][0]["pragma_added"] is True


def test_an_unreadable_parent_cannot_vouch_for_a_verified_keys_pragma(tmp_path: Path) -> None:
    """The parent's directory is gone from the clone: whether the range added the secret (and its
    pragma) cannot be told, so the scan is incomplete (exit 3), never a pass. (Before, a
    pragma'd secret there was no gap, as if every pragma suppressed.)"""
    b = RepoBuilder(tmp_path / "repo")
    c0 = b.commit({"dir/app.py": b"first = 1\n"})
    c1 = b.commit({"dir/app.py": b"first = 1\n" + _pragma_line(GH, 8)})
    gone = b.repo.revparse_single(f"{c0}:dir").id
    (b.path / ".git" / "objects" / str(gone)[:2] / str(gone)[2:]).unlink()
    code, doc = _range(b.path, c0, c1)
    assert code == 3 and doc["status"] == "failed"
    assert "a parent's blob needed to tell" in doc["stats"]["skipped"]["missing-object"]["examples"][0]


# --- the index (pre-commit) -----------------------------------------------------------------


def _stage(b: RepoBuilder, name: str, data: bytes) -> None:
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (b.path / name).write_bytes(data)
    b.repo.index.read()
    b.repo.index.add(name)
    b.repo.index.write()


def test_staged_verified_key_with_a_new_pragma_is_counted(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    b.commit({"README": b"hi\n"})
    _stage(b, "app.py", _pragma_line(GH, 9))
    code, doc = _scan(b.path, "--staged")
    assert code == 1
    (f,) = doc["findings"]
    assert f["locations"][0]["source"] == "staged" and f["locations"][0]["pragma_added"] is True


def test_staged_pragma_already_at_head_still_suppresses(tmp_path: Path) -> None:
    b = RepoBuilder(tmp_path / "repo")
    line = _pragma_line(GH, 10)
    b.commit({"app.py": line})
    _stage(b, "app.py", line + b"DEBUG = True\n")
    code, doc = _scan(b.path, "--staged")
    assert code == 0 and doc["findings"] == []


def test_a_tree_scan_does_not_treat_the_index_as_a_change(tmp_path: Path) -> None:
    """`--no-history` reads the index too, as part of the tree's state: pragmas there are kept."""
    b = RepoBuilder(tmp_path / "repo")
    b.commit({"README": b"hi\n"})
    _stage(b, "app.py", _pragma_line(GH, 11))
    code, doc = _scan(b.path, "--no-history")
    assert code == 0 and doc["findings"] == []


# --- the setting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "rule_id", "code"),
    [("all", GH, 0), ("none", ANT, 1), ("unverified", GH, 1), ("unverified", ANT, 0)],
)
def test_the_setting_decides(tmp_path: Path, setting: str, rule_id: str, code: int) -> None:
    b = RepoBuilder(tmp_path / "repo")
    config = f'[pragmas]\nadded-by-change = "{setting}"\n'.encode()
    c0 = b.commit({".keysweep.toml": config})
    c1 = b.commit({"app.py": _pragma_line(rule_id, 12)})
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    got, doc = _range(b.path, c0, c1)
    assert got == code
    if code == 0:
        (f,) = doc["suppressed"]
        assert f["suppression"]["added_by_change"] is True
        assert f["suppression"]["reason"] == "suppressed by a pragma this change adds"


def parse(text: str) -> object:
    return parse_config(textwrap.dedent(text), "cfg/.keysweep.toml", rules())


def test_the_setting_is_parsed_and_defaults_to_unverified() -> None:
    from scanner.suppress.policy import AddedPragmas

    assert parse("").policy.added_pragmas is AddedPragmas.UNVERIFIED  # type: ignore[attr-defined]
    got = parse('[pragmas]\nadded-by-change = "none"\n')
    assert got.policy.added_pragmas is AddedPragmas.NONE  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        (
            '[pragmas]\nadded-by-change = "sometimes"\n',
            "cfg/.keysweep.toml:2: pragmas.added-by-change",
            "one of",
        ),
        ('[pragmas]\nadded = "all"\n', "cfg/.keysweep.toml:2: pragmas.added", "unknown key"),
        ('pragmas = "all"\n', "cfg/.keysweep.toml:1: pragmas", "must be a table"),
    ],
)
def test_bad_settings_are_named(text: str, where: str, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse(text)
    assert where in str(e.value) and says in str(e.value), str(e.value)


# --- every report of a range says it --------------------------------------------------------


def test_every_output_of_a_range_shows_its_added_pragmas(tmp_path: Path) -> None:
    """One range, both outcomes: a verified key its pragma does not pass, an unverifiable one it
    does; the JSON and SARIF stay valid against their schemas and never hold the keys."""
    import jsonschema  # type: ignore[import-untyped]

    from tests.keys import leak_windows
    from tests.output_fixtures import load_schema, log_safety_problems, sarif_schema_errors

    b = RepoBuilder(tmp_path / "repo")
    c0 = b.commit({"README": b"hi\n"})
    gh, ant = make_key(GH, seed=13), make_key(ANT, seed=14)
    c1 = b.commit(
        {
            "a.py": f"T = '{gh}'  # keysweep:allow\n".encode(),
            "b.py": f"A = '{ant}' # keysweep:allow\n".encode(),
        }
    )
    out = {name: tmp_path / name for name in ("r.json", "r.sarif", "summary.md")}
    args = ["--json", str(out["r.json"]), "--sarif", str(out["r.sarif"]), "--summary", str(out["summary.md"])]
    code = cli.main(["scan", str(b.path), "--jobs", "1", "--range", f"{c0}..{c1}", *args])
    assert code == 1
    doc = json.loads(out["r.json"].read_text())
    assert (
        list(jsonschema.Draft202012Validator(load_schema("keysweep-report-v1.json")).iter_errors(doc)) == []
    )
    (counted,) = doc["findings"]
    assert counted["rule_id"] == GH and counted["pragma_ignored"].startswith(
        "its structure is verified offline"
    )
    (quiet,) = doc["suppressed"]
    assert quiet["rule_id"] == ANT and quiet["suppression"]["added_by_change"] is True
    sarif = json.loads(out["r.sarif"].read_text())
    assert sarif_schema_errors(sarif) == []
    run = sarif["runs"][0]
    (result,) = run["results"]
    assert result["properties"]["keysweep/pragma_ignored"] == counted["pragma_ignored"]
    assert "A keysweep:allow that this change adds does not suppress it" in result["message"]["text"]
    assert run["properties"]["keysweep/suppressed_by_added_pragma"] == [
        {"ruleId": ANT, "fingerprint": quiet["fingerprint"], "uri": "b.py", "line": 1}
    ]
    summary = out["summary.md"].read_text()
    assert "### Pragmas this change adds" in summary
    assert "- Suppressed by a pragma this change adds: Anthropic API key" in summary
    assert "- **Counted**, not suppressed by the pragma this change adds: GitHub" in summary
    texts = {name: path.read_text() for name, path in out.items()}
    for key, skip in ((gh, 4), (ant, len("sk-ant-api03-"))):
        for name, text in texts.items():
            assert not [w for w in leak_windows(key, skip=skip) if w in text], name
    assert log_safety_problems(texts["summary.md"]) == []
