"""Hostile source maps (issue 19): damaged, absurd or deeply nested maps — external, beside the
bundle, inline, sectioned — cost at most their own origins. The map code never raises anything
but SourceMapError, and every mode of the command ends with exit 0 or 1 (never 3, a traceback or
an internal error) in bounded time, with the bundle's key still reported."""

from __future__ import annotations

import base64
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.detect import sourcemap
from scanner.detect.sourcemap import SourceMapError
from scanner.model import Position
from scanner.sources.maps import find_map, origin_of
from tests.keys import make_key
from tests.paths import ROOT
from tests.repo_builder import RepoBuilder

ROUNDS = int(os.environ.get("KEYSWEEP_FUZZ_ROUNDS", "6"))
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _good_map(rng: random.Random, key: str | None = None) -> dict[str, object]:
    segment = lambda: "".join(rng.choice(B64[:32]) for _ in range(4))  # noqa: E731
    lines = [",".join(segment() for _ in range(rng.randint(0, 8))) for _ in range(rng.randint(1, 6))]
    contents = [f"export const k = '{key}';\n" if key else "x()\n", None]
    return {
        "version": 3,
        "sources": ["webpack:///./src/a.js", "../b.js"],
        "sourcesContent": contents,
        "names": ["k"],
        "mappings": ";".join(lines),
    }


def _hostile(rng: random.Random, key: str) -> bytes:
    """One hostile map text, from a menu of what a tool (or an attacker) can write."""
    doc = _good_map(rng, key)
    how = rng.choice(
        [
            "deep",
            "deep-section",
            "vlq-overflow",
            "vlq-garbage",
            "wild-indexes",
            "types",
            "sections",
            "truncate",
            "flip",
            "huge-line-count",
        ]
    )
    if how == "deep":
        depth = rng.choice([1000, 100_000])
        return json.dumps(doc)[:-1].encode() + b', "x": ' + b"[" * depth + b"]" * depth + b"}"
    if how == "deep-section":
        inner: object = doc
        for _ in range(rng.randint(2, 50)):
            inner = {"version": 3, "sections": [{"offset": {"line": 0, "column": 0}, "map": inner}]}
        return json.dumps(inner).encode()
    if how == "vlq-overflow":
        doc["mappings"] = "A" + "g" * rng.randint(10, 5000) + "A,AAAA;" * 3
    elif how == "vlq-garbage":
        doc["mappings"] = "".join(rng.choice(B64 + ",;!@#\x00é") for _ in range(rng.randint(1, 3000)))
    elif how == "wild-indexes":
        doc["mappings"] = ",".join(
            "".join(_vlq(rng.randint(-(10**9), 10**9)) for _ in range(rng.choice([1, 4, 5])))
            for _ in range(200)
        )
    elif how == "types":
        field = rng.choice(["sources", "sourcesContent", "names", "mappings", "sourceRoot", "version"])
        doc[field] = rng.choice([None, 7, {"a": 1}, [1, [2]], "x", True, -1.5])
    elif how == "sections":
        doc = {
            "version": 3,
            "sections": [
                {
                    "offset": {"line": rng.randint(-2, 5), "column": rng.choice([0, -1, "x", 10**20])},
                    "map": doc,
                },
                {"offset": {"line": 0, "column": 0}, "url": "https://example.invalid/x.map"},
            ][: rng.randint(1, 2)],
        }
    text = json.dumps(doc).encode()
    if how == "truncate":
        return text[: rng.randrange(len(text))]
    if how == "flip":
        b = bytearray(text)
        for _ in range(rng.randint(1, 20)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b)
    if how == "huge-line-count":
        return text.replace(b'"mappings": "', b'"mappings": "' + b";" * 200_000)
    return text


def _vlq(n: int) -> str:
    v = (-n << 1) | 1 if n < 0 else n << 1
    s = ""
    while True:
        d, v = v & 31, v >> 5
        if not v:
            return s + B64[d]
        s += B64[d | 32]


@pytest.mark.parametrize("seed", range(ROUNDS * 20))
def test_the_map_code_never_raises_on_a_hostile_map(seed: int) -> None:
    rng = random.Random(f"map:{seed}")
    key = make_key("openai.project-key", 900 + seed % 7)
    text = _hostile(rng, key)
    try:
        sm = sourcemap.parse(text)
    except SourceMapError:
        sm = None
    if sm is not None:
        for _ in range(20):
            sm.original(rng.randint(-1, 8), rng.randint(-1, 400))
    inline = b"x()\n//# sourceMappingURL=data:application/json;base64," + base64.b64encode(text) + b"\n"
    sourcemap.inline_contents(inline)
    for js, files in ((inline, {}), (b"x()\n//# sourceMappingURL=a.js.map\n", {"dist/a.js.map": text})):
        found = find_map("dist/a.js", js, files.get)
        assert found is not None
        origin_of(found, "dist/a.js", Position(1, rng.randint(1, 50), 1, 60, 0), js)


@pytest.mark.parametrize("seed", range(ROUNDS))
def test_a_hostile_map_in_history_costs_no_more_than_its_origins(tmp_path: Path, seed: int) -> None:
    rng = random.Random(f"repo:{seed}")
    code_key, map_key = make_key("openai.project-key", 950 + seed), make_key("openai.project-key", 970 + seed)
    maps = [_hostile(rng, map_key) for _ in range(3)]
    inline = base64.b64encode(maps[2]).decode()
    b = RepoBuilder(tmp_path / "r")
    b.commit({"README": b"hi\n"})
    b.commit(
        {
            "dist/a.js": f"k='{code_key}';\n//# sourceMappingURL=a.js.map\n".encode(),
            "dist/a.js.map": maps[0],
            "dist/b.js": f"k='{code_key}';\n".encode(),
            "dist/b.js.map": maps[1],
            "dist/c.js": f"k='{code_key}';\n//# sourceMappingURL=data:application/json;base64,{inline}\n".encode(),
        }
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KEYSWEEP_STALL_SECONDS": "30"}
    for mode in ([], ["--no-history"], ["--range", "HEAD~1..HEAD"]):
        got = subprocess.run(
            [sys.executable, "-m", "scanner", "scan", str(b.path), *mode, "--jobs", "1", "--json", "-"],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        where = f"seed {seed}, mode {mode}"
        assert got.returncode == 1, f"{where}: exit {got.returncode}\n{got.stderr}"
        assert "Traceback" not in got.stderr and "internal error" not in got.stderr, f"{where}\n{got.stderr}"
        report = json.loads(got.stdout)
        assert report["status"] == "ok", where
        paths = {loc["path"] for f in report["findings"] for loc in f["locations"]}
        assert {"dist/a.js", "dist/b.js", "dist/c.js"} <= paths, where
