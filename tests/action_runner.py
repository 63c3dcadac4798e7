"""The Actions runner, as far as a container action can tell: inputs, variables, payloads, checkout.

- Inputs come from `action.yml` itself: every declared input is set as the runner sets it
  (`INPUT_<NAME>`, upper-cased, hyphens kept) to its default, `${{ … }}` expressions evaluated
  against the `github` and `runner` contexts (an expression this module does not know fails the
  test, so a new one in action.yml cannot go untested), then translated to container paths the
  way the runner translates every variable it hands to a container (`TranslateToContainerPath`:
  a value equal to, or under, a mounted host directory is rewritten to the mount point).
- The checkout is made as actions/checkout makes it with `fetch-depth: 0`: an empty repository,
  a fetch of `+refs/heads/*:refs/remotes/origin/*` and the tags (plus the PR's merge ref), then a
  local branch (push) or a detached HEAD (pull request), owned by uid 1001 gid 121 as on
  GitHub-hosted runners.
- Payloads carry the fields GitHub's webhooks carry for each event.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
import pytest
import yaml

from scanner.paths import cache_home
from tests.keys import leak_windows, make_key, rule
from tests.output_fixtures import sarif_schema_errors
from tests.repo_builder import RepoBuilder

ROOT = Path(__file__).resolve().parent.parent
ACTION_YML = ROOT / "action.yml"
ENTRYPOINT = ROOT / "entrypoint.sh"
RUNNER_UID, RUNNER_GID = 1001, 121
ZERO = "0" * 40
SERVER_URL, RUN_ID = "https://github.com", "4242"
_EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_DELIMITED = re.compile(r"^([A-Za-z0-9_-]+)<<(ghadelimiter_[0-9a-f]{32})$")


def action_inputs() -> dict[str, Any]:
    doc = yaml.safe_load(ACTION_YML.read_text())
    inputs: dict[str, Any] = doc["inputs"]
    return inputs


def evaluate(value: object, contexts: Mapping[str, Mapping[str, str]]) -> str:
    """A default as the runner evaluates it: YAML scalars as strings, `${{ ctx.name }}` looked up."""
    scalars: dict[object, str] = {True: "true", False: "false", None: ""}
    text = scalars[value] if value is None or isinstance(value, bool) else str(value)

    def one(m: re.Match[str]) -> str:
        expr = m.group(1)
        context, _, name = expr.partition(".")
        if not re.fullmatch(r"[a-z_]+", name) or name not in contexts.get(context, {}):
            raise AssertionError(f"action.yml uses ${{{{ {expr} }}}}, which these tests do not evaluate")
        return contexts[context][name]

    return _EXPR.sub(one, text)


def input_var(name: str) -> str:
    return "INPUT_" + name.replace(" ", "_").upper()


def translate(value: str, mounts: Mapping[Path, str]) -> str:
    """The runner's TranslateToContainerPath: whole value equal to, or under, a host mount."""
    for host, container in mounts.items():
        h = str(host)
        if value == h:
            return container
        if value.startswith(h + "/"):
            return container + value[len(h) :]
    return value


@dataclass(frozen=True, slots=True)
class Runner:
    """One job's runner directories on the host (the workspace, the event file, the commands)."""

    workspace: Path
    temp: Path

    @property
    def event_path(self) -> Path:
        return self.temp / "_github_workflow" / "event.json"

    @property
    def home(self) -> Path:
        return self.temp / "_github_home"

    @property
    def file_commands(self) -> Path:
        return self.temp / "_runner_file_commands"

    def mounts(self) -> dict[Path, str]:
        """Host directory → container mount point, most specific first (as the runner orders them)."""
        return {
            self.home: "/github/home",
            self.event_path.parent: "/github/workflow",
            self.file_commands: "/github/file_commands",
            self.workspace: "/github/workspace",
            self.temp: "/github/runner_temp",
        }

    def env(
        self,
        event_name: str,
        payload: Mapping[str, Any],
        sha: str,
        ref: str,
        inputs: Mapping[str, str] | None = None,
        container: bool = False,
    ) -> tuple[dict[str, str], Path]:
        """The step's environment (host paths, or container paths when `container`) and the
        host path of its `$GITHUB_OUTPUT` file (`$GITHUB_STEP_SUMMARY` is beside it, named in
        the environment)."""
        for d in (self.home, self.event_path.parent, self.file_commands):
            d.mkdir(parents=True, exist_ok=True)
        self.event_path.write_text(json.dumps(payload, indent=2))
        output = self.file_commands / f"set_output_{uuid.uuid4()}"
        output.touch()
        summary = self.file_commands / f"step_summary_{uuid.uuid4()}"
        summary.touch()
        github = {
            "workspace": str(self.workspace),
            "event_name": event_name,
            "sha": sha,
            "ref": ref,
            "event_path": str(self.event_path),
        }
        contexts = {"github": github, "runner": {"temp": str(self.temp)}}
        env = {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "HOME": str(self.home),
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": event_name,
            "GITHUB_EVENT_PATH": str(self.event_path),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_SHA": sha,
            "GITHUB_REF": ref,
            "GITHUB_REPOSITORY": "octo/app",
            "GITHUB_SERVER_URL": SERVER_URL,
            "GITHUB_RUN_ID": RUN_ID,
            "RUNNER_TEMP": str(self.temp),
        }
        for name, spec in action_inputs().items():
            env[input_var(name)] = evaluate(spec.get("default", ""), contexts)
        for name, value in (inputs or {}).items():
            env[input_var(name)] = value
        if container:
            env = {k: translate(v, self.mounts()) for k, v in env.items()}
        return env, output


