"""Issue 21: what ships to browsers is judged the same from any scan root, with and without git, on
real production builds (Vite with the real `openai` SDK, webpack 5 with terser, esbuild).

Each build is made once per module (builds are slow on 2 cores) and scanned from the project's
root, its build folder and the folder above, with and without a repository. Every planted key is
found once, `client-bundle`, at its exact generated position, with the origin
@jridgewell/trace-mapping gives for that position (resolved against the map's own file URL);
keys are planted at test time (tests/keys.py).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests import bundlers
from tests.bundle_apps import FIREBASE_PROJECT, commit_all, expected_origin, run, where
from tests.keys import make_key

pytestmark = pytest.mark.skipif(
    not all(
        p.exists() for p in (bundlers.VITE, bundlers.WEBPACK, bundlers.TRACE_MAPPING, bundlers.OPENAI_SDK)
    ),
    reason="npm ci has not installed the bundlers",
)


@dataclass
class Build:
    """A built app: `top/app` is the project, `top/app/<out>` its build folder; `git` has the same
    tree with the app committed (build output ignored)."""

    top: Path
    git: Path
    out: str
    keys: dict[str, str]  # label → key
    severity: dict[str, str]  # label → expected severity
    bundle_glob: str
    prose: bool = False  # the bundle ships the openai SDK's error text
    extra: dict[str, Any] = field(default_factory=dict)


def _firebase_module(key: str) -> str:
    return (
        "export const firebaseConfig = {\n"
        f'  apiKey: "{key}",\n'
        f'  authDomain: "{FIREBASE_PROJECT}.firebaseapp.com",\n'
        f'  projectId: "{FIREBASE_PROJECT}",\n'
        f'  storageBucket: "{FIREBASE_PROJECT}.firebasestorage.app",\n'
        '  messagingSenderId: "418204117623",\n'
        '  appId: "1:418204117623:web:5a0c2f4e9b1d7c3e",\n'
        "};\n"
    )


def _keys(seed: int) -> dict[str, str]:
    return {
        "env": make_key("openai.project-key", seed),
        "code": make_key("anthropic.api-key", seed + 1),
        "firebase": make_key("google.api-key", seed + 2),
        "bare-google": make_key("google.api-key", seed + 3),
    }


SEVERITY = {"env": "critical", "code": "critical", "firebase": "low", "bare-google": "critical"}


def _app_files(keys: dict[str, str], env_ref: str, sdk: bool) -> dict[str, str]:
    """An app that ships four keys: a public env value, a literal in code, a Firebase web config
    and a bare Google key in a module far from it (the SDK, when used, sits between them)."""
    client = (
        'import OpenAI from "openai";\n'
        f"const client = new OpenAI({{ apiKey: {env_ref} }});\n"
        "window.baseURL = client.baseURL;\n"
        if sdk
        else f"window.apiKey = {env_ref};\n"
    )
    return {
        "src/maps.js": f'export const mapsKey = "{keys["bare-google"]}";\n',
        "src/firebase.js": _firebase_module(keys["firebase"]),
        "src/main.js": (
            'import { mapsKey } from "./maps.js";\n'
            + client
            + 'import { firebaseConfig } from "./firebase.js";\n'
            + f"const greeting = {bundlers.json.dumps(bundlers.GREETING, ensure_ascii=False)};\n"
            + f'const anthropicKey = "{keys["code"]}";\n'
            + "document.title = greeting + firebaseConfig.projectId + mapsKey.length;\n"
            + "window.send = (m) => fetch('/x', { headers: { 'x-api-key': anthropicKey }, body: m });\n"
            + "window.fb = firebaseConfig;\n"
            + "window.maps = mapsKey;\n"
        ),
    }


def _with_git(top: Path, app: str, ignore: str) -> Path:
    """A copy of `top` whose `app` is a repository with its sources committed."""
    git = top.parent / (top.name + "-git")
    shutil.copytree(top, git, symlinks=True)
    root = git / app
    pygit2.init_repository(str(root), initial_head="main")
    (root / ".gitignore").write_text(ignore)
    commit_all(root)
    return git


@pytest.fixture(scope="module")
def vite(tmp_path_factory: pytest.TempPathFactory) -> Build:
    keys = _keys(2101)
    top = tmp_path_factory.mktemp("vite")
    app = top / "app"
    app.mkdir()
    bundlers.write(app, _app_files(keys, "import.meta.env.VITE_OPENAI_API_KEY", sdk=True))
    bundlers.vite_build_with(
        app, {"VITE_OPENAI_API_KEY": keys["env"]}, "export default { build: { sourcemap: true } };\n"
    )
    return Build(
        top, _with_git(top, "app", "dist/\nnode_modules\n"), "dist", keys, SEVERITY, "dist/assets/*.js", True
    )


@pytest.fixture(scope="module")
def webpack(tmp_path_factory: pytest.TempPathFactory) -> Build:
    keys = _keys(2111)
    top = tmp_path_factory.mktemp("webpack")
    app = top / "app"
    app.mkdir()
    bundlers.write(app, _app_files(keys, "process.env.NEXT_PUBLIC_OPENAI_API_KEY", sdk=False))
    (app / ".env.production").write_text(f"NEXT_PUBLIC_OPENAI_API_KEY={keys['env']}\n")
    bundlers.webpack_build(app, {"process.env.NEXT_PUBLIC_OPENAI_API_KEY": keys["env"]})
    return Build(
        top, _with_git(top, "app", "dist/\nnode_modules\n"), "dist", keys, SEVERITY, "dist/static/js/*.js"
    )


@pytest.fixture(scope="module")
def esbuild(tmp_path_factory: pytest.TempPathFactory) -> Build:
    keys = _keys(2121)
    top = tmp_path_factory.mktemp("esbuild")
    app = top / "app"
    app.mkdir()
    bundlers.write(app, _app_files(keys, "process.env.NEXT_PUBLIC_OPENAI_API_KEY", sdk=False))
    bundlers.esbuild(
        app / "src" / "main.js",
        app / "out",
        {"process.env.NEXT_PUBLIC_OPENAI_API_KEY": keys["env"]},
        sourcemap=True,
    )
    return Build(top, _with_git(top, "app", "out/\n"), "out", keys, SEVERITY, "out/*.js")


BUILDS = ["vite", "webpack", "esbuild"]
ROOTS = ["project", "build-folder", "above"]


def _scan_root(build: Build, git: bool, root: str) -> tuple[Path, Path]:
    """(the directory scanned, the directory the report's paths are relative to)."""
    top = build.git if git else build.top
    app = top / "app"
    target = {"project": app, "build-folder": app / build.out, "above": top}[root]
    base = app if git and root != "above" else target
    return target, base


def _by_secret(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        if f["kind"] == "secret":
            out.setdefault(f["secret_sha256"], []).append(f)
    return out


@pytest.mark.parametrize("root", ROOTS)
@pytest.mark.parametrize("git", [False, True], ids=["no-git", "git"])
@pytest.mark.parametrize("name", BUILDS)
def test_every_planted_key_is_judged_alike_from_any_root(
    name: str, git: bool, root: str, request: pytest.FixtureRequest
) -> None:
    build: Build = request.getfixturevalue(name)
    target, base = _scan_root(build, git, root)
    app = (build.git if git else build.top) / "app"
    (bundle,) = app.glob(build.bundle_glob)
    data = bundle.read_bytes()
    _code, report = run(str(target))
    by_secret = _by_secret(report)
    for label, key in build.keys.items():
        found = by_secret.get(hashlib.sha256(key.encode()).hexdigest(), [])
        assert len(found) == 1, (label, [f["rule_id"] for f in found])
        (f,) = found
        assert (f["exposure"], f["severity"]) == ("client-bundle", build.severity[label]), label
        first = f["locations"][0]
        assert first["path"] == os.path.relpath(bundle, base).replace(os.sep, "/"), label
        assert first["client_bundle"] == "build-output", label  # never tracked: no commit holds it
        assert where(first) == bundlers.position(data, key), label
        assert first["original"] == expected_origin(app, bundle, key, base), label
        if label == "firebase":
            assert "Firebase" in f["severity_reason"] and "Gemini" in f["severity_reason"]
        else:
            assert f["severity_reason"] is None
    if build.prose:  # the SDK's own error text is in the bundle, quoting the option as prose
        assert b"dangerouslyAllowBrowser: true" in data
    assert not [f for f in report["findings"] if f["rule_id"] == "browser.sdk-browser-opt-in"]


# --- item 4: the SDK's prose; item 6: production source maps; item 8: SARIF -------------------------


def test_the_openai_sdk_shipped_in_a_vite_bundle_is_no_opt_in(vite: Build) -> None:
    """Every Vite build that uses the SDK ships its error text quoting the option; the app never
    opted in, so nothing is reported for it — in the bundle or in its map."""
    (bundle,) = (vite.top / "app").glob(vite.bundle_glob)
    assert b"dangerouslyAllowBrowser: true" in bundle.read_bytes()
    assert b"dangerouslyAllowBrowser: true" in bundle.with_name(bundle.name + ".map").read_bytes()
    for target in (vite.top / "app" / "dist", vite.git / "app"):
        _code, report = run(str(target))
        assert not [f for f in report["findings"] if f["kind"] == "exposure" and "opt-in" in f["rule_id"]]


@pytest.mark.parametrize(("name", "config"), [("vite", "vite.config.js"), ("webpack", "webpack.config.js")])
def test_a_production_build_that_serves_its_maps_is_flagged(
    name: str, config: str, request: pytest.FixtureRequest
) -> None:
    build: Build = request.getfixturevalue(name)
    _code, report = run(str(build.git / "app"))
    (f,) = [f for f in report["findings"] if f["rule_id"] == "browser.production-source-maps"]
    assert f["locations"][0]["path"] == config and f["severity"] == "medium"


def test_hidden_maps_are_not_flagged_and_still_give_origins(tmp_path: Path) -> None:
    keys = _keys(2161)
    app = tmp_path / "app"
    app.mkdir()
    bundlers.write(app, _app_files(keys, "import.meta.env.VITE_OPENAI_API_KEY", sdk=False))
    (chunk,) = bundlers.vite_build_with(
        app, {"VITE_OPENAI_API_KEY": keys["env"]}, "export default { build: { sourcemap: 'hidden' } };\n"
    )
    assert b"sourceMappingURL" not in chunk.read_bytes() and chunk.with_name(chunk.name + ".map").exists()
    _code, report = run(str(app))
    assert not [f for f in report["findings"] if f["rule_id"] == "browser.production-source-maps"]
    f = next(
        f
        for f in report["findings"]
        if f.get("secret_sha256") == hashlib.sha256(keys["code"].encode()).hexdigest()
    )
    assert f["locations"][0]["original"] == expected_origin(app, chunk, keys["code"], app)


def test_sarif_names_each_location_once(vite: Build, tmp_path: Path) -> None:
    """The untracked bundle's origin is the committed source line that also holds the key: one
    location, not two."""
    from scanner.cli import main

    out = tmp_path / "vite.sarif"
    main(["scan", str(vite.git / "app"), "--sarif", str(out), "--jobs", "1", "--fail-on", "none"])
    sarif = bundlers.json.loads(out.read_text())
    for result in sarif["runs"][0]["results"]:
        lines = [
            (
                loc["physicalLocation"]["artifactLocation"]["uri"],
                loc["physicalLocation"]["region"]["startLine"],
            )
            for loc in result["locations"]
        ]
        assert len(lines) == len(set(lines)), (result["ruleId"], lines)
