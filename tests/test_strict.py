"""`--strict`: a gate never passes on what it did not read (ARCHITECTURE.md §7).

The repository loses one loose blob that HEAD's tree names (as a damaged or partial clone
would), so every scan that reads HEAD's tree is incomplete. Without `--strict` that is a warning
and `status: incomplete`; with it, exit 3 and reports that say the run failed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from scanner.cli import main
from tests.keys import leak_windows, make_key
from tests.repo_builder import RepoBuilder


@pytest.fixture
def damaged(tmp_path: Path) -> tuple[Path, str]:
    key = make_key("openai.project-key", seed=70)
    b = RepoBuilder(tmp_path / "r")
    b.commit({"app.env": f"OPENAI_API_KEY={key}\n".encode(), "notes.txt": b"kept\n"})
    lost = b.blob(b"a blob this clone lost\n")
    b.commit({"data/lost.txt": b"a blob this clone lost\n"})
    loose = tmp_path / "r" / ".git" / "objects" / str(lost)[:2] / str(lost)[2:]
    os.unlink(loose)
    return tmp_path / "r", key


@pytest.mark.parametrize("mode", [[], ["--no-history"]])
def test_strict_turns_an_incomplete_scan_into_exit_3(
    damaged: tuple[Path, str], tmp_path: Path, mode: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    root, key = damaged
    j, s = tmp_path / "r.json", tmp_path / "r.sarif"
    assert main(["scan", str(root), *mode, "--json", str(j), "--sarif", str(s)]) == 1
    loose_json = json.loads(j.read_text())
    assert loose_json["status"] == "incomplete" and loose_json["stats"]["complete"] is False
    # the sweep and the tree pass both call the lost blob missing
    (reason,) = set(loose_json["stats"]["skipped"]) & {"missing-object", "corrupt-object"}
    assert reason == "missing-object"
    assert json.loads(s.read_text())["runs"][0]["invocations"][0]["executionSuccessful"] is True
    capsys.readouterr()

    assert main(["scan", str(root), *mode, "--strict", "--json", str(j), "--sarif", str(s)]) == 3
    err = capsys.readouterr().err
    assert f"keysweep: scan failed: the scan is incomplete (1 {reason} (" in err
    assert "blob " in err  # it names what it could not read
    assert "not read) and --strict is on\n" in err
    report = json.loads(j.read_text())
    assert report["status"] == "failed" and "--strict" in report["error"]
    assert len(report["findings"]) == 1  # what was found is still shown; the run did not pass
    run = json.loads(s.read_text())["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is False and run["results"] == []
    ids = {n["descriptor"]["id"] for n in run["invocations"][0]["toolExecutionNotifications"]}
    assert {"keysweep/failed", f"keysweep/skipped/{reason}"} <= ids
    for text in (j.read_text(), s.read_text(), err):
        assert not [w for w in leak_windows(key, skip=8) if w in text]


def test_strict_on_a_range(damaged: tuple[Path, str], tmp_path: Path) -> None:
    root, _key = damaged
    j = tmp_path / "r.json"
    # the last commit adds the lost blob: the range cannot read what it introduces
    assert main(["scan", str(root), "--range", "HEAD~1..HEAD", "--strict", "--json", str(j)]) == 3
    assert json.loads(j.read_text())["status"] == "failed"
    # the first commit alone is read whole: --strict changes nothing, findings still decide
    assert main(["scan", str(root), "--range", "HEAD~1", "--strict", "--json", str(j)]) == 1
    assert json.loads(j.read_text())["status"] == "ok"
    assert main(["scan", str(root), "--range", "HEAD~1", "--strict", "--fail-on", "none"]) == 0
