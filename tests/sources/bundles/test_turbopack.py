"""Issue 21 on a recorded Next.js Turbopack production build (tests/record_turbopack.py made
tests/data/turbopack from a real `next build --turbopack`; `next build` is too slow for CI here).

Turbopack names sources `turbopack:///[project]/app/components/Chat.tsx` and writes index
(sectioned) maps; its server output (`.next/server/chunks/ssr`, route chunks) holds the same keys
and the direct-browser header, and is never client output. The recorded files hold placeholders
of each fake key's length, rewritten here, so every mapping column stays true.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pygit2
import pytest

from tests import bundlers
from tests.bundle_apps import commit_all, expected_origin, run, where
from tests.keys import make_key
from tests.record_turbopack import ENV_NAME, FIXTURE, placeholder

pytestmark = pytest.mark.skipif(not bundlers.TRACE_MAPPING.exists(), reason="npm ci has not run")

RULES = {"env": "openai.project-key", "code": "anthropic.api-key", "firebase": "google.api-key"}
SEVERITY = {"env": "critical", "code": "critical", "firebase": "low"}
CHUNK_DIR = ".next/static/chunks"
PUBLIC_NAME = "NEXT_PUBLIC_OPENAI_API_KEY"  # in place of the recording's ENV_NAME (same length)


def _plant(top: Path, keys: dict[str, str]) -> Path:
    app = top / "app"
    shutil.copytree(FIXTURE / "app", app)
    for path in app.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for label, key in keys.items():
                data = data.replace(placeholder(label).encode(), key.encode())
            path.write_bytes(data.replace(ENV_NAME.encode(), PUBLIC_NAME.encode()))
    (app / ".env.production").write_text(f"{PUBLIC_NAME}={keys['env']}\n")
    return app


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    keys = {label: make_key(rule, 2131 + i) for i, (label, rule) in enumerate(RULES.items())}
    top = tmp_path_factory.mktemp("turbopack") / "plain"
    _plant(top, keys)
    git = top.parent / "git"
    app = _plant(git, keys)
    pygit2.init_repository(str(app), initial_head="main")
    (app / ".gitignore").write_text(".next/\n")
    commit_all(app)
    return top, git, keys


def _chunk(app: Path) -> tuple[Path, Path]:
    (chunk,) = (app / CHUNK_DIR).glob("*.js")
    (mapfile,) = (app / CHUNK_DIR).glob("*.js.map")
    return chunk, mapfile


def test_the_recording_is_a_turbopack_index_map_without_keys() -> None:
    recorded = json.loads((FIXTURE / "RECORDED.json").read_text())
    assert any(f.startswith(".next/server/chunks/ssr/") for f in recorded["files"])
    _chunk_file, mapfile = _chunk(FIXTURE / "app")
    doc = json.loads(mapfile.read_text())
    assert "sections" in doc
    assert doc["sections"][0]["map"]["sources"] == ["turbopack:///[project]/app/components/Chat.tsx"]


@pytest.mark.parametrize("root", ["project", "build-folder", "above"])
@pytest.mark.parametrize("git", [False, True], ids=["no-git", "git"])
def test_turbopack_build_from_any_root(
    planted: tuple[Path, Path, dict[str, str]], git: bool, root: str
) -> None:
    top = planted[1] if git else planted[0]
    keys = planted[2]
    app = top / "app"
    target = {"project": app, "build-folder": app / ".next", "above": top}[root]
    base = app if git and root != "above" else target
    chunk, mapfile = _chunk(app)
    data = chunk.read_bytes()
    _code, report = run(str(target))
    for label, key in keys.items():
        found = [
            f
            for f in report["findings"]
            if f.get("secret_sha256") == hashlib.sha256(key.encode()).hexdigest()
        ]
        assert len(found) == 1, label
        (f,) = found
        assert (f["exposure"], f["severity"]) == ("client-bundle", SEVERITY[label]), label
        first = f["locations"][0]
        assert first["path"] == os.path.relpath(chunk, base), label
        assert where(first) == bundlers.position(data, key), label
        origin = expected_origin(app, chunk, key, base, mapfile)
        assert origin["path"] == os.path.relpath(app / "app/components/Chat.tsx", base)
        assert first["original"] == origin, label
        for loc in f["locations"]:  # server output holds the key too, and is never client output
            if "/server/" in "/" + loc["path"]:
                assert "client_bundle" not in loc, (label, loc["path"])
            if loc["path"].endswith(".map"):  # the key in the index map's sourcesContent
                src = (app / "app/components/Chat.tsx").read_text()
                n = next(i for i, line in enumerate(src.splitlines(), 1) if key in line)
                col = src.splitlines()[n - 1].index(key) + 1
                assert loc["original"] == {"path": origin["path"], "line": n, "column": col}, label
    # the route handler sets the direct-browser header on a server: no exposure of it anywhere
    assert not [f for f in report["findings"] if f["rule_id"] == "browser.anthropic-direct-access"]


def test_sarif_leads_with_the_repository_path_of_a_turbopack_source(
    planted: tuple[Path, Path, dict[str, str]],
) -> None:
    from scanner.cli import main

    app = planted[1] / "app"
    out = app.parent / "out.sarif"
    main(["scan", str(app), "--sarif", str(out), "--jobs", "1", "--fail-on", "none"])
    sarif = json.loads(out.read_text())
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
    ]
    assert "app/components/Chat.tsx" in uris
    assert not [u for u in uris if "%5B" in u or "[" in u]
