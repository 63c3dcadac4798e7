"""Records real Parcel 2 and Bun production builds as test fixtures (tests/data/bundler-maps/).

Both run on this machine but weigh ~200 MB of node_modules, more than the suite should install:
`python tests/record_maps.py WORKDIR` writes a small app into WORKDIR (whose `node_modules` must
hold `parcel` and `bun`, e.g. `npm install parcel bun` there), builds it with each bundler
(minified, with linked source maps) and copies the sources, the bundles and their maps into the
fixture. Parcel names its sources from its project root (the folder of the lockfile) with no
`sourceRoot`; Bun names them relative to the map. The planted key is a placeholder as long as
the fake key a test puts in its place (tests/sources/bundles/test_recorded_maps.py), so every column stays true.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "data" / "bundler-maps"
KEY_LENGTH = 108  # anthropic.api-key


def placeholder() -> str:
    head = "KEYSWEEP_PLANT_code_"
    return head + "x" * (KEY_LENGTH - len(head))


def app_files() -> dict[str, str]:
    return {
        "package.json": json.dumps({"name": "maps-demo", "private": True}) + "\n",
        "yarn.lock": "",  # Parcel's project root: the folder of a lockfile
        "index.html": (
            '<!doctype html><html><body><script type="module" src="./src/main.js"></script></body></html>\n'
        ),
        "src/key.js": f'export const anthropicKey = "{placeholder()}";\n',
        "src/main.js": (
            'import { anthropicKey } from "./key.js";\n'
            'const greeting = "hello";\n'
            "document.title = greeting;\n"
            "window.send = (m) => fetch('/x', { headers: { 'x-api-key': anthropicKey }, body: m });\n"
        ),
    }


def record(work: Path) -> None:
    app = work / "app"
    shutil.rmtree(app, ignore_errors=True)
    for rel, text in app_files().items():
        p = app / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    bin_dir = work / "node_modules" / ".bin"
    subprocess.run(
        [str(bin_dir / "parcel"), "build", "index.html", "--dist-dir", "dist", "--no-cache"],
        cwd=app,
        check=True,
    )
    subprocess.run(
        [str(bin_dir / "bun"), "build", "src/main.js", "--outdir", "out", "--minify", "--sourcemap=linked"],
        cwd=app,
        check=True,
    )
    shutil.rmtree(FIXTURE, ignore_errors=True)
    built = sorted(p.relative_to(app).as_posix() for p in (*app.glob("dist/*.js*"), *app.glob("out/*")))
    kept = [*app_files(), *built]
    for rel in kept:
        dst = FIXTURE / "app" / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(app / rel, dst)
    versions = {
        "parcel": json.loads((work / "node_modules" / "parcel" / "package.json").read_text())["version"],
        "bun": json.loads((work / "node_modules" / "bun" / "package.json").read_text())["version"],
    }
    (FIXTURE / "RECORDED.json").write_text(json.dumps({**versions, "files": kept}, indent=2) + "\n")


if __name__ == "__main__":
    record(Path(sys.argv[1]).resolve())
