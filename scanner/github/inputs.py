"""The action's inputs and the runner's context: `INPUT_*` (names keep their hyphens, so only a
process's environment can read them), their defaults and checks (no value ever starting with `-`),
`GITHUB_*` / `RUNNER_TEMP`, and the event payload."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from scanner.errors import UsageError
from scanner.github.event import Mode
from scanner.model import Severity
from scanner.output.escape import shown as shown

FAIL_ON_CHOICES = ("none", "low", "medium", "high", "critical")
PATH_MAX, NAME_MAX = 4096, 255  # Linux's limits: a longer path input is refused, never an OSError
_PATH_INPUTS = ("path", "sarif-file", "html-file", "cache-dir", "config", "baseline")
DEFAULT_SARIF = "keysweep.sarif"
_TRUE = ("true", "True", "TRUE")
_FALSE = ("false", "False", "FALSE")


@dataclass(frozen=True, slots=True)
class ActionInputs:
    """The action's inputs after defaults and validation (action.yml mirrors these defaults)."""

    path: str = "."
    mode: Mode = Mode.AUTO
    sarif_file: str = DEFAULT_SARIF
    fail_on: Severity | None = Severity.HIGH
    cache_dir: str | None = None
    strict: bool = True
    fail_on_given: bool = False  # an explicit `fail-on` wins over the config's (which wins over high)
    config: str = ".keysweep.toml"  # read from the trusted commit, never from the change itself
    baseline: str | None = None  # likewise; None: the one the config names
    bundles: tuple[str, ...] = ()  # build output dirs (one per line), read as client bundles
    verify: bool = False  # live verification: one read-only, free request per distinct secret
    html_file: str | None = None  # the HTML report's path, for actions/upload-artifact; None: none


@dataclass(frozen=True, slots=True)
class RunnerContext:
    """What the runner says about this run (`GITHUB_*`, `RUNNER_TEMP`), container paths already."""

    workspace: Path
    event_name: str
    event_path: Path | None
    output: Path | None
    sha: str | None
    ref: str
    summary: Path | None = None
    server_url: str | None = None
    repository: str | None = None
    run_id: str | None = None


def resolve(ctx: RunnerContext, value: str) -> Path:
    """A path input: absolute as given, else relative to the workspace (not to the cwd)."""
    p = Path(value)
    return p if p.is_absolute() else ctx.workspace / p


def sarif_path(ctx: RunnerContext, inputs: ActionInputs) -> Path:
    """Where the SARIF file goes (`workspace_file`)."""
    return workspace_file(ctx, "sarif-file", inputs.sarif_file)


def html_path(ctx: RunnerContext, inputs: ActionInputs) -> Path | None:
    """Where the HTML report goes (`workspace_file`), None when not asked for; UsageError when it
    is the SARIF file's path."""
    if inputs.html_file is None:
        return None
    path = workspace_file(ctx, "html-file", inputs.html_file)
    if path == sarif_path(ctx, inputs):
        raise UsageError(
            f"inputs `html-file` and `sarif-file` must name different files, not both {shown(inputs.html_file)}"
        )
    return path


def workspace_file(ctx: RunnerContext, name: str, value: str) -> Path:
    """Where a file input goes: inside the workspace, where later steps read it, with every
    symlink on the way followed (a checked-out symlink must not carry the write elsewhere);
    UsageError (exit 2) for anywhere else."""
    path = resolve(ctx, value)
    try:
        real, root = path.resolve(), ctx.workspace.resolve()
    except (OSError, RuntimeError) as e:
        raise UsageError(f"input `{name}` {shown(value)} cannot be resolved: {e}") from None
    if real == root or not real.is_relative_to(root):
        raise UsageError(
            f"input `{name}` must name a file inside the workspace, not {shown(value)}"
            + (f" (it leads to {shown(str(real))})" if real != path else "")
        )
    return real


def check_path(name: str, value: str) -> str:
    """A path input the filesystem can take: UsageError (exit 2) for one longer than PATH_MAX
    bytes or with a name longer than NAME_MAX, which would otherwise fail as an OSError."""
    raw = os.fsencode(value)
    if len(raw) > PATH_MAX:
        raise UsageError(f"input `{name}` is too long ({len(raw)} bytes; at most {PATH_MAX}): {shown(value)}")
    longest = max((len(part) for part in raw.split(b"/")), default=0)
    if longest > NAME_MAX:
        raise UsageError(
            f"input `{name}` has a file name of {longest} bytes (at most {NAME_MAX}): {shown(value)}"
        )
    return value


