"""Small apps and their scans, shared by the bundle and source-map tests: a Next-like repository,
committing a built app, running `keysweep scan --json` and reading a location, and the origin
trace-mapping gives for a key in a real build."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pygit2

from scanner.cli import main
from tests import bundlers

NAME = "NEXT_PUBLIC_OPENAI_API_KEY"


def run(*argv: str) -> tuple[int, dict[str, Any]]:
    """`keysweep scan … --json -` in this process: the exit code and the JSON report."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["scan", *argv, "--json", "-", "--jobs", "1"])
    return code, json.loads(out.getvalue())


def commit_all(path: Path, message: str = "app") -> pygit2.Oid:
    repo = pygit2.Repository(str(path))
    repo.index.add_all()
    repo.index.write()
    tree = repo.index.write_tree()
    sig = pygit2.Signature("Ada Builder", "ada@example.invalid", 1_600_000_000, 0)
    parents = [] if repo.head_is_unborn else [repo.head.target]
    return repo.create_commit("HEAD", sig, sig, message, tree, parents)


def next_like_repo(root: Path, key: str) -> Path:
    """A repository whose committed `.env.production` holds the key and whose ignored `dist/`
    holds the esbuild production bundle it was built into."""
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    (root / ".env.production").write_text(f"{NAME}={key}\n")
    (root / ".gitignore").write_text("dist/\nnode_modules/\n")
    commit_all(root)
    bundlers.esbuild(
        root / "src" / "main.js", root / "dist" / "assets", {f"process.env.{NAME}": key}, banner="/*! app */"
    )
    return root


def where(location: dict[str, Any]) -> tuple[int, int, int, int, int]:
    return (
        location["line"],
        location["column"],
        location["end_line"],
        location["end_column"],
        location["byte_offset"],
    )


def only_secret(report: dict[str, Any]) -> dict[str, Any]:
    secrets = [f for f in report["findings"] if f["kind"] == "secret"]
    assert len(secrets) == 1, [(f["rule_id"], [loc["path"] for loc in f["locations"]]) for f in secrets]
    return secrets[0]


FIREBASE_PROJECT = "demo-chat-4821"


def expected_origin(
    app: Path, bundle: Path, key: str, base: Path, map_file: Path | None = None
) -> dict[str, Any]:
    """The origin trace-mapping gives for the key's position in `bundle`, as a path relative to
    the report's base; a hit inside a token copied as written is placed as far into the source.
    Bundler schemes name a file of the project `app`: `webpack://<namespace>/./src/a.js`,
    `turbopack:///[project]/app/a.tsx`."""
    data = bundle.read_bytes()
    line, column, *_ = bundlers.position(data, key)
    got = bundlers.trace(map_file or Path(str(bundle) + ".map"), line, column)
    pos, seg, content = got["pos"], got["seg"], got["content"]
    source = pos["source"]
    if source.startswith("webpack://"):
        path = app / source.split("/", 3)[3]
    elif source.startswith("turbopack:///[project]/"):
        path = app / source.removeprefix("turbopack:///[project]/")
    else:
        path = Path(unquote(urlparse(source).path))
    col = pos["column"] + 1
    text = data.decode("utf-8").splitlines()[line - 1].encode("utf-16-le")
    delta = column - 1 - seg[0]
    src_line = content.splitlines()[pos["line"] - 1].encode("utf-16-le") if content else b""
    before = text[2 * seg[0] : 2 * (column - 1)]
    if before and before == src_line[2 * pos["column"] : 2 * (pos["column"] + delta)]:
        col += delta
    rel = os.path.relpath(os.path.normpath(path), os.path.realpath(base))
    return {"path": rel.replace(os.sep, "/"), "line": pos["line"], "column": col}
