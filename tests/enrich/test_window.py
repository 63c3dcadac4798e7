"""Exposure windows (issue 24 items 1-3): key age, the commit that removed a key, never rotated,
shared across environments — on repositories built with git, every commit dated.

Ages are counted to the scan's start, injected as `ScanConfig.started` so they are exact to the
day; the CLI test counts to the real clock, with commits dated from it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner import cli
from scanner.config import ScanConfig
from scanner.detect.engine import Matcher
from scanner.model import Finding, Report, Rule, Severity
from scanner.output.console import render_console
from scanner.output.context import RenderContext
from scanner.output.json import render_json
from scanner.output.sarif import render_sarif
from scanner.output.summary import render_summary
from scanner.pipeline import scan as run_scan
from scanner.state import RunSettings, SavedState, WeakGroups, read_state, render_state
from tests.dated_git import Git
from tests.keys import make_key

STARTED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _days(n: int, hours: int = 1) -> datetime:
    """`n` whole days (and `hours` more) before STARTED."""
    return STARTED - timedelta(days=n, hours=hours)


def _scan(path: Path, rules: tuple[Rule, ...], matcher: Matcher, max_key_age: int = 90) -> Report:
    config = ScanConfig(target=path, jobs=1, started=STARTED, max_key_age=max_key_age)
    return run_scan(config, rules, matcher)


def _one(report: Report, key: str) -> Finding:
    got = [
        f
        for f in report.findings
        if f.redacted is not None and f.redacted.endswith(f"{key[-4:]} ({len(key)})")
    ]
    assert len(got) == 1, [f.redacted for f in report.findings]
    return got[0]


def _env(key: str) -> str:
    return f"OPENAI_API_KEY={key}\n"


def test_a_key_still_at_head_has_its_age_and_is_never_rotated(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher
) -> None:
    repo = Git(tmp_path / "r")
    key = make_key(seed=2401)
    repo.commit(_days(500), {"README.md": "app\n"})
    first = repo.commit(_days(412), {"app/.env": _env(key), "worker/.env": _env(key)})
    repo.commit(_days(30), {"README.md": "app, later\n"})
    report = _scan(repo.path, rules, matcher)
    f = _one(report, key)
    assert f.first_seen is not None and f.first_seen.commit == first
    assert f.age_days == 412
    assert f.removed is None and f.present_at_head is True
    assert f.never_rotated is not None
    assert f.never_rotated.reason == "in the code for 412 days: rotate it"
    assert f.never_rotated.places_at_head == 2
    assert report.scan.started == "2026-03-01T12:00:00Z"
    doc = json.loads(render_json(report))
    found = next(x for x in doc["findings"] if x["fingerprint"] == f.fingerprint)
    assert found["age_days"] == 412 and found["removed"] is None
    assert found["never_rotated"] == {"reason": "in the code for 412 days: rotate it", "places_at_head": 2}
    assert doc["scan"]["started"] == "2026-03-01T12:00:00Z"
    line = "in history for 13 months, still at HEAD"
    assert sum(line in x for x in render_console(report, color=False).splitlines()) == 1
    assert sum(line in x for x in render_summary(report, RenderContext()).splitlines()) == 1
    result = json.loads(render_sarif(report))["runs"][0]["results"]
    props = next(
        r["properties"] for r in result if r["properties"]["keysweep/secret_sha256"] == f.secret_sha256
    )
    assert props["keysweep/age_days"] == 412
    assert props["keysweep/never_rotated"] == "in the code for 412 days: rotate it"
    assert props["keysweep/window"].startswith(line)


def test_a_young_key_is_not_never_rotated_and_the_threshold_is_the_config(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher
) -> None:
    repo = Git(tmp_path / "r")
    key = make_key(seed=2402)
    repo.commit(_days(60), {".env": _env(key)})
    f = _one(_scan(repo.path, rules, matcher), key)
    assert f.age_days == 60 and f.never_rotated is None  # default max-key-age 90
    strict = _one(_scan(repo.path, rules, matcher, max_key_age=30), key)
    assert (
        strict.never_rotated is not None
        and strict.never_rotated.reason == "in the code for 60 days: rotate it"
    )


def test_a_removed_key_has_its_window_exact_to_the_day(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher
) -> None:
    repo = Git(tmp_path / "r")
    key = make_key(seed=2403)
    repo.commit(_days(100), {"README.md": "x\n"})
    repo.commit(_days(20), {"config.py": f'OPENAI_API_KEY = "{key}"\n'})
    repo.commit(_days(19), {"README.md": "y\n"})
    removal = repo.commit(
        _days(17), {"config.py": 'import os\nOPENAI_API_KEY = os.environ["OPENAI_API_KEY"]\n'}
    )
    repo.commit(_days(2), {"README.md": "z\n"})
    report = _scan(repo.path, rules, matcher)
    f = _one(report, key)
    assert f.present_at_head is False
    assert f.age_days == 20
    assert f.removed is not None and f.removed.commit == removal
    assert f.removed.commit_time == _days(17).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert f.never_rotated is None  # gone from HEAD: rotate it still, but it is not "never rotated"
    line = f"exposed for 3 days, removed {_days(17):%Y-%m-%d}, still in history"
    assert sum(line in x for x in render_console(report, color=False).splitlines()) == 1
    assert sum(line in x for x in render_summary(report, RenderContext()).splitlines()) == 1
    found = json.loads(render_json(report))["findings"][0]
    assert found["removed"]["commit"] == removal and found["age_days"] == 20


def test_removed_is_on_heads_first_parent_line_not_a_merged_branch(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher
) -> None:
    """A key added on main and removed on a branch that main then merges: the removing commit on
    main's own line is the merge."""
    repo = Git(tmp_path / "r")
    key = make_key(seed=2404)
    repo.commit(_days(50), {"a.py": f'KEY = "{key}"\n', "b.txt": "b\n"})
    repo.run("checkout", "-q", "-b", "fix")
    repo.commit(_days(40), {"a.py": "KEY = None\n"})
    repo.run("checkout", "-q", "main")
    repo.commit(_days(35), {"b.txt": "b2\n"})
    repo.run("merge", "-q", "--no-ff", "-m", "merge fix", "fix", when=_days(30))
    merge = repo.run("rev-parse", "HEAD")
    f = _one(_scan(repo.path, rules, matcher), key)
    assert f.removed is not None and f.removed.commit == merge
    assert f.age_days == 50


