"""The baseline end to end: created from a scan, it survives a rename, a line move and a reformat
without churn; a copy of an old secret is reported; stale entries are listed; an update with
nothing new is byte-identical, and one with changes touches only the entries that changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pygit2
import pytest

from scanner import cli
from scanner.errors import BaselineError
from scanner.suppress.baseline import parse_baseline, render_baseline
from tests.keys import make_key
from tests.repo_builder import RepoBuilder

WEAK_RULE = "database.connection-url"  # the whole URL is the secret; db-url makes it weak (§4)


def env(*pairs: tuple[str, str]) -> bytes:
    return "".join(f"{k}={v}\n" for k, v in pairs).encode()


def build(tmp_path: Path, files: dict[str, bytes]) -> RepoBuilder:
    b = RepoBuilder(tmp_path / "repo")
    b.commit(files, message="initial")
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    return b


def commit(b: RepoBuilder, changes: dict[str, bytes | None], message: str = "change") -> None:
    b.commit(changes, message=message)  # type: ignore[arg-type]
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)


def scan(path: Path, tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "report.json"
    code = cli.main(["scan", str(path), "--jobs", "1", "--json", str(out), *extra])
    doc: dict[str, Any] = json.loads(out.read_text())
    return code, doc


def baseline(command: str, path: Path, out: Path, *extra: str) -> None:
    assert cli.main(["baseline", command, str(path), "--output", str(out), "--jobs", "1", *extra]) == 0


def entries(path: Path) -> list[dict[str, Any]]:
    doc: dict[str, Any] = json.loads(path.read_text())
    return list(doc["entries"])


@pytest.fixture
def keys() -> list[str]:
    return [make_key(seed=s) for s in (11, 12, 13, 14)]


def test_create_then_scan_marks_baselined_and_passes(tmp_path: Path, keys: list[str]) -> None:
    b = build(tmp_path, {"config/.env": env(("OPENAI_API_KEY", keys[0])), "src/app.py": b"print(1)\n"})
    code, before = scan(b.path, tmp_path)
    assert code == 1 and len(before["findings"]) == 1
    base = tmp_path / "baseline.json"
    baseline("create", b.path, base, "--reason", "revoked test key")
    (entry,) = entries(base)
    assert entry["fingerprint"] == before["findings"][0]["fingerprint"]
    assert entry["rule_id"] == "openai.project-key"
    assert entry["redacted"] == before["findings"][0]["redacted"]
    assert entry["first_seen"] == before["findings"][0]["first_seen"]["commit"]
    assert entry["paths"] == ["config/.env"] and entry["held_at_head"] == ["config/.env"]
    assert entry["reason"] == "revoked test key"
    assert keys[0] not in base.read_text() and keys[0][-12:] not in base.read_text()
    code, after = scan(b.path, tmp_path, "--baseline", str(base))
    assert code == 0, "a baselined finding never counts for --fail-on"
    (f,) = after["findings"]
    assert f["baselined"] is True and f["baseline_state"] == "unchanged"
    assert f["suppression"] == {"kind": "baseline", "reason": "revoked test key"}
    assert after["stats"]["suppressed"] == {"baseline": 1}
    assert after["baseline"] == {"entries": 1, "matched": 1, "grown": 0, "stale_checked": True, "stale": []}
    # --no-suppress shows and counts everything
    code, raw = scan(b.path, tmp_path, "--baseline", str(base), "--no-suppress")
    assert code == 1 and raw["findings"][0]["baselined"] is False and raw["stats"]["suppressed"] == {}
    # create never overwrites
    assert cli.main(["baseline", "create", str(b.path), "--output", str(base)]) == 2


@pytest.mark.parametrize("change", ["rename", "line-move", "reformat"])
def test_baseline_survives_without_churn(tmp_path: Path, keys: list[str], change: str) -> None:
    weak = make_key(WEAK_RULE, seed=5)
    original = env(("DEBUG", "0"), ("OPENAI_API_KEY", keys[0]), ("DATABASE_URL", weak))
    b = build(tmp_path, {"config/.env": original, "README.md": b"# app\n"})
    base = tmp_path / "baseline.json"
    baseline("create", b.path, base)
    created = base.read_bytes()
    assert {e["rule_id"] for e in entries(base)} == {"openai.project-key", WEAK_RULE}
    weak_entry = next(e for e in entries(base) if e["rule_id"] == WEAK_RULE)
    _, first = scan(b.path, tmp_path)
    weak_finding = next(f for f in first["findings"] if f["rule_id"] == WEAK_RULE)
    assert weak_finding["secret_sha256"] is None  # weak: no digest, fingerprint from the masked line
    assert weak_entry["fingerprint"] == weak_finding["fingerprint"]
    if change == "rename":
        commit(b, {"config/.env": None, "deploy/prod.env": original})
    elif change == "line-move":
        commit(b, {"config/.env": b"# moved down\n" * 7 + original})
    else:  # the same values, re-indented and spaced differently
        commit(
            b,
            {
                "config/.env": f"  DEBUG = 0\n  OPENAI_API_KEY = {keys[0]}\n  DATABASE_URL =  {weak}\n".encode()
            },
        )
    code, doc = scan(b.path, tmp_path, "--baseline", str(base))
    assert code == 0, [(f["rule_id"], f.get("baseline_state")) for f in doc["findings"]]
    assert sorted(f["baseline_state"] for f in doc["findings"]) == ["unchanged", "unchanged"]
    assert doc["baseline"]["stale"] == []
    # a tree scan sees only HEAD, whose line moved, was renamed or reformatted: the weak secret's
    # fingerprint (rule + masked line, no path, no line number) must still match
    code, tree = scan(b.path, tmp_path, "--baseline", str(base), "--no-history")
    assert code == 0, [(f["rule_id"], f.get("baseline_state")) for f in tree["findings"]]
    assert sorted(f["baseline_state"] for f in tree["findings"]) == ["unchanged", "unchanged"]
    baseline("update", b.path, base)
    if change == "rename":
        # the entries' paths are refreshed, nothing else: fingerprints, order and count stay
        now = entries(base)
        assert [e["fingerprint"] for e in now] == [e["fingerprint"] for e in json.loads(created)["entries"]]
        for e in now:
            assert e["held_at_head"] == ["deploy/prod.env"]
            assert e["paths"] == ["config/.env", "deploy/prod.env"]
        refreshed = base.read_bytes()
        baseline("update", b.path, base)
        assert base.read_bytes() == refreshed
    else:
        assert base.read_bytes() == created, "an update with nothing changed rewrites nothing"


def test_copy_of_a_baselined_secret_is_reported(tmp_path: Path, keys: list[str]) -> None:
    b = build(tmp_path, {"a.env": env(("OPENAI_API_KEY", keys[0]))})
    base = tmp_path / "baseline.json"
    baseline("create", b.path, base)
    commit(b, {"b/copy.env": env(("OPENAI_API_KEY", keys[0]))})  # a.env left as it was
    code, doc = scan(b.path, tmp_path, "--baseline", str(base))
    assert code == 1, "the exposure grew: one more file holds the secret"
    (f,) = doc["findings"]
    assert f["baseline_state"] == "updated" and f["baselined"] is False and "suppression" not in f
    assert doc["baseline"]["grown"] == 1
    assert "baseline" not in doc["stats"]["suppressed"]
    # the tree scan agrees
    code, tree = scan(b.path, tmp_path, "--baseline", str(base), "--no-history")
    assert code == 1 and tree["findings"][0]["baseline_state"] == "updated"
    # acknowledging the copy with an update makes it pass again
    baseline("update", b.path, base)
    assert entries(base)[0]["held_at_head"] == ["a.env", "b/copy.env"]
    assert scan(b.path, tmp_path, "--baseline", str(base))[0] == 0


def test_staged_copy_is_reported_and_staged_edit_is_not(tmp_path: Path, keys: list[str]) -> None:
    b = build(tmp_path, {"a.env": env(("OPENAI_API_KEY", keys[0]))})
    base = tmp_path / "baseline.json"
    baseline("create", b.path, base)
    (b.path / "a.env").write_bytes(env(("X", "1"), ("OPENAI_API_KEY", keys[0])))
    b.repo.index.read()
    b.repo.index.add("a.env")
    b.repo.index.write()
    assert scan(b.path, tmp_path, "--staged", "--baseline", str(base))[0] == 0
    (b.path / "new.env").write_bytes(env(("OPENAI_API_KEY", keys[0])))
    b.repo.index.add("new.env")
    b.repo.index.write()
    code, doc = scan(b.path, tmp_path, "--staged", "--baseline", str(base))
    assert code == 1 and doc["findings"][0]["baseline_state"] == "updated"
    assert doc["baseline"]["stale_checked"] is False and doc["baseline"]["stale"] == []


def test_stale_entries_are_listed_and_pruned(
    tmp_path: Path, keys: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    d = tmp_path / "dir"
    d.mkdir()
    (d / "one.env").write_bytes(env(("OPENAI_API_KEY", keys[0])))
    (d / "two.env").write_bytes(env(("OPENAI_API_KEY", keys[1])))
    base = tmp_path / "baseline.json"
    baseline("create", d, base)
    assert len(entries(base)) == 2
    gone = next(e for e in entries(base) if e["paths"] == ["two.env"])
    (d / "two.env").unlink()
    code, doc = scan(d, tmp_path, "--baseline", str(base))
    assert code == 0
    assert doc["baseline"]["stale"] == [
        {
            "fingerprint": gone["fingerprint"],
            "rule_id": gone["rule_id"],
            "redacted": gone["redacted"],
            "paths": ["two.env"],
        }
    ]
    assert cli.main(["scan", str(d), "--jobs", "1", "--baseline", str(base)]) == 0
    out = capsys.readouterr().out
    assert (
        "1 stale" in out
        and f"fingerprint {gone['fingerprint'][:12]} (was at two.env): no longer found" in out
    )
    before = base.read_bytes()
    baseline("update", d, base)
    assert base.read_bytes() == before, "stale entries are kept unless pruned"
    assert f"stale: {gone['rule_id']} {gone['fingerprint'][:12]}" in capsys.readouterr().err
    baseline("update", d, base, "--prune")
    assert [e["paths"] for e in entries(base)] == [["one.env"]]


def test_update_touches_only_changed_entries_and_keeps_order(tmp_path: Path, keys: list[str]) -> None:
    b = build(
        tmp_path,
        {
            "a.env": env(("OPENAI_API_KEY", keys[0])),
            "b.env": env(("OPENAI_API_KEY", keys[1])),
            "c.env": env(("OPENAI_API_KEY", keys[2])),
        },
    )
    base = tmp_path / "baseline.json"
    baseline("create", b.path, base)
    old = entries(base)
    assert [e["fingerprint"] for e in old] == sorted(e["fingerprint"] for e in old)  # sorted by (rule, fp)
    # a reviewer adds a reason by hand; an update keeps it
    doc = json.loads(base.read_text())
    doc["entries"][1]["reason"] = "rotated 2024-06"
    base.write_text(json.dumps(doc, indent=2) + "\n")
    moved = next(e for e in old if e["paths"] == ["b.env"])
    commit(
        b,
        {
            "b.env": None,
            "moved/b.env": env(("OPENAI_API_KEY", keys[1])),
            "d.env": env(("OPENAI_API_KEY", keys[3])),
        },
    )
    baseline("update", b.path, base)
    new = entries(base)
    assert new[1].get("reason") == "rotated 2024-06"
    by_fp = {e["fingerprint"]: e for e in new}
    for e in old:
        if e["fingerprint"] != moved["fingerprint"]:
            want = dict(e)
            if e["fingerprint"] == old[1]["fingerprint"]:
                want["reason"] = "rotated 2024-06"
            assert by_fp[e["fingerprint"]] == want, "an unchanged secret's entry is untouched"
    assert by_fp[moved["fingerprint"]]["held_at_head"] == ["moved/b.env"]
    assert len(new) == 4 and [e["fingerprint"] for e in new] == sorted(by_fp)
    old_order = [e["fingerprint"] for e in old]
    assert [fp for fp in by_fp if fp in old_order] == old_order  # old entries keep their order


def test_baseline_file_errors_and_key_mismatch(
    tmp_path: Path, keys: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    b = build(tmp_path, {"a.env": env(("OPENAI_API_KEY", keys[0]))})
    base = tmp_path / "baseline.json"
    baseline("create", b.path, base)
    (b.path / ".keysweep.toml").write_text('fingerprint-key = "another-organisation-key"\n')
    assert cli.main(["scan", str(b.path), "--baseline", str(base)]) == 2
    assert "made with another fingerprint key" in capsys.readouterr().err
    broken = tmp_path / "broken.json"
    broken.write_text(
        '{"version": 1, "tool": "keysweep", "key_id": "x", "entries": [{"fingerprint": "f"}]}\n'
    )
    assert cli.main(["scan", str(b.path), "--baseline", str(broken)]) == 2
    assert "broken.json: entries[0]: missing 'first_seen'" in capsys.readouterr().err
    assert cli.main(["scan", str(b.path), "--baseline", str(tmp_path / "none.json")]) == 2
    with pytest.raises(BaselineError, match=r"b\.json:1:2: not JSON"):
        parse_baseline("{,", "b.json")


def test_config_names_the_baseline(
    tmp_path: Path, keys: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    b = build(tmp_path, {"a.env": env(("OPENAI_API_KEY", keys[0]))})
    (b.path / ".keysweep.toml").write_text('baseline = ".keysweep-baseline.json"\n')
    assert cli.main(["scan", str(b.path), "--jobs", "1"]) == 2
    assert "keysweep baseline create --output .keysweep-baseline.json" in capsys.readouterr().err
    baseline("create", b.path, b.path / ".keysweep-baseline.json")
    assert cli.main(["scan", str(b.path), "--jobs", "1"]) == 0


def test_render_is_canonical() -> None:
    text = (
        '{"version": 1, "tool": "keysweep", "key_id": "k", "entries": ['
        '{"fingerprint": "b", "rule_id": "z.z", "redacted": null, "first_seen": null, "paths": [], "held_at_head": []},'
        '{"fingerprint": "a", "rule_id": "z.z", "redacted": null, "first_seen": null, "paths": ["p"], "held_at_head": [], "reason": "r"}]}'
    )
    out = render_baseline(parse_baseline(text, "t"))
    assert [e["fingerprint"] for e in json.loads(out)["entries"]] == ["a", "b"]
    assert render_baseline(parse_baseline(out, "t")) == out and out.endswith("}\n")
