"""Keys shipped to browsers in real bundles (issue 10): esbuild and Vite build a small app at test
time with a fake key handed in through the framework's public env mechanism, minified for
production; keysweep must report the bundle as client output — `client-bundle`, `critical`, at
the exact generated line and UTF-16 column — and one finding for the key in `.env.production`
and the bundle, bundle first. A server build with the same key is not client output.
"""

from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stderr
from pathlib import Path

import pygit2
import pytest

from scanner.cli import main
from tests import bundlers
from tests.bundle_apps import NAME, commit_all, next_like_repo, only_secret, run, where
from tests.keys import make_key

pytestmark = pytest.mark.skipif(
    not bundlers.ESBUILD.exists() or not bundlers.VITE.exists(),
    reason="npm ci has not installed the bundlers",
)


# --- esbuild (Next.js-style public env through --define) ------------------------------------------


@pytest.mark.parametrize("mode", [(), ("--no-history",)], ids=["sweep", "tree"])
def test_esbuild_bundle_and_env_file_are_one_critical_finding(tmp_path: Path, mode: tuple[str, ...]) -> None:
    key = make_key("openai.project-key", 101)
    root = next_like_repo(tmp_path / "app", key)
    (bundle,) = (root / "dist" / "assets").glob("main-*.js")
    code, report = run(str(root), *mode)
    assert code == 1
    f = only_secret(report)
    assert (f["severity"], f["exposure"], f["rule_id"]) == ("critical", "client-bundle", "openai.project-key")
    first, env = f["locations"]
    rel = bundle.relative_to(root).as_posix()
    assert (first["source"], first["path"], first["client_bundle"]) == ("bundle", rel, "build-output")
    assert where(first) == bundlers.position(bundle.read_bytes(), key)
    assert first["line"] == 2 and first["column"] > len(bundlers.GREETING)  # after the banner line
    assert first["context"] == "apiKey: …"
    assert (env["source"], env["path"], env["line"], env["column"]) == (
        "history",
        ".env.production",
        1,
        len(NAME) + 2,
    )
    assert "client_bundle" not in env and env["context"] == f"{NAME} = …"
    assert f["locations_total"] == 2


def test_utf16_columns_are_exact_on_a_multi_megabyte_line(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 102)
    pygit2.init_repository(str(tmp_path / "big"), initial_head="main")
    root = tmp_path / "big"
    files = bundlers.browser_app(NAME)
    # ~2 MB of string data the minifier keeps on the bundle's one line, before the key's use
    files["src/data.js"] = (
        "export const data = [\n"
        + "".join(f'  "{bundlers.GREETING} {i:06d} {"x" * 40}",\n' for i in range(30_000))
        + "];\n"
    )
    files["src/main.js"] = (
        'import { data } from "./data.js";\nconsole.log(data.length);\n' + files["src/main.js"]
    )
    bundlers.write(root, files)
    (root / ".gitignore").write_text("dist/\n")
    commit_all(root)
    bundle = bundlers.esbuild(root / "src" / "main.js", root / "dist", {f"process.env.{NAME}": key})
    data = bundle.read_bytes()
    assert len(data) > 2_000_000 and data.count(b"\n") <= 2
    _, report = run(str(root), "--no-history")
    (loc,) = only_secret(report)["locations"]
    assert where(loc) == bundlers.position(data, key)
    assert loc["column"] > 1_000_000


def test_node_bundle_with_the_same_key_is_not_client_output(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 103)
    root = tmp_path / "srv"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.server_app("OPENAI_API_KEY"))
    (root / ".gitignore").write_text("dist/\n")
    commit_all(root)
    # esbuild --platform=node into dist/ (a client folder by name): the content says Node
    node = bundlers.esbuild(
        root / "server" / "main.js", root / "dist", {"process.env.OPENAI_API_KEY": key}, platform="node"
    )
    assert b'from"fs"' in node.read_bytes()
    _, report = run(str(root))
    f = only_secret(report)
    assert (f["exposure"], f["severity"]) == ("local-only", "low")
    assert [loc["source"] for loc in f["locations"]] == ["worktree"]
    assert "client_bundle" not in f["locations"][0]


