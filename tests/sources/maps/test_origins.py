"""Issue 11: every bundle finding points at the line of source that put the key there, and a key
that only a map's sourcesContent ships is found — on real esbuild production builds."""

from __future__ import annotations

import base64
import re
import shutil
from pathlib import Path
from typing import Any

import pygit2

from tests import bundlers
from tests.bundle_apps import NAME, commit_all, next_like_repo, only_secret, run
from tests.keys import make_key


def _source_line(root: Path, rel: str, needle: str) -> tuple[int, int]:
    """1-based line and column of `needle` in a source file (ASCII sources here)."""
    for n, line in enumerate((root / rel).read_text().splitlines(), 1):
        if needle in line:
            return n, line.index(needle) + 1
    raise AssertionError(needle)


def _bundle_location(f: dict[str, Any]) -> dict[str, Any]:
    (loc,) = [loc for loc in f["locations"] if loc.get("client_bundle")]
    return loc


def test_a_bundle_hit_carries_the_source_line_that_put_the_key_there(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 111)
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    (root / ".gitignore").write_text("dist/\n")
    commit_all(root)
    bundlers.esbuild(
        root / "src" / "main.js", root / "dist" / "assets", {f"process.env.{NAME}": key}, sourcemap=True
    )
    code, report = run(str(root), "--no-history")
    assert code == 1
    loc = _bundle_location(only_secret(report))
    line, column = _source_line(root, "src/main.js", f"process.env.{NAME}")
    assert loc["original"] == {"path": "src/main.js", "line": line, "column": column}


def test_an_inline_map_and_a_map_named_by_a_relative_url(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 112)
    root = next_like_repo(tmp_path / "app", key)
    (bundle,) = (root / "dist" / "assets").glob("main-*.js")
    shutil.rmtree(root / "dist")
    bundlers.esbuild(
        root / "src" / "main.js", root / "dist" / "assets", {f"process.env.{NAME}": key}, sourcemap=True
    )
    (bundle,) = (root / "dist" / "assets").glob("main-*.js")
    (mapfile,) = (root / "dist" / "assets").glob("main-*.js.map")
    line, column = _source_line(root, "src/main.js", f"process.env.{NAME}")
    # moved one directory down and named by a relative URL
    (root / "dist" / "maps").mkdir()
    moved = root / "dist" / "maps" / mapfile.name
    mapfile.rename(moved)
    text = bundle.read_text()
    bundle.write_text(re.sub(r"sourceMappingURL=\S+", f"sourceMappingURL=../maps/{moved.name}", text))
    _code, report = run(str(root), "--no-history")
    assert _bundle_location(only_secret(report))["original"] == {
        "path": "src/main.js",
        "line": line,
        "column": column,
    }
    # inline: the same map as a data: URL, no file beside
    inline = base64.b64encode(moved.read_bytes()).decode()
    moved.unlink()
    bundle.write_text(
        re.sub(r"sourceMappingURL=\S+", f"sourceMappingURL=data:application/json;base64,{inline}", text)
    )
    _code, report = run(str(root), "--no-history")
    assert _bundle_location(only_secret(report))["original"] == {
        "path": "src/main.js",
        "line": line,
        "column": column,
    }


def test_a_key_only_the_map_ships(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 113)
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    files = bundlers.browser_app(NAME)
    # a helper module whose key-holding function nobody calls: tree-shaking drops it from the
    # bundle, but the map's sourcesContent keeps the whole file
    files["src/debug.js"] = (
        f'export function unused() {{\n  return {{ apiKey: "{key}" }};\n}}\nexport const version = 1;\n'
    )
    files["src/main.js"] = (
        'import { version } from "./debug.js";\nconsole.log(version);\n' + files["src/main.js"]
    )
    bundlers.write(root, files)
    (root / ".gitignore").write_text("dist/\n")
    bundle = bundlers.esbuild(
        root / "src" / "main.js", root / "dist", {f"process.env.{NAME}": "none"}, sourcemap=True
    )
    # the source as built is gone from the repository (never committed); only the map still has it
    (root / "src" / "debug.js").write_text(files["src/debug.js"].replace(key, "redacted-in-the-checkout"))
    commit_all(root)
    assert key not in bundle.read_text()
    code, report = run(str(root), "--no-history")
    assert code == 1
    f = only_secret(report)
    assert (f["severity"], f["exposure"]) == ("critical", "client-bundle")
    (loc,) = f["locations"]
    assert loc["path"].startswith("dist/main-") and loc["path"].endswith(".js.map")
    column = files["src/debug.js"].splitlines()[1].index(key) + 1
    assert loc["original"] == {"path": "src/debug.js", "line": 2, "column": column}


