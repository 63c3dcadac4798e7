"""The environment a GitHub workflow's job names (issue 24 item 3): a secret written in a job with
`environment: production` (or `environment: {name: staging}`) sits in that environment. The one
environment read from content, not from the path (docs/environments.md); the job is found by the
location's line in the file's text (`scanner.environments.workflow_environment`).

A step on the findings, before the window step (enrich/window.py), which names a location's
environment by this when it is set and by the path table otherwise. It reads only workflow files
that hold a finding, each text once, through `TextRead` (built by the pipeline from the run's
repository and working tree); a text it cannot read names nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from scanner.enrich.reads import read_blob, read_file_under
from scanner.environments import is_workflow, workflow_environment
from scanner.model import Finding, Location, SourceKind

if TYPE_CHECKING:
    import pygit2

TextRead = Callable[[Location], bytes | None]  # a location's text, None when it cannot be read
MAX_WORKFLOW = 1 << 20  # a workflow file is small; a larger text is not parsed
_FROM_DISK = frozenset({SourceKind.WORKTREE, SourceKind.DIRECTORY})


def text_reader(repo: pygit2.Repository | None, root: Path | None) -> TextRead:
    """A location's text: its blob from `repo`, or its file under `root` (the working tree or
    the scanned directory); None for anything else, a missing object or an unreadable file."""
    base = os.fsencode(root) if root is not None else None

    def read(loc: Location) -> bytes | None:
        if loc.source in _FROM_DISK and base is not None and loc.path_bytes is None:
            return read_file_under(base, loc.path, MAX_WORKFLOW)
        if repo is not None and loc.blob is not None:
            try:
                blob = bytes.fromhex(loc.blob)
            except ValueError:
                return None
            return read_blob(repo, blob, MAX_WORKFLOW)
        return None

    return read


def workflow_environments(findings: Sequence[Finding], read: TextRead) -> list[Finding]:
    """The findings, each location in a workflow job that names an environment marked with it."""
    texts: dict[tuple[object, ...], str | None] = {}

    def named(loc: Location) -> str | None:
        key = (loc.source in _FROM_DISK, loc.blob, loc.path)
        if key not in texts:
            data = read(loc)
            texts[key] = data.decode("utf-8", "replace") if data is not None else None
        text = texts[key]
        return workflow_environment(text, loc.position.line) if text is not None else None

    out: list[Finding] = []
    for f in findings:
        if not any(is_workflow(loc.path) for loc in f.locations):
            out.append(f)
            continue
        locations = tuple(
            replace(loc, environment=name)
            if is_workflow(loc.path) and (name := named(loc)) is not None
            else loc
            for loc in f.locations
        )
        out.append(replace(f, locations=locations))
    return out
