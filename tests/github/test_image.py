"""The Dockerfile, really built and run: buildah builds the action's image on a Debian base made
locally with debootstrap (no Docker engine or registry here), then runs the image's own entry
point the way the Actions runner runs a container action — the workspace, owned by uid 1001,
mounted at /github/workspace and made the working directory, the event file, the file-command
directory and HOME mounted where the runner mounts them, every variable translated to its
container path — and the SARIF file, the outputs and the exit code are checked on the host.

Needs root, buildah and debootstrap (`.ci/run` installs them); skipped with the reason
otherwise, unless KEYSWEEP_IMAGE_TEST=require (CI), where their absence fails the test. The
base rootfs tarball is cached under ~/.cache/keysweep/image, so only the first run pays for
debootstrap (~45 s); image storage is a throwaway directory per run.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygit2
import pytest

from scanner.paths import cache_home
from tests.action_runner import (
    ROOT,
    Planted,
    Runner,
    assert_no_leak,
    checkout,
    chown_tree,
    parse_outputs,
    pull_request_job,
    pull_request_payload,
    schedule_payload,
)
from tests.keys import make_key
from tests.repo_builder import RepoBuilder

REQUIRE_ENV = "KEYSWEEP_IMAGE_TEST"
MIRROR_ENV = "KEYSWEEP_DEBIAN_MIRROR"
SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "ca-certificates")
BASE_TAG = "localhost/keysweep-base:bookworm"
IMAGE_TAG = "localhost/keysweep-action:test"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (buildah's chroot isolation, debootstrap, a workspace owned by uid 1001)"
    tools = [t for t in ("buildah", "debootstrap") if shutil.which(t) is None]
    if tools:
        return f"needs {' and '.join(tools)} (apt-get install -y buildah debootstrap; .ci/run does)"
    return None


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Buildah]:
    reason = _missing()
    if reason is not None:
        if os.environ.get(REQUIRE_ENV) == "require":
            pytest.fail(f"{REQUIRE_ENV}=require, but the image test {reason}")
        pytest.skip(f"the Docker image is not built: {reason}")
    work = tmp_path_factory.mktemp("buildah")
    b = Buildah(work / "storage", work / "run")
    try:
        t0 = time.monotonic()
        base_tar = base_rootfs()
        base_ctx = work / "base"
        base_ctx.mkdir()
        os.link(base_tar, base_ctx / "rootfs.tar")
        (base_ctx / "Dockerfile").write_text("FROM scratch\nADD rootfs.tar /\n")
        b("bud", "--isolation", "chroot", "-q", "-t", BASE_TAG, str(base_ctx))
        t1 = time.monotonic()
        mounts = ["-v", f"{CA_BUNDLE}:{CA_BUNDLE}:ro"] if CA_BUNDLE.exists() else []
        b(
            "bud",
            "--isolation",
            "chroot",
            "-q",
            "--build-arg",
            f"BASE_IMAGE={BASE_TAG}",
            *mounts,
            "-t",
            IMAGE_TAG,
            str(ROOT),
        )
        t2 = time.monotonic()
        sizes = {tag: b.size(tag) for tag in (BASE_TAG, IMAGE_TAG)}
        record = {"base_import_s": round(t1 - t0, 1), "build_s": round(t2 - t1, 1), "sizes": sizes}
        (cache_home() / "image" / "last-build.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"keysweep image: {record}")
        yield b
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            b("rm", "--all")
        with contextlib.suppress(subprocess.CalledProcessError):
            b("rmi", "--all", "--force")
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True, slots=True)
class Buildah:
    """buildah on a private, throwaway storage (vfs: no overlay mounts needed)."""

    root: Path
    runroot: Path

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        cmd = [
            "buildah",
            "--root",
            str(self.root),
            "--runroot",
            str(self.runroot),
            "--storage-driver",
            "vfs",
            *args,
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args[:2])} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
        return proc

    def size(self, tag: str) -> str:
        return self("images", "--format", "{{.Size}}", tag).stdout.strip()

    def entrypoint(self, tag: str) -> list[str]:
        config = json.loads(self("inspect", "--type", "image", tag).stdout)["OCIv1"]["config"]
        entry: list[str] = config["Entrypoint"]
        return entry


def base_rootfs() -> Path:
    """The debootstrap Debian base as a tarball, made once and kept in the cache."""
    mirror = os.environ.get(MIRROR_ENV, "http://deb.debian.org/debian")
    key = hashlib.sha256(f"{SUITE} {','.join(PACKAGES)} {mirror}".encode()).hexdigest()[:12]
    folder = cache_home() / "image"
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / f"debian-{SUITE}-python3-{key}.tar"
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another session may be making it right now
        if tarball.exists():
            return tarball
        rootfs = folder / f"rootfs-{os.getpid()}"
        try:
            subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(PACKAGES)}",
                    SUITE,
                    str(rootfs),
                    mirror,
                ],
                check=True,
                capture_output=True,
                timeout=1200,
            )
            partial = tarball.with_suffix(".partial")
            subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True, timeout=600)
            partial.replace(tarball)
        finally:
            shutil.rmtree(rootfs, ignore_errors=True)
    return tarball


def run_image(
    b: Buildah,
    runner: Runner,
    event_name: str,
    payload: Mapping[str, Any],
    sha: str,
    ref: str,
    planted: Mapping[str, Planted],
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], dict[str, Any]]:
    """`docker run` as the runner issues it, with buildah: mounts, workdir, env, the image's ENTRYPOINT."""
    env, output = runner.env(event_name, payload, sha, ref, container=True)
    assert env["GITHUB_WORKSPACE"] == "/github/workspace" and env["INPUT_PATH"] == "/github/workspace"
    assert env["GITHUB_OUTPUT"].startswith("/github/file_commands/")
    assert env["GITHUB_STEP_SUMMARY"].startswith("/github/file_commands/")
    container = b("from", "-q", IMAGE_TAG).stdout.strip()
    try:
        args = ["run", "--isolation", "chroot", "--workingdir", "/github/workspace"]
        for host, inside in runner.mounts().items():
            args += ["-v", f"{host}:{inside}"]
        for name, value in env.items():
            args += ["--env", f"{name}={value}"]
        proc = b(*args, container, "--", *b.entrypoint(IMAGE_TAG), check=False, timeout=600)
    finally:
        b("rm", container, check=False)
    out_text = output.read_text()
    summary = runner.file_commands / Path(env["GITHUB_STEP_SUMMARY"]).name  # the same file, on the host
    sarif_path = runner.workspace / "keysweep.sarif"
    texts = {
        "stdout": proc.stdout,
        "stderr": proc.stderr,
        "GITHUB_OUTPUT": out_text,
        "summary": summary.read_text(),
    }
    if sarif_path.exists():
        texts["sarif"] = sarif_path.read_text()
    assert_no_leak(planted, texts)
    sarif = json.loads(sarif_path.read_text()) if sarif_path.exists() else {}
    return proc, parse_outputs(out_text), sarif