def test_a_rotated_key_is_not_never_rotated(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher
) -> None:
    """Replaced by another key at the same place: the old one is removed, the new one is young."""
    repo = Git(tmp_path / "r")
    old, new = make_key(seed=2405), make_key(seed=2406)
    repo.commit(_days(400), {".env.production": _env(old)})
    rotation = repo.commit(_days(10), {".env.production": _env(new)})
    report = _scan(repo.path, rules, matcher)
    was, now = _one(report, old), _one(report, new)
    assert was.never_rotated is None and was.removed is not None and was.removed.commit == rotation
    assert was.age_days == 400
    assert now.never_rotated is None and now.age_days == 10 and now.removed is None


def test_shared_across_dotenv_development_and_production_since_400_days(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher
) -> None:
    repo = Git(tmp_path / "r")
    key, alone = make_key(seed=2407), make_key(seed=2408)
    repo.commit(_days(400), {".env.development": _env(key), ".env.production": _env(key)})
    repo.commit(_days(5), {".env.staging": _env(alone)})
    report = _scan(repo.path, rules, matcher)
    f = _one(report, key)
    assert f.environments is not None
    assert f.environments.names == ("development", "production") and f.environments.together is True
    assert f.age_days == 400
    assert f.severity is Severity.CRITICAL  # high, one step up for the sharing
    assert f.severity_reason is not None and "development, production" in f.severity_reason
    single = _one(report, alone)
    assert single.environments is not None and single.environments.names == ("staging",)
    assert single.severity is Severity.HIGH and single.severity_reason is None
    found = next(x for x in json.loads(render_json(report))["findings"] if x["fingerprint"] == f.fingerprint)
    assert found["environments"] == {
        "names": ["development", "production"],
        "shared": True,
        "held": "together",
    }
    assert found["age_days"] == 400
    line = "shared across environments development, production (at the same time)"
    console = render_console(report, color=False)
    assert sum(line in x for x in console.splitlines()) == 1
    assert "why critical shared across environments development, production" in console
    assert sum(line in x for x in render_summary(report, RenderContext()).splitlines()) == 1


