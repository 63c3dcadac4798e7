"""Issue 21 item 3 on recorded Parcel 2 and Bun production builds (tests/record_maps.py made
tests/data/bundler-maps from real builds; the two weigh too much to install for the suite).

Bun names sources relative to the map (`../src/key.js`), as the spec says; Parcel names them from
its project root (`src/key.js`, the folder of the lockfile) with no `sourceRoot`, so a spec reader
such as trace-mapping resolves them against the map's folder (`dist/src/key.js`, no such file):
the origin keysweep gives is the line and column trace-mapping gives, in the file that exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pygit2
import pytest

from tests import bundlers
from tests.bundle_apps import commit_all, expected_origin, run, where
from tests.keys import make_key
from tests.record_maps import FIXTURE, placeholder

pytestmark = pytest.mark.skipif(not bundlers.TRACE_MAPPING.exists(), reason="npm ci has not run")

BUNDLES = {"parcel": "dist", "bun": "out"}


def _plant(top: Path, key: str) -> Path:
    app = top / "app"
    shutil.copytree(FIXTURE / "app", app)
    for path in app.rglob("*"):
        if path.is_file():
            path.write_bytes(path.read_bytes().replace(placeholder().encode(), key.encode()))
    return app


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    key = make_key("anthropic.api-key", 2171)
    top = tmp_path_factory.mktemp("maps") / "plain"
    _plant(top, key)
    git = top.parent / "git"
    app = _plant(git, key)
    pygit2.init_repository(str(app), initial_head="main")
    (app / ".gitignore").write_text("dist/\nout/\n")
    commit_all(app)
    return top, git, key


@pytest.mark.parametrize("bundler", sorted(BUNDLES))
@pytest.mark.parametrize("root", ["project", "build-folder", "above"])
@pytest.mark.parametrize("git", [False, True], ids=["no-git", "git"])
def test_recorded_bundler_maps_give_the_source_line(
    planted: tuple[Path, Path, str], git: bool, root: str, bundler: str
) -> None:
    top = planted[1] if git else planted[0]
    key = planted[2]
    app = top / "app"
    out = BUNDLES[bundler]
    target = {"project": app, "build-folder": app / out, "above": top}[root]
    base = app if git and root != "above" else target
    (bundle,) = (app / out).glob("*.js")
    _code, report = run(str(target))
    found = [
        f for f in report["findings"] if f.get("secret_sha256") == hashlib.sha256(key.encode()).hexdigest()
    ]
    assert len(found) == 1
    (f,) = found
    assert (f["exposure"], f["severity"]) == ("client-bundle", "critical")
    rel = os.path.relpath(bundle, base)
    (loc,) = [loc for loc in f["locations"] if loc["path"] == rel]
    assert loc["client_bundle"] == "build-output"
    assert where(loc) == bundlers.position(bundle.read_bytes(), key)
    want = expected_origin(app, bundle, key, base)
    if bundler == "parcel":  # named from the project root, not the map's folder
        assert want["path"] == os.path.relpath(app / out / "src" / "key.js", base)
        want["path"] = os.path.relpath(app / "src" / "key.js", base)
    assert loc["original"] == want
    source = (app / "src" / "key.js").read_text().splitlines()[want["line"] - 1]
    assert key in source[want["column"] - 1 :]