def test_server_output_folders_are_not_client_output(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 104)
    root = tmp_path / "ssr"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    commit_all(root)
    for out in (".next/server/chunks", "dist/server", "dist/app/server", ".output/server/chunks"):
        bundlers.esbuild(root / "src" / "main.js", root / out, {f"process.env.{NAME}": key})
    commit_all(root, "commit the server builds")
    _, report = run(str(root), "--no-history")
    f = only_secret(report)
    assert (f["exposure"], f["severity"]) == ("repository", "high")
    assert f["locations_total"] == 4
    assert not any("client_bundle" in loc for loc in f["locations"])


# --- Vite (VITE_* from .env.production) -------------------------------------------------------------


def test_vite_production_build(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 105)
    root = tmp_path / "vite"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.vite_app())
    (root / ".gitignore").write_text("dist/\nnode_modules/\n")
    (chunk,) = bundlers.vite_build(root, {"VITE_OPENAI_API_KEY": key})
    commit_all(root)  # .env.production is committed, dist/ is ignored
    data = chunk.read_bytes()
    assert b"`" + key.encode() + b"`" in data  # Vite 8 (Oxc) writes string literals as templates
    code, report = run(str(root))
    assert code == 1
    f = only_secret(report)
    assert (f["severity"], f["exposure"]) == ("critical", "client-bundle")
    bundle_loc, env = f["locations"]
    assert bundle_loc["path"] == chunk.relative_to(root).as_posix()
    assert bundle_loc["source"] == "bundle"
    assert where(bundle_loc) == bundlers.position(data, key)
    assert bundle_loc["context"] == "apiKey: …"
    assert (env["path"], env["source"]) == (".env.production", "history")
    # the code that ships it: the SDK opt-in, in the source (committed) and minified in the
    # bundle, one finding for the option (§4: one per exposed name) at its most public place
    (shipped,) = [
        f
        for f in report["findings"]
        if f["kind"] == "exposure" and f["rule_id"] == "browser.sdk-browser-opt-in"
    ]
    assert (shipped["severity"], shipped["exposure"]) == ("critical", "client-bundle")
    in_bundle, in_source = shipped["locations"]
    assert (in_bundle["path"], in_bundle["context"]) == (bundle_loc["path"], "dangerouslyAllowBrowser:!0")
    assert (in_source["path"], in_source["source"]) == ("src/main.js", "history")


def test_vite_build_as_a_plain_directory_and_bundles_flag(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 106)
    app = tmp_path / "site"
    app.mkdir()
    bundlers.write(app, bundlers.vite_app())
    (chunk,) = bundlers.vite_build(app, {"VITE_OPENAI_API_KEY": key})
    (app / ".env.production").unlink()
    # a directory scan of the build output folder itself: client output by content and name
    _, report = run(str(app / "dist"))
    f = only_secret(report)
    assert (f["exposure"], f["severity"]) == ("client-bundle", "critical")
    assert f["locations"][0]["source"] == "directory"
    # --bundles of a folder outside the scanned repository (the CI runner's build dir)
    repo = tmp_path / "repo"
    pygit2.init_repository(str(repo), initial_head="main")
    (repo / "README.md").write_text("nothing here\n")
    commit_all(repo)
    _, report = run(str(repo), "--bundles", str(app / "dist"))
    (loc,) = only_secret(report)["locations"]
    assert loc["source"] == "bundle" and loc["path"].endswith(chunk.relative_to(app / "dist").as_posix())
    assert where(loc) == bundlers.position(chunk.read_bytes(), key)


# --- tracked bundles, history, ranges --------------------------------------------------------------


