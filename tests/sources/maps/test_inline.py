"""Issue 21.1: inline source maps, on real bundles. The `sourceMappingURL` comment is found on the
last line however long (an inline map is tens of KB of base64), every hit in code gets the
origin `@jridgewell/trace-mapping` gives, and every map's `sourcesContent` is scanned whatever
its form (inline, external, index/sectioned): a key only there — in a source comment the minifier
dropped, in an export tree-shaking dropped — is found once, critical, client-bundle, at its line
of source. A key in both the code and the map's sources is one finding with both locations."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pygit2
import pytest

from tests import bundlers, tracemap
from tests.bundle_apps import NAME, commit_all, run, where
from tests.keys import make_key

pytestmark = pytest.mark.skipif(
    not bundlers.ESBUILD.exists() or not bundlers.VITE.exists() or not tracemap.AVAILABLE,
    reason="npm ci has not installed the bundlers and trace-mapping",
)
_INLINE = re.compile(rb"sourceMappingURL=data:application/json[^,]*;base64,([A-Za-z0-9+/=]+)\s*$")


def _finding(report: dict[str, Any], key: str) -> dict[str, Any]:
    digest = hashlib.sha256(key.encode()).hexdigest()
    got = [f for f in report["findings"] if f.get("secret_sha256") == digest]
    assert len(got) == 1, [f["rule_id"] for f in report["findings"]]
    return got[0]


def _at(text: str, needle: str) -> dict[str, Any]:
    """1-based line and UTF-16 column of `needle` in a source text."""
    before = text[: text.index(needle)]
    last = before.rsplit("\n", 1)[-1]
    return {"line": before.count("\n") + 1, "column": len(last.encode("utf-16-le")) // 2 + 1}


def _inline_map(bundle: bytes) -> str:
    m = _INLINE.search(bundle)
    assert m is not None, "the bundler wrote an inline map"
    return base64.b64decode(m.group(1)).decode()


def _app(root: Path, code_key: str, comment_key: str, unused_key: str) -> dict[str, str]:
    """A browser app: the code key through the framework's env, a key in a source comment the
    minifier drops, a key in an export tree-shaking drops, and enough data that the inline map is
    far longer than 4 KB."""
    files = bundlers.browser_app(NAME)
    files["src/data.js"] = (
        "export const data = [\n"
        + "".join(f'  "{bundlers.GREETING} {i:04d}",\n' for i in range(600))
        + "];\n"
    )
    files["src/debug.js"] = (
        f'export function unused() {{\n  return {{ apiKey: "{unused_key}" }};\n}}\nexport const version = 1;\n'
    )
    files["src/main.js"] = (
        'import { data } from "./data.js";\nimport { version } from "./debug.js";\n'
        f"// the old key was {comment_key}, rotated\n"
        "console.log(data.length, version);\n" + files["src/main.js"]
    )
    bundlers.write(root, files)
    return files


def _scrub(root: Path, files: dict[str, str], *keys: str) -> None:
    """The sources as committed no longer hold the keys: only what was built ships them."""
    for rel, text in files.items():
        for k in keys:
            text = text.replace(k, "rotated-away")
        (root / rel).write_text(text)


def _check_code_hit(report: dict[str, Any], key: str, bundle: Path, root: Path, map_text: str) -> None:
    f = _finding(report, key)
    assert (f["severity"], f["exposure"]) == ("critical", "client-bundle")
    (loc,) = [loc for loc in f["locations"] if "encoding" not in loc]
    rel = bundle.relative_to(root).as_posix()
    data = bundle.read_bytes()
    assert loc["path"] == rel and where(loc) == bundlers.position(data, key)
    (want,) = tracemap.original(map_text, rel, [(loc["line"], loc["column"])])
    assert loc["original"] == want, (loc["original"], want)


def _check_content_hit(
    report: dict[str, Any], key: str, bundle: Path, root: Path, source: str, text: str
) -> None:
    f = _finding(report, key)
    assert (f["severity"], f["exposure"]) == ("critical", "client-bundle")
    (loc,) = f["locations"]
    assert loc["path"] == bundle.relative_to(root).as_posix()
    assert loc.get("client_bundle") and loc["encoding"] == "source-map"
    assert loc["original"] == {"path": source, **_at(text, key)}


def test_esbuild_inline_map(tmp_path: Path) -> None:
    keys = [make_key("openai.project-key", 801 + i) for i in range(3)]
    code_key, comment_key, unused_key = keys
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    files = _app(root, *keys)
    (root / ".gitignore").write_text("dist/\n")
    bundle = bundlers.esbuild(
        root / "src" / "main.js",
        root / "dist" / "assets",
        {f"process.env.{NAME}": code_key},
        sourcemap="inline",
    )
    data = bundle.read_bytes()
    assert len(data) - data.rfind(b"\n", 0, len(data) - 1) > 20_000  # the comment's line is long
    assert comment_key.encode() not in data and unused_key.encode() not in data
    _scrub(root, files, comment_key, unused_key)
    commit_all(root)
    map_text = _inline_map(data)
    for mode in (("--no-history",), ()):
        code, report = run(str(root), *mode)
        assert code == 1
        assert len([f for f in report["findings"] if f["kind"] == "secret"]) == 3
        _check_code_hit(report, code_key, bundle, root, map_text)
        _check_content_hit(report, comment_key, bundle, root, "src/main.js", files["src/main.js"])
        _check_content_hit(report, unused_key, bundle, root, "src/debug.js", files["src/debug.js"])


def test_vite_inline_map(tmp_path: Path) -> None:
    code_key, comment_key = make_key("openai.project-key", 811), make_key("openai.project-key", 812)
    app = tmp_path / "site"
    app.mkdir()
    files = bundlers.vite_app()
    files["src/main.js"] = f"// the old key was {comment_key}, rotated\n" + files["src/main.js"]
    bundlers.write(app, files)
    (app / "vite.config.js").write_text("export default { build: { sourcemap: 'inline' } };\n")
    (chunk,) = bundlers.vite_build(app, {"VITE_OPENAI_API_KEY": code_key})
    (app / ".env.production").unlink()
    _scrub(app, files, comment_key)
    data = chunk.read_bytes()
    assert comment_key.encode() not in data
    _code, report = run(str(app))
    assert len([f for f in report["findings"] if f["kind"] == "secret"]) == 2
    _check_code_hit(report, code_key, chunk, app, _inline_map(data))
    _check_content_hit(report, comment_key, chunk, app, "src/main.js", files["src/main.js"])


def _sectioned(flat: str, banner_lines: int) -> str:
    """An index map: a first section for a banner (with its own source), the bundler's map after it."""
    banner = {
        "version": 3,
        "sources": ["banner.txt"],
        "sourcesContent": ["app banner\n"],
        "names": [],
        "mappings": "AAAA",
    }
    return json.dumps(
        {
            "version": 3,
            "sections": [
                {"offset": {"line": 0, "column": 0}, "map": banner},
                {"offset": {"line": banner_lines, "column": 0}, "map": json.loads(flat)},
            ],
        }
    )


