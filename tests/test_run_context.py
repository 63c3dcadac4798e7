"""One run, one open of its repository (scanner/target.py): the entry point finds and opens the
target once and hands it down; the sources, the suppress stage (which reads no git: a location
knows whether HEAD holds it) and the Action's view of the clone never find or open it again. Every
open also lists and inflates every loose object, so a second one is not free.

Counted through the git layer: libgit2's opens (`pygit2.Repository`), its discovery, and the
damaged-loose-object listing (`git/repo.py::damaged_loose`)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygit2
import pytest

from scanner import cli
from scanner.git import repo as git_repo
from scanner.github.entry import run_action
from tests.action_runner import pull_request_job, pull_request_payload
from tests.keys import make_key
from tests.repo_builder import RepoBuilder

ONCE = {"open": 1, "discover": 1, "damaged-loose": 1}


@pytest.fixture
def opens(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    counts: Counter[str] = Counter()

    def counting(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            counts[name] += 1
            return fn(*args, **kwargs)

        return call

    monkeypatch.setattr(pygit2.Repository, "__init__", counting("open", pygit2.Repository.__init__))
    monkeypatch.setattr(pygit2, "discover_repository", counting("discover", pygit2.discover_repository))
    monkeypatch.setattr(git_repo, "damaged_loose", counting("damaged-loose", git_repo.damaged_loose))
    return counts


def _leaky_repo(path: Path) -> tuple[RepoBuilder, pygit2.Oid, pygit2.Oid]:
    b = RepoBuilder(path)
    c0 = b.commit({"README.md": b"app\n"})
    c1 = b.commit({"app.env": f"OPENAI_API_KEY={make_key(seed=81)}\n".encode()})
    return b, c0, c1


def test_a_cli_full_sweep_opens_the_repository_once(tmp_path: Path, opens: Counter[str]) -> None:
    b, _, _ = _leaky_repo(tmp_path / "repo")
    baseline = tmp_path / "baseline.json"
    assert cli.main(["baseline", "create", str(b.path), "--output", str(baseline), "--jobs", "1"]) == 0
    # which files hold the secret at HEAD came from the sweep's own locations, not from git
    assert [e["held_at_head"] for e in json.loads(baseline.read_text())["entries"]] == [["app.env"]]
    opens.clear()
    out = tmp_path / "report.json"
    code = cli.main(["scan", str(b.path), "--jobs", "1", "--json", str(out), "--baseline", str(baseline)])
    assert code == 0
    report = json.loads(out.read_text())
    assert [f["suppression"]["kind"] for f in report["findings"]] == ["baseline"]
    assert report["findings"][0]["baseline_state"] == "unchanged"
    assert dict(opens) == ONCE


def test_a_range_scan_opens_the_repository_once(tmp_path: Path, opens: Counter[str]) -> None:
    b, c0, c1 = _leaky_repo(tmp_path / "repo")
    opens.clear()
    out = tmp_path / "report.json"
    assert cli.main(["scan", str(b.path), "--range", f"{c0}..{c1}", "--json", str(out)]) == 1
    assert [f["rule_id"] for f in json.loads(out.read_text())["findings"]] == ["openai.project-key"]
    assert dict(opens) == ONCE


def test_an_action_pull_request_run_opens_the_clone_once(tmp_path: Path, opens: Counter[str]) -> None:
    """The event plan's view of the clone, the trusted commit's config, the range scan and the
    tree scan for SARIF all read the one repository the run opened."""
    b = RepoBuilder(tmp_path / "origin")
    c0 = b.commit({"README.md": b"app\n", ".keysweep.toml": b'fail-on = "high"\n'})
    f1 = b.commit(
        {"app.env": f"OPENAI_API_KEY={make_key(seed=82)}\n".encode()}, ref="refs/heads/feature", parents=[c0]
    )
    runner, merge = pull_request_job(b, tmp_path, 7, c0, f1)
    env, _ = runner.env("pull_request", pull_request_payload(7, str(c0), str(f1)), merge, "refs/pull/7/merge")
    opens.clear()
    out, err = io.StringIO(), io.StringIO()
    assert run_action(env, out, err) == 1, err.getvalue()
    assert "pull request #7" in out.getvalue() and "range: 1 commit" in out.getvalue()
    assert dict(opens) == ONCE


def test_a_directory_scan_never_loads_libgit2(tmp_path: Path) -> None:
    """`keysweep scan DIR` outside any repository: the pipeline, the directory source and the
    enrich stage run without pygit2 (sources/base.py holds no git; sources/blobs.py does)."""
    d = tmp_path / "plain"
    (d / "dist" / "assets").mkdir(parents=True)
    (d / "dist" / "assets" / "app.js").write_text(f'const k = "{make_key(seed=83)}";\n')
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from scanner.config import ScanConfig\n"
        "from scanner.detect.engine import Matcher\n"
        "from scanner.pipeline import scan\n"
        "from scanner.rules import load_rules\n"
        "rules = load_rules()\n"
        f"report = scan(ScanConfig(target=Path({str(d)!r}), jobs=1), rules, Matcher(rules, 'python'))\n"
        "assert report.scan.mode == 'directory', report.scan.mode\n"
        "assert [f.exposure.value for f in report.findings] == ['client-bundle'], report.findings\n"
        "print('pygit2' in sys.modules)\n"
    )
    got = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "False"