def test_shared_across_helm_values_one_after_another(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher
) -> None:
    """Moved from values-dev.yaml to values-prod.yaml: shared, but never held by both at once."""
    repo = Git(tmp_path / "r")
    key = make_key(seed=2409)
    repo.commit(_days(200), {"chart/values-dev.yaml": f"openai:\n  apiKey: {key}\n"})
    repo.commit(
        _days(100), {"chart/values-dev.yaml": None, "chart/values-prod.yaml": f"openai:\n  apiKey: {key}\n"}
    )
    f = _one(_scan(repo.path, rules, matcher), key)
    assert f.environments is not None
    assert f.environments.names == ("dev", "prod") and f.environments.together is False
    assert f.age_days == 200 and f.present_at_head is True


def test_the_ages_survive_a_saved_state(tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher) -> None:
    repo = Git(tmp_path / "r")
    key = make_key(seed=2410)
    repo.commit(_days(30), {".env.development": _env(key), ".env.production": _env(key)})
    repo.commit(_days(3), {".env.development": None})
    report = _scan(repo.path, rules, matcher)
    import scanner

    state = SavedState(
        scanner.__version__, STARTED, RunSettings(None, 0, False, "0" * 16), WeakGroups(None), report
    )
    back = read_state(render_state(state).encode(), "s", scanner.__version__, report.ruleset).with_rules(
        report.rules
    )
    assert back == report
    f = _one(back, key)
    assert f.age_days == 30 and f.environments is not None and f.environments.together is True
    assert back.scan.started == "2026-03-01T12:00:00Z"