def parse_outputs(text: str) -> dict[str, str]:
    """`$GITHUB_OUTPUT` as the runner reads it; only the `name<<DELIMITER` form is accepted."""
    lines = text.split("\n")
    assert lines[-1] == "", "the file ends with a newline"
    out: dict[str, str] = {}
    delimiters: set[str] = set()
    i = 0
    while i < len(lines) - 1:
        m = _DELIMITED.match(lines[i])
        assert m, f"not a delimited output: {lines[i]!r}"
        name, delimiter = m.groups()
        assert delimiter not in delimiters, "each output gets its own random delimiter"
        delimiters.add(delimiter)
        end = lines.index(delimiter, i + 1)
        out[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return out


# --- repositories as actions/checkout leaves them ----------------------------------------------


def checkout(
    origin: Path,
    workspace: Path,
    *,
    branch: str | None = None,
    detach: str | None = None,
    extra_refspecs: tuple[str, ...] = (),
) -> pygit2.Repository:
    """actions/checkout with `fetch-depth: 0`: init, fetch every branch and tag, check out."""
    repo = pygit2.init_repository(str(workspace), initial_head="main")
    remote = repo.remotes.create("origin", str(origin))
    remote.fetch(["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*", *extra_refspecs])
    if branch is not None:
        target = repo.references[f"refs/remotes/origin/{branch}"].peel(pygit2.Commit)
        repo.references.create(f"refs/heads/{branch}", target.id, force=True)
        repo.checkout(f"refs/heads/{branch}", strategy=pygit2.enums.CheckoutStrategy.FORCE)
    elif detach is not None:
        commit = repo.revparse_single(detach).peel(pygit2.Commit)
        repo.checkout_tree(commit, strategy=pygit2.enums.CheckoutStrategy.FORCE)
        repo.set_head(commit.id)
    return repo


def chown_tree(root: Path, uid: int = RUNNER_UID, gid: int = RUNNER_GID) -> None:
    """Give the workspace to the runner's user, as on GitHub-hosted runners (not the container's)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to give the workspace to uid 1001")
    for dirpath, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            os.lchown(os.path.join(dirpath, name), uid, gid)
    os.chown(root, uid, gid)


def pull_request_job(
    b: RepoBuilder,
    tmp_path: Path,
    number: int,
    base: str | pygit2.Oid,
    head: str | pygit2.Oid,
    message: str = "Merge",
) -> tuple[Runner, str]:
    """A pull request's job: GitHub's merge commit of `head` into `base` at refs/pull/N/merge,
    checked out detached as actions/checkout does for the event, owned by the runner's user.
    Returns the runner and the merge commit."""
    base, head = pygit2.Oid(hex=str(base)), pygit2.Oid(hex=str(head))
    merge = b.commit(None, parents=[base, head], ref=f"refs/pull/{number}/merge", base=head, message=message)
    runner = Runner(workspace=tmp_path / "work" / "app" / "app", temp=tmp_path / "work" / "_temp")
    checkout(
        b.path,
        runner.workspace,
        detach=f"refs/remotes/pull/{number}/merge",
        extra_refspecs=(f"+refs/pull/{number}/merge:refs/remotes/pull/{number}/merge",),
    )
    chown_tree(runner.workspace)
    return runner, str(merge)


# --- payloads ---------------------------------------------------------------------------------

REPOSITORY = {
    "id": 1296269,
    "name": "app",
    "full_name": "octo/app",
    "private": False,
    "default_branch": "main",
    "owner": {"login": "octo", "type": "Organization"},
}
SENDER = {"login": "octocat", "type": "User"}


def pull_request_payload(
    number: int, base: str | None, head: str | None, before: str | None = None
) -> dict[str, Any]:
    pr: dict[str, Any] = {"number": number, "state": "open", "title": "Add the feature"}
    if base is not None:
        pr["base"] = {"ref": "main", "sha": base, "repo": {"full_name": "octo/app", "fork": False}}
    if head is not None:
        pr["head"] = {"ref": "feature", "sha": head, "repo": {"full_name": "octo/app", "fork": False}}
    payload: dict[str, Any] = {
        "action": "synchronize" if before else "opened",
        "number": number,
        "pull_request": pr,
        "repository": REPOSITORY,
        "sender": SENDER,
    }
    if before is not None and head is not None:
        payload |= {"before": before, "after": head}
    return payload


def push_payload(
    ref: str, before: str, after: str, *, forced: bool = False, commits: tuple[str, ...] = ()
) -> dict[str, Any]:
    created = before == ZERO
    short = ref.removeprefix("refs/heads/")
    return {
        "ref": ref,
        "before": before,
        "after": after,
        "created": created,
        "deleted": False,
        "forced": forced,
        "base_ref": None,
        "compare": f"https://github.com/octo/app/compare/{short if created else before[:12] + '...' + after[:12]}",
        "commits": [{"id": c, "message": "change", "distinct": True} for c in commits],
        "head_commit": {"id": after, "message": "change"},
        "pusher": {"name": "octocat", "email": "octocat@example.invalid"},
        "repository": REPOSITORY,
        "sender": SENDER,
    }


def schedule_payload() -> dict[str, Any]:
    return {"schedule": "17 3 * * *", "repository": REPOSITORY, "workflow": ".github/workflows/keysweep.yml"}


# --- secrets ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Planted:
    """A fake key planted in a repository, and what must never appear in any output."""

    rule_id: str
    secret: str
    windows: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def of(cls, rule_id: str, secret: str) -> Planted:
        prefix = len(rule(rule_id).prefix)
        return cls(rule_id, secret, frozenset(leak_windows(secret, skip=prefix)))

    def line(self, name: str = "API_KEY") -> bytes:
        return f"{name}={self.secret}\n".encode()


def assert_no_leak(planted: Mapping[str, Planted], texts: Mapping[str, str]) -> None:
    for label, text in texts.items():
        for key, p in planted.items():
            leaked = sorted(w for w in p.windows if w in text)
            assert leaked == [], f"{label} shows part of planted secret {key}: {leaked[:3]}"


VENV_BIN = Path(sys.executable).parent


def plant_key(rule_id: str, seed: int) -> Planted:
    return Planted.of(rule_id, make_key(rule_id, seed=seed))


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    sarif_path: Path
    summary: str = ""

    @property
    def sarif(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.sarif_path.read_text())
        return doc

    @property
    def run(self) -> dict[str, Any]:
        runs = self.sarif["runs"]
        assert len(runs) == 1
        run: dict[str, Any] = runs[0]
        return run

    def digests(self) -> set[str]:
        return {r["properties"]["keysweep/secret_sha256"] for r in self.run["results"]}


def secret_digest(p: Planted) -> str:
    return hashlib.sha256(p.secret.encode()).hexdigest()


def run_entrypoint(
    runner: Runner,
    event_name: str,
    payload: Mapping[str, Any],
    sha: str,
    ref: str,
    planted: Mapping[str, Planted],
    inputs: Mapping[str, str] | None = None,
    entrypoint: Path = ENTRYPOINT,
) -> Run:
    env, output = runner.env(event_name, payload, sha, ref, inputs)
    summary = Path(env["GITHUB_STEP_SUMMARY"])
    env |= {"PATH": f"{VENV_BIN}:/usr/bin:/bin", "KEYSWEEP_CACHE_HOME": str(cache_home())}
    proc = subprocess.run(
        [str(entrypoint)],  # executed directly: the kernel reads the shebang
        capture_output=True,
        text=True,
        timeout=300,
        cwd=runner.workspace,
        env=env,
    )
    out_text = output.read_text()
    sarif_name = env["INPUT_SARIF-FILE"]
    sarif_path = Path(sarif_name) if Path(sarif_name).is_absolute() else runner.workspace / sarif_name
    summary_text = summary.read_text()
    texts = {"stdout": proc.stdout, "stderr": proc.stderr, "GITHUB_OUTPUT": out_text, "summary": summary_text}
    try:
        is_file = sarif_path.is_file()
    except OSError:  # a refused name too long for the filesystem
        is_file = False
    if is_file:
        texts["sarif"] = sarif_path.read_text()
        assert sarif_schema_errors(json.loads(texts["sarif"])) == [], sarif_path
    html_name = env.get("INPUT_HTML-FILE", "").strip()
    with contextlib.suppress(OSError):  # none asked for, none written, or a refused name too long
        texts["html"] = (runner.workspace / html_name).read_text() if html_name else ""
    assert_no_leak(planted, texts)
    return Run(proc.returncode, proc.stdout, proc.stderr, parse_outputs(out_text), sarif_path, summary_text)
