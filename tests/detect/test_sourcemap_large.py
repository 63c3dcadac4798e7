"""Issue 19.8: a map of millions of mappings is decoded only as far as a hit needs, in bounded
memory (never a list of every segment), and a map too long to decode says what was not mapped."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest

from scanner.detect import sourcemap
from tests.bundle_apps import run
from tests.keys import make_key

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
SEGMENTS = 1_000_000


def _one_line_map(segments: int) -> str:
    """A one-line map: segment i maps generated column 2i+2 to line (i % 7), column 3*(i % 11)."""
    out = []
    pl = pc = 0
    for i in range(segments):
        line, col = i % 7, 3 * (i % 11)
        out.append(_vlq(2) + "A" + _vlq(line - pl) + _vlq(col - pc))
        pl, pc = line, col
    return json.dumps({"version": 3, "sources": ["src/a.js"], "names": [], "mappings": ",".join(out)})


def _vlq(n: int) -> str:
    v = (-n << 1) | 1 if n < 0 else n << 1
    s = ""
    while True:
        d, v = v & 31, v >> 5
        if not v:
            return s + B64[d]
        s += B64[d | 32]


def test_a_hit_at_the_end_of_a_million_segment_line_in_bounded_memory() -> None:
    text = _one_line_map(SEGMENTS)
    sm = sourcemap.parse(text)
    tracemalloc.start()
    try:
        last = SEGMENTS - 1
        got = sm.original(1, 2 * last + 2 + 1)  # 1-based column of the last segment
        mid = sm.original(1, 2 * (SEGMENTS // 2) + 2 + 1 + 1)  # one column into a token
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert got is not None and (got.line, got.column) == (last % 7 + 1, 3 * (last % 11) + 1)
    i = SEGMENTS // 2
    assert mid is not None and (mid.line, mid.column, mid.shift) == (i % 7 + 1, 3 * (i % 11) + 1, 1)
    # every segment kept would be hundreds of MB; the walk keeps checkpoints only
    assert peak < 16 << 20, f"peak {peak >> 20} MiB"


def test_a_map_too_long_to_decode_says_what_was_not_mapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key("openai.project-key", 701)
    root = tmp_path / "site"
    (root / "assets").mkdir(parents=True)
    width = 2 * 5000 + 10
    (root / "assets" / "app.js").write_text(f"{'a' * width}x='{key}';\n//# sourceMappingURL=app.js.map\n")
    (root / "assets" / "app.js.map").write_text(_one_line_map(6000))
    monkeypatch.setattr(sourcemap, "MAX_SEGMENTS", 1000)
    code, report = run(str(root), "--bundles", str(root / "assets"))
    assert code == 1
    (f,) = [f for f in report["findings"] if f["kind"] == "secret"]
    assert all("original" not in loc for loc in f["locations"])
    assert report["stats"]["skipped"]["source-map-unmapped"]["count"] == 1, report["stats"]
    monkeypatch.setattr(sourcemap, "MAX_SEGMENTS", 60_000_000)
    code, report = run(str(root), "--bundles", str(root / "assets"))
    (f,) = [f for f in report["findings"] if f["kind"] == "secret"]
    assert [loc["original"]["path"] for loc in f["locations"]] == ["assets/src/a.js"]
    assert "source-map-unmapped" not in report["stats"]["skipped"]


def _reference(mappings: str, line: int, col: int) -> tuple[int, int, int, int] | None:
    """The naive decoder: every segment of every line, kept (0-based line and column asked)."""
    state = [0, 0, 0, 0]
    found = None
    for n, text in enumerate(mappings.split(";")):
        gcol = 0
        for seg in text.split(","):
            if not seg:
                continue
            vals = sourcemap._vlq(seg)
            assert vals is not None
            gcol += vals[0]
            if len(vals) > 1:
                for i in range(1, len(vals)):
                    state[i - 1] += vals[i]
            if n == line and gcol <= col:
                found = None if len(vals) == 1 else (state[0], state[1], state[2], col - gcol)
        if n == line:
            return found
    return None


@pytest.mark.parametrize("seed", range(8))
def test_the_chunked_walk_agrees_with_a_naive_decoder(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    import random

    rng = random.Random(seed)
    monkeypatch.setattr(sourcemap, "_CHUNK", rng.choice([8, 64, 1 << 16]))
    lines = []
    for _ in range(rng.randint(1, 12)):
        segs = []
        for _ in range(rng.randint(0, 300)):
            fields = rng.choice([1, 4, 4, 5])
            vals = [rng.randint(1, 40)] + [rng.randint(-30, 30) for _ in range(fields - 1)]
            if fields > 1:
                vals[1] = rng.choice([0, 0, 1, -1])
            segs.append("".join(_vlq(v) for v in vals))
        lines.append(",".join(segs))
    mappings = ";".join(lines)
    doc = {
        "version": 3,
        "sources": [f"s{i}.js" for i in range(50)],
        "names": ["n"] * 50,
        "mappings": mappings,
    }
    sm = sourcemap.parse(json.dumps(doc))
    queries = [(rng.randrange(len(lines) + 1), rng.randrange(12_000)) for _ in range(200)]
    for line, col in sorted(queries, key=lambda q: rng.random()):
        want = _reference(mappings, line, col)
        got = sm.original(line + 1, col + 1)
        have = None if got is None else (got.source, got.line - 1, got.column - 1, got.shift)
        if want is not None and not (0 <= want[0] < 50 and want[1] >= 0 and want[2] >= 0):
            want = None  # out of range: no origin
        assert have == want, (line, col)


def test_many_hits_on_one_map_do_not_use_up_its_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hit resumes at a checkpoint and re-reads part of a chunk: that is not new decoding."""
    monkeypatch.setattr(sourcemap, "_CHUNK", 64)
    monkeypatch.setattr(sourcemap, "MAX_SEGMENTS", 7000)
    sm = sourcemap.parse(_one_line_map(6000))
    for i in range(0, 6000, 7):
        got = sm.original(1, 2 * i + 2 + 1)
        assert got is not None and (got.line, got.column) == (i % 7 + 1, 3 * (i % 11) + 1), i
    assert not sm.exhausted