def test_cli_json_says_both_environments_and_age_400(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 24's "done means", through `keysweep scan --json`, counted to the real clock."""
    repo = Git(tmp_path / "r")
    key = make_key(seed=2411)
    when = datetime.now(UTC) - timedelta(days=400, hours=1)
    repo.commit(when, {".env.development": _env(key), ".env.production": _env(key)})
    out = tmp_path / "r.json"
    assert cli.main(["scan", str(repo.path), "--json", str(out), "--fail-on", "none"]) == 0
    text = capsys.readouterr()
    found = json.loads(out.read_text())["findings"]
    assert len(found) == 1
    assert found[0]["age_days"] == 400
    assert found[0]["environments"]["names"] == ["development", "production"]
    assert key not in out.read_text() and key not in text.out + text.err


def test_max_key_age_is_read_from_the_config_and_checked(rules: tuple[Rule, ...]) -> None:
    from scanner.config import Request, resolve_config
    from scanner.errors import ConfigError
    from scanner.suppress.inputs import ConfigFiles
    from scanner.suppress.settings import parse_config

    settings = parse_config("max-key-age = 30\n", ".keysweep.toml", rules)
    assert settings.max_key_age == 30
    config = resolve_config(Request(target=Path(".")), rules, ConfigFiles(settings=settings, baseline=None))
    assert config.max_key_age == 30
    assert resolve_config(Request(target=Path(".")), rules).max_key_age == 90
    for bad in ("0", '"90"', "true", "1.5"):
        with pytest.raises(ConfigError, match="max-key-age"):
            parse_config(f"max-key-age = {bad}\n", ".keysweep.toml", rules)


def test_the_walks_tree_search_agrees_with_a_full_parse(tmp_path: Path) -> None:
    """firstparent._entry finds an entry by its header, not by parsing: on names that are each
    other's prefixes and suffixes, files and folders of one name, it answers as trees.lookup does."""
    import pygit2

    from scanner.git.firstparent import _blob_at
    from scanner.git.trees import blob_at

    repo = Git(tmp_path / "r")
    names = ["a", "ba", "a.txt", "x/a", "x/ab/a", "ab/a", "a b", "deep/er/a", "deep/a", "e"]
    repo.commit(_days(1), {name: f"{name}\n" for name in names})
    pg = pygit2.Repository(str(repo.path))
    tree = bytes(pg.head.peel(pygit2.Commit).tree.id.raw)
    probes = [*names, "x", "ab", "deep/er", "b", "a.tx", "x/a/b", "deep/er/a/x", "zz/a", "x/ab/a.txt"]
    for probe in probes:
        path = probe.encode()
        assert _blob_at(pg, tree, path, {}, {}) == blob_at(pg, tree, path), probe
    assert all(_blob_at(pg, tree, n.encode(), {}, {}) is not None for n in names)


def test_the_walk_reads_no_tree_newer_than_the_keys_last_holder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held.until (the secret's last_seen): the commits of the line newer than that, by more than
    the walk's slack, cannot hold it and their trees are not read; the removing commit is the same
    as without the bound."""
    import pygit2

    from scanner.git import firstparent

    repo = Git(tmp_path / "r")
    key = make_key(seed=2420)
    added = repo.commit(_days(100), {"config.py": f'OPENAI_API_KEY = "{key}"\n'})
    removal = repo.commit(_days(90), {"config.py": "OPENAI_API_KEY = None\n"})
    later = [repo.commit(_days(80 - n), {"README.md": f"{n}\n"}) for n in range(20)]
    pg = pygit2.Repository(str(repo.path))
    commit = pg.get(added)
    assert isinstance(commit, pygit2.Commit)
    blob = commit.tree["config.py"].id.raw
    since = until = commit.commit_time
    roots = {c: pg.get(c).tree.id.raw for c in (removal, *later)}  # type: ignore[union-attr]
    read: list[bytes] = []
    real = firstparent._blob_at

    def counted(r: pygit2.Repository, tree: bytes, path: bytes, memo: dict, raw: dict) -> bytes | None:  # type: ignore[type-arg]
        read.append(tree)
        return real(r, tree, path, memo, raw)

    monkeypatch.setattr(firstparent, "_blob_at", counted)
    head = bytes.fromhex(later[-1])
    held = firstparent.Held(frozenset({(b"config.py", bytes(blob))}), since, until)
    got = firstparent.removals(pg, head, {"k": held})
    assert got["k"][0].hex() == removal
    assert not set(read) & set(roots.values())  # not one tree of the 21 newer commits was read
    read.clear()
    unbounded = firstparent.removals(pg, head, {"k": firstparent.Held(held.places, since)})
    assert unbounded["k"][0].hex() == removal
    assert set(roots.values()) <= set(read)  # without the bound, every one of them is read


def test_the_walk_is_bounded_by_each_findings_last_seen(
    tmp_path: Path, rules: tuple[Rule, ...], matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """windows() gives the walk the finding's last_seen as `until`, and the window is unchanged."""
    from scanner.git import firstparent

    repo = Git(tmp_path / "r")
    key = make_key(seed=2421)
    repo.commit(_days(60), {"config.py": f'OPENAI_API_KEY = "{key}"\n'})
    repo.commit(_days(50), {"config.py": f'OPENAI_API_KEY = "{key}"\nDEBUG = 1\n'})
    removal = repo.commit(_days(40), {"config.py": "DEBUG = 1\n"})
    repo.commit(_days(30), {"README.md": "x\n"})
    asked: list[dict[str, firstparent.Held]] = []
    real = firstparent.removals

    def spy(r, head, wanted, slack=86400):  # type: ignore[no-untyped-def]
        asked.append(dict(wanted))
        return real(r, head, wanted, slack)

    monkeypatch.setattr(firstparent, "removals", spy)
    f = _one(_scan(repo.path, rules, matcher), key)
    assert f.removed is not None and f.removed.commit == removal
    assert f.last_seen is not None and f.last_seen.commit_time == f"{_days(50):%Y-%m-%dT%H:%M:%SZ}"
    (held,) = asked[0].values()
    assert held.until == int(_days(50).timestamp())
