"""The reference answer for a source map lookup: `@jridgewell/trace-mapping` (what Vite, Vitest
and the browser-devtools ecosystem use), run through node."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AVAILABLE = (ROOT / "node_modules" / "@jridgewell" / "trace-mapping").is_dir() and shutil.which(
    "node"
) is not None
_SCRIPT = """
const { FlattenMap, originalPositionFor } = require("@jridgewell/trace-mapping");
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const q = JSON.parse(input);
  const map = new FlattenMap(q.map, q.url); // a TraceMap; index (sectioned) maps flattened
  process.stdout.write(JSON.stringify(q.at.map(([line, column]) => originalPositionFor(map, { line, column }))));
});
"""
BASE = "file:///repo/"


def original(map_text: str, map_path: str, at: list[tuple[int, int]]) -> list[dict[str, object]]:
    """trace-mapping's original position of each generated (1-based line, 1-based UTF-16 column),
    as keysweep reports one: {path, line, column} with a repository-relative path and 1-based
    column (None when it maps nowhere). `map_path` is the map's repository-relative path (the
    bundle's for an inline map)."""
    query = {"map": map_text, "url": BASE + map_path, "at": [[line, column - 1] for line, column in at]}
    out = subprocess.run(
        ["node", "-e", _SCRIPT],
        input=json.dumps(query),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    ).stdout
    got: list[dict[str, object]] = []
    for r in json.loads(out):
        source = r.get("source")
        if source is None:
            got.append({})
            continue
        path = str(source).removeprefix(BASE)
        got.append({"path": path, "line": r["line"], "column": int(r["column"]) + 1})
    return got