@pytest.mark.parametrize("form", ["inline", "external"])
def test_an_index_map_sources_are_scanned_and_traced(tmp_path: Path, form: str) -> None:
    keys = [make_key("openai.project-key", 821 + i) for i in range(3)]
    code_key, comment_key, unused_key = keys
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    files = _app(root, *keys)
    (root / ".gitignore").write_text("dist/\n")
    built = bundlers.esbuild(
        root / "src" / "main.js",
        root / "dist" / "assets",
        {f"process.env.{NAME}": code_key},
        sourcemap="inline",
    )
    code_part = _INLINE.sub(b"", built.read_bytes()).rstrip().rstrip(b"/#").rstrip()
    index = _sectioned(_inline_map(built.read_bytes()), 1)
    body = b"/* app banner */\n" + code_part + b"\n"
    if form == "inline":
        url = "data:application/json;base64," + base64.b64encode(index.encode()).decode()
        built.write_bytes(body + b"//# sourceMappingURL=" + url.encode() + b"\n")
    else:
        built.write_bytes(body + f"//# sourceMappingURL={built.name}.map\n".encode())
        (built.parent / f"{built.name}.map").write_text(index)
    _scrub(root, files, comment_key, unused_key)
    commit_all(root)
    code, report = run(str(root), "--no-history")
    assert code == 1
    map_path = built.relative_to(root).as_posix() + ("" if form == "inline" else ".map")
    f = _finding(report, code_key)
    (loc,) = [loc for loc in f["locations"] if loc["path"].endswith(".js")]
    (want,) = tracemap.original(index, map_path, [(loc["line"], loc["column"])])
    assert loc["original"] == want and loc["line"] == 2
    for key, source in ((comment_key, "src/main.js"), (unused_key, "src/debug.js")):
        f = _finding(report, key)
        assert (f["severity"], f["exposure"]) == ("critical", "client-bundle")
        (loc,) = f["locations"]
        assert loc["path"] == map_path if form == "external" else loc["encoding"] == "source-map"
        assert loc["original"] == {"path": source, **_at(files[source], key)}


def test_a_key_in_the_code_and_the_inline_map_is_one_finding_with_both_locations(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 831)
    root = tmp_path / "app"
    pygit2.init_repository(str(root), initial_head="main")
    files = bundlers.browser_app(NAME)
    files["src/main.js"] = files["src/main.js"].replace(f"process.env.{NAME}", json.dumps(key))
    bundlers.write(root, files)
    (root / ".gitignore").write_text("dist/\n")
    bundle = bundlers.esbuild(root / "src" / "main.js", root / "dist", {}, sourcemap="inline")
    _scrub(root, files, key)
    commit_all(root)
    _code, report = run(str(root), "--no-history")
    f = _finding(report, key)
    assert (f["severity"], f["exposure"], f["locations_total"]) == ("critical", "client-bundle", 2)
    code_loc, map_loc = sorted(f["locations"], key=lambda loc: "encoding" in loc)
    assert map_loc["encoding"] == "source-map" and code_loc["path"] == map_loc["path"]
    assert where(code_loc) == bundlers.position(bundle.read_bytes(), key)
    source = {"path": "src/main.js", **_at(files["src/main.js"], key)}
    assert map_loc["original"] == source
    (want,) = tracemap.original(
        _inline_map(bundle.read_bytes()), "dist/" + bundle.name, [(code_loc["line"], code_loc["column"])]
    )
    assert code_loc["original"]["path"] == want["path"] == "src/main.js"
    assert code_loc["original"] == source  # the literal is copied: the key itself, not its token's start