def _digests(sarif: dict[str, Any]) -> set[str]:
    return {r["properties"]["keysweep/secret_sha256"] for r in sarif["runs"][0]["results"]}


def _digest(p: Planted) -> str:
    return hashlib.sha256(p.secret.encode()).hexdigest()


def test_the_image_runs_a_pull_request_and_a_nightly_sweep(image: Buildah, tmp_path: Path) -> None:
    keys = {
        "history": Planted.of("openai.project-key", make_key("openai.project-key", seed=90)),
        "pr": Planted.of("anthropic.admin-key", make_key("anthropic.admin-key", seed=91)),
    }
    b = RepoBuilder(tmp_path / "origin")
    c0 = b.commit({"README.md": b"app\n", "conf/.env": keys["history"].line()})
    c1 = b.commit({"conf/.env": b"# in the secret store now\n"})
    f1 = b.commit(
        {"app/.env": keys["pr"].line("ANTHROPIC_ADMIN_KEY")}, ref="refs/heads/feature", parents=[c1]
    )
    del c0
    runner, merge = pull_request_job(b, tmp_path, 3, c1, f1)
    assert runner.workspace.stat().st_uid == 1001

    payload = pull_request_payload(3, base=str(c1), head=str(f1))
    proc, outputs, sarif = run_image(
        image, runner, "pull_request", payload, str(merge), "refs/pull/3/merge", keys
    )
    assert proc.returncode == 1, proc.stderr
    assert f"keysweep: pull request #3: base..head {str(c1)[:12]}..{str(f1)[:12]}\n" in proc.stdout
    assert "range scan of /github/workspace" in proc.stdout
    assert outputs == {
        "sarif-file": "keysweep.sarif",
        "findings": "1",
        "critical": "1",
        "high": "0",
        "status": "ok",
    }
    run = sarif["runs"][0]
    assert run["automationDetails"] == {"id": "keysweep/tree/"}
    assert run["invocations"][0]["executionSuccessful"] is True
    assert _digests(sarif) == {_digest(keys["pr"])}  # the merge commit's tree; the old key is history only
    assert (runner.workspace / "keysweep.sarif").stat().st_uid == 0  # written by the container's root
    # what the pull request shows: an annotation on the file it changed, and the job summary (the
    # templates are package data of the installed image)
    assert "::error file=app/.env,line=1," in proc.stdout
    summaries = sorted(runner.file_commands.glob("step_summary_*"), key=lambda p: p.stat().st_mtime)
    assert summaries[-1].read_text().startswith("## keysweep: 1 finding in this pull request\n")
    assert "**Rotate without downtime**" in sarif["runs"][0]["tool"]["driver"]["rules"][0]["help"]["markdown"]

    # the nightly run on the default branch, in a fresh job
    shutil.rmtree(runner.workspace.parent.parent)
    repo = checkout(tmp_path / "origin", runner.workspace, branch="main")
    assert isinstance(repo, pygit2.Repository)
    chown_tree(runner.workspace)
    proc, outputs, sarif = run_image(
        image, runner, "schedule", schedule_payload(), str(c1), "refs/heads/main", keys
    )
    assert proc.returncode == 1, proc.stderr
    assert "keysweep: schedule event: the whole history\n" in proc.stdout
    assert outputs == {
        "sarif-file": "keysweep.sarif",
        "findings": "2",
        "critical": "1",
        "high": "1",
        "status": "ok",
    }
    assert sarif["runs"][0]["automationDetails"] == {"id": "keysweep/history/"}
    assert _digests(sarif) == {_digest(keys["history"]), _digest(keys["pr"])}