def test_in_history_each_bundle_takes_its_own_commits_map(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 114)
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    (root / ".gitignore").write_text("node_modules/\n")
    bundlers.esbuild(
        root / "src" / "main.js",
        root / "dist",
        {f"process.env.{NAME}": key},
        sourcemap=True,
        entry_names="[name]",
    )
    commit_all(root, "build with the key")
    line, column = _source_line(root, "src/main.js", f"process.env.{NAME}")
    shutil.rmtree(root / "dist")
    commit_all(root, "drop the build")
    code, report = run(str(root))
    assert code == 1
    loc = _bundle_location(only_secret(report))
    assert loc["source"] == "history" and loc["path"] == "dist/main.js"
    assert loc["original"] == {"path": "src/main.js", "line": line, "column": column}


def test_a_literal_key_copied_into_the_bundle_points_at_the_key_itself(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 115)
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    files = bundlers.browser_app(NAME)
    files["src/main.js"] = files["src/main.js"].replace(f"process.env.{NAME}", json_string(key))
    bundlers.write(root, files)
    (root / ".gitignore").write_text("dist/\n")
    commit_all(root)
    bundlers.esbuild(root / "src" / "main.js", root / "dist", {}, sourcemap=True)
    _code, report = run(str(root), "--no-history")
    f = only_secret(report)
    (js,) = [loc for loc in f["locations"] if loc.get("client_bundle") and loc["path"].endswith(".js")]
    (mp,) = [loc for loc in f["locations"] if loc["path"].endswith(".js.map")]
    line, column = _source_line(root, "src/main.js", key)
    # the bundle's copy and the map's sourcesContent: one finding, both pointing at the same source
    assert js["original"] == mp["original"] == {"path": "src/main.js", "line": line, "column": column}


def json_string(value: str) -> str:
    return '"' + value + '"'


def test_sarif_puts_an_untracked_bundles_origin_first_and_passes_the_validators(tmp_path: Path) -> None:
    import json
    import os
    import subprocess

    import jsonschema  # type: ignore[import-untyped]

    from scanner.cli import main
    from tests.output_fixtures import load_schema
    from tests.sarif_multitool import MULTITOOL

    key = make_key("openai.project-key", 116)
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    (root / ".gitignore").write_text("dist/\n")
    commit_all(root)
    bundle = bundlers.esbuild(
        root / "src" / "main.js", root / "dist", {f"process.env.{NAME}": key}, sourcemap=True
    )
    out = tmp_path / "k.sarif"
    assert main(["scan", str(root), "--no-history", "--sarif", str(out), "--jobs", "1"]) == 1
    doc = json.loads(out.read_text())
    (result,) = [r for r in doc["runs"][0]["results"] if r["ruleId"] == "openai.project-key"]
    primary = result["locations"][0]["physicalLocation"]
    line, column = _source_line(root, "src/main.js", f"process.env.{NAME}")
    assert primary["artifactLocation"]["uri"] == "src/main.js"
    assert (primary["region"]["startLine"], primary["region"]["startColumn"]) == (line, column)
    (related,) = result["relatedLocations"]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == bundle.relative_to(root).as_posix()
    schema = load_schema("sarif-schema-2.1.0.json")
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc)) == []
    log = tmp_path / "log.sarif"
    env = os.environ | {"DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1", "DOTNET_CLI_TELEMETRY_OPTOUT": "1"}
    subprocess.run(
        [
            str(MULTITOOL),
            "validate",
            str(out),
            "--output",
            str(log),
            "--rule-kind",
            "Gh;Sarif",
            "--level",
            "Error",
        ],
        env=env,
        capture_output=True,
        timeout=180,
        check=False,
    )
    errors = [
        r
        for run in json.loads(log.read_text())["runs"]
        for r in run.get("results", [])
        if r.get("level", "warning") == "error"
    ]
    assert errors == []
