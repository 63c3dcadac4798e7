"""Issue 19.8: a scanning child killed by a signal (the out-of-memory killer's SIGKILL) makes the
`keysweep` command exit 3 with a message and failed reports, as a stall does — never 137 with no
word; and a stall names what was really running (the rules over a text, not libgit2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from scanner import watchdog
from tests.processes import children

ROOT = Path(__file__).resolve().parent.parent


def _start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    big = tmp_path / "scan" / "big.bin"
    big.parent.mkdir()
    with open(big, "wb") as f:
        f.truncate(3 << 30)  # sparse: seconds of scanning, no disk
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEYSWEEP_STALL_SECONDS": "60"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "scanner", "scan", str(big.parent), "--jobs", "1", *extra],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    child = None
    deadline = time.monotonic() + 20
    while child is None and time.monotonic() < deadline and proc.poll() is None:
        kids = children(proc.pid)
        child = kids[0] if kids else None
        time.sleep(0.01)
    assert child is not None, "the command runs its scan in a supervised child"
    _wait_until_reading(child, big, deadline=time.monotonic() + 60)
    return proc, child


def _wait_until_reading(pid: int, path: Path, deadline: float) -> None:
    """Into the scan: the child holds the big file open (a fixed sleep was not enough on a loaded
    machine, where start-up alone can take longer)."""
    while time.monotonic() < deadline:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            fds = []
        for fd in fds:
            try:
                if Path(os.readlink(fd)) == path:
                    return
            except OSError:
                continue
        time.sleep(0.01)
    raise AssertionError(f"the scanning child never opened {path.name}")


def test_a_child_killed_by_the_oom_killer_is_exit_3_with_failed_reports(tmp_path: Path) -> None:
    out_json, out_sarif = tmp_path / "r.json", tmp_path / "r.sarif"
    proc, child = _start(tmp_path, "--json", str(out_json), "--sarif", str(out_sarif))
    os.kill(child, signal.SIGKILL)  # what the out-of-memory killer does
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    assert "killed by SIGKILL" in err and "out-of-memory" in err, err
    assert "big.bin" in err, err  # what it was doing
    report = json.loads(out_json.read_text())
    assert report["status"] == "failed" and "killed by SIGKILL" in report["error"]
    sarif = json.loads(out_sarif.read_text())
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False


def _supervised(run: Callable[[], int], capfd: pytest.CaptureFixture[str]) -> tuple[int, str, list[str]]:
    said: list[str] = []
    code = watchdog.supervise(run, failed=said.append)
    return code, capfd.readouterr().err, said


def test_a_stall_in_the_rules_does_not_blame_libgit2(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(watchdog.STALL_ENV, "1")
    oid = bytes(range(20))

    def stuck_in_a_regex() -> int:
        watchdog.reading(oid)
        watchdog.scanning()
        time.sleep(60)
        return 0

    code, err, said = _supervised(stuck_in_a_regex, capfd)
    assert code == 3
    assert f"matching the rules against object {oid.hex()}" in err and "libgit2" not in err, err
    assert said and "no progress for 1 s" in said[0]

    def stuck_in_libgit2() -> int:
        watchdog.reading(oid)
        time.sleep(60)
        return 0

    code, err, _ = _supervised(stuck_in_libgit2, capfd)
    assert code == 3 and f"reading object {oid.hex()}" in err and "libgit2" in err, err


def test_any_fatal_signal_is_a_failure_with_a_message(capfd: pytest.CaptureFixture[str]) -> None:
    def crash() -> int:
        with watchdog.doing("reading the working tree's status"):
            os.kill(os.getpid(), signal.SIGUSR1)
        return 0

    code, err, said = _supervised(crash, capfd)
    assert code == 3
    assert "killed by SIGUSR1 while reading the working tree's status" in err, err
    assert said == [said[0]] and "SIGUSR1" in said[0]


def test_the_action_writes_a_failed_sarif_and_outputs_when_its_scan_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the watchdog's parent does for `keysweep action` when the child is killed."""
    from scanner import cli
    from tests.action_runner import Runner, parse_outputs

    runner = Runner(workspace=tmp_path / "work" / "app", temp=tmp_path / "work" / "_temp")
    runner.workspace.mkdir(parents=True)
    env, output = runner.env("workflow_dispatch", {"inputs": {}}, "0" * 40, "refs/heads/main")
    for name in [k for k in os.environ if k.startswith(("INPUT_", "GITHUB_"))]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(runner.workspace)
    monkeypatch.setattr(sys, "argv", ["keysweep", "action"])
    cli._killed("the scanning process was killed by SIGKILL while reading object 00")
    out = capsys.readouterr().out
    assert "::error" in out and "killed by SIGKILL" in out
    assert parse_outputs(output.read_text())["status"] == "failed"
    sarif = json.loads((runner.workspace / "keysweep.sarif").read_text())
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is False