def repo_relative(name: str, value: str) -> str:
    """`config` and `baseline` name files in the trusted commit's tree: a repository-relative path
    without `..`; anything else is refused (exit 2), never quietly treated as absent."""
    parts = value.split("/")
    if value.startswith("/") or ".." in parts:
        raise UsageError(
            f"input `{name}` must be a repository-relative path without `..` (it is read from a "
            f"commit's tree), not {shown(value)}"
        )
    return value


def input_var(name: str) -> str:
    """The variable the runner sets for input `name`: upper-cased, spaces to `_`, hyphens kept."""
    return "INPUT_" + name.replace(" ", "_").upper()


def read_inputs(env: Mapping[str, str]) -> ActionInputs:
    """The inputs from `env`; UsageError (exit 2) for a value that is not allowed."""

    def get(name: str) -> str | None:
        value = env.get(input_var(name), "").strip()
        if not value:
            return None
        if value.startswith("-"):
            raise UsageError(
                f"input `{name}` must not start with '-' (got {shown(value)}); "
                "no input is ever passed on as an option"
            )
        if name in _PATH_INPUTS:
            check_path(name, value)
        if name in ("config", "baseline"):
            repo_relative(name, value)
        return value

    defaults = ActionInputs()
    mode_text = get("mode") or defaults.mode.value
    try:
        mode = Mode(mode_text)
    except ValueError:
        choices = " | ".join(m.value for m in Mode)
        raise UsageError(f"input `mode` must be {choices}, not {shown(mode_text)}") from None
    given = get("fail-on")
    fail_text = (given or "high").lower()
    if fail_text not in FAIL_ON_CHOICES:
        raise UsageError(
            f"input `fail-on` must be {' | '.join(FAIL_ON_CHOICES)}, not {shown(given or fail_text)}"
        )
    strict = _flag("strict", get("strict"), defaults.strict)
    return ActionInputs(
        path=get("path") or defaults.path,
        mode=mode,
        sarif_file=get("sarif-file") or defaults.sarif_file,
        fail_on=None if fail_text == "none" else Severity(fail_text),
        cache_dir=get("cache-dir"),
        bundles=_lines(get("bundles")),
        strict=strict,
        fail_on_given=given is not None,
        config=get("config") or defaults.config,
        baseline=get("baseline"),
        verify=_flag("verify", get("verify"), defaults.verify),
        html_file=get("html-file"),
    )


def _flag(name: str, text: str | None, default: bool) -> bool:
    if text is None:
        return default
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise UsageError(f"input `{name}` must be true or false, not {shown(text)}")


def _lines(value: str | None) -> tuple[str, ...]:
    """A multi-line input: one entry per line (commas also separate), blanks dropped; none may
    start with `-`."""
    if not value:
        return ()
    out = tuple(p.strip() for line in value.splitlines() for p in line.split(",") if p.strip())
    for p in out:
        if p.startswith("-"):
            raise UsageError(f"input `bundles` must not hold a value starting with '-' (got {shown(p)})")
        check_path("bundles", p)
    return out


def read_context(env: Mapping[str, str]) -> RunnerContext:
    workspace = Path(env.get("GITHUB_WORKSPACE") or os.getcwd())
    event_path = env.get("GITHUB_EVENT_PATH")
    output = env.get("GITHUB_OUTPUT")
    summary = env.get("GITHUB_STEP_SUMMARY")
    return RunnerContext(
        workspace=workspace,
        event_name=env.get("GITHUB_EVENT_NAME", ""),
        event_path=Path(event_path) if event_path else None,
        output=Path(output) if output else None,
        sha=env.get("GITHUB_SHA") or None,
        ref=env.get("GITHUB_REF", ""),
        summary=Path(summary) if summary else None,
        server_url=env.get("GITHUB_SERVER_URL") or None,
        repository=env.get("GITHUB_REPOSITORY") or None,
        run_id=env.get("GITHUB_RUN_ID") or None,
    )


def read_payload(ctx: RunnerContext, log: TextIO) -> dict[str, Any]:
    """The webhook payload; `{}` (with a note) when the file is absent or not a JSON object."""
    if ctx.event_path is None:
        return {}
    try:
        data = json.loads(ctx.event_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not JSON"
        log.write(
            f"keysweep: note: the event payload could not be read ({reason}); going by the event name\n"
        )
        return {}
    if not isinstance(data, dict):
        log.write("keysweep: note: the event payload is not a JSON object; going by the event name\n")
        return {}
    return data