def test_key_committed_in_dist_of_an_old_commit(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 107)
    root = tmp_path / "hist"
    repo = pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    commit_all(root, "the app")
    bundle = bundlers.esbuild(
        root / "src" / "main.js", root / "dist" / "assets", {f"process.env.{NAME}": key}
    )
    introduced = commit_all(root, "publish the build")
    shutil.rmtree(root / "dist")
    repo.index.remove_all(["dist/*"])
    repo.index.write()
    commit_all(root, "stop committing the build")
    code, report = run(str(root))
    assert code == 1
    f = only_secret(report)
    assert (f["exposure"], f["severity"]) == ("client-bundle", "critical")
    assert f["first_seen"]["commit"] == str(introduced)
    assert f["present_at_head"] is False
    (loc,) = f["locations"]
    assert (loc["source"], loc["commit"], loc["client_bundle"]) == ("history", str(introduced), "tracked")
    assert loc["path"] == bundle.relative_to(root).as_posix()


def test_range_reads_bundles_dirs(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 108)
    root = tmp_path / "pr"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    (root / ".gitignore").write_text("build/\n")
    base = commit_all(root, "base")
    (root / "README.md").write_text("a change\n")
    head = commit_all(root, "head")
    bundlers.esbuild(root / "src" / "main.js", root / "build" / "static" / "js", {f"process.env.{NAME}": key})
    code, report = run(str(root), "--range", f"{base}..{head}")
    assert code == 0 and report["findings"] == []  # the working tree is not read by a range scan
    code, report = run(str(root), "--range", f"{base}..{head}", "--bundles", str(root / "build"))
    assert code == 1
    f = only_secret(report)
    assert (f["exposure"], f["severity"], f["scope"]) == ("client-bundle", "critical", "range")
    assert f["locations"][0]["path"].startswith("build/static/js/main-")


def test_content_says_bundle_outside_client_folders(tmp_path: Path) -> None:
    """A script a bundler wrote (here: a sourceMappingURL comment) is client output wherever it
    is committed; a hand-written module with the same key is not."""
    key = make_key("openai.project-key", 109)
    root = tmp_path / "content"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    bundlers.esbuild(
        root / "src" / "main.js",
        root / "assets",
        {f"process.env.{NAME}": key},
        entry_names="app",
        sourcemap=True,
    )
    (root / "lib").mkdir()
    (root / "lib" / "config.js").write_text(f'export const apiKey = "{key}";\n')
    commit_all(root)
    _, report = run(str(root), "--no-history")
    f = only_secret(report)
    assert f["exposure"] == "client-bundle"
    by_path = {loc["path"]: loc for loc in f["locations"]}
    assert by_path["assets/app.js"]["client_bundle"] == "tracked"
    assert "client_bundle" not in by_path["lib/config.js"]
    assert f["locations"][0]["path"] == "assets/app.js"  # bundle first


def test_working_tree_bundles_tracked_and_untracked(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 110)
    root = tmp_path / "wt"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(root, bundlers.browser_app(NAME))
    (root / "public").mkdir()
    (root / "public" / "config.json").write_text("{}\n")
    (root / ".gitignore").write_text("dist/\n")
    commit_all(root)
    (root / "public" / "config.json").write_text(json.dumps({"apiKey": key}) + "\n")  # tracked, modified
    bundlers.esbuild(root / "src" / "main.js", root / "out", {f"process.env.{NAME}": key})  # untracked
    (root / "dist").mkdir()
    (root / "dist" / "site.zip").write_bytes(b"PK\x03\x04")
    _, report = run(str(root), "--no-history")
    f = only_secret(report)
    kinds = sorted((loc["source"], loc["client_bundle"]) for loc in f["locations"])
    assert kinds == [("bundle", "build-output"), ("worktree", "tracked")]
    assert report["stats"]["skipped"]["archive"]["count"] == 1


def test_bundles_flag_is_refused_where_it_cannot_be_read(tmp_path: Path) -> None:
    root = tmp_path / "r"
    pygit2.init_repository(str(root), initial_head="main")
    (root / "a.txt").write_text("a\n")
    commit_all(root)
    err = io.StringIO()
    with redirect_stderr(err):
        assert main(["scan", str(root), "--staged", "--bundles", str(root)]) == 2
        assert main(["scan", str(root), "--bundles", str(root / "nope")]) == 2
    assert "--bundles" in err.getvalue()
