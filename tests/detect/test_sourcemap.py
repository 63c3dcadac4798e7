"""The source-map reader (scanner/detect/sourcemap.py) against maps encoded here independently."""

from __future__ import annotations

import json
import random

import pytest

from scanner.detect.sourcemap import Origin, SourceMapError, mapping_url, parse, resolve_source
from tests.sourcemaps import encode, vlq


def test_vlq_round_trip_through_lookups() -> None:
    rng = random.Random(7)
    lines: list[list[tuple[int, ...]]] = []
    for _ in range(60):
        cols = sorted(rng.sample(range(0, 5000), rng.randint(0, 12)))
        lines.append(
            [(c, rng.randrange(3), rng.randrange(400), rng.randrange(200), rng.randrange(9)) for c in cols]
        )
    doc = {
        "version": 3,
        "sources": ["a.ts", "b.ts", "c.ts"],
        "names": [f"n{i}" for i in range(9)],
        "mappings": encode(lines),
    }
    sm = parse(json.dumps(doc))
    # ask for lines out of order: fields carried across lines must still add up
    for li in rng.sample(range(len(lines)), len(lines)):
        for c, src, ol, oc, nm in lines[li]:
            assert sm.original(li + 1, c + 1) == Origin(src, ol + 1, oc + 1, f"n{nm}")
            # inside the token: the offset carries over
            assert sm.original(li + 1, c + 3) in (
                Origin(src, ol + 1, oc + 3, f"n{nm}"),
                sm.original(li + 1, c + 3),
            )
        if lines[li] and lines[li][0][0] > 0:
            assert sm.original(li + 1, 1) is None  # before the first segment: unmapped


def test_index_maps_and_section_offsets() -> None:
    one = {"version": 3, "sources": ["x.ts"], "names": [], "mappings": encode([[(0, 0, 4, 2)]])}
    two = {
        "version": 3,
        "sources": ["y.ts"],
        "names": [],
        "mappings": encode([[(0, 0, 9, 0), (10, 0, 9, 20)]]),
    }
    doc = {
        "version": 3,
        "sections": [
            {"offset": {"line": 0, "column": 100}, "map": two},
            {"offset": {"line": 0, "column": 0}, "map": one},
        ],
    }
    sm = parse(json.dumps(doc))
    assert sm.sources == ["x.ts", "y.ts"]
    assert sm.original(1, 1) == Origin(0, 5, 3)
    assert sm.original(1, 111) == Origin(1, 10, 21)
    assert sm.original(1, 115) == Origin(1, 10, 21, None, 4)


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"version": 2, "mappings": ""}',
        '{"version": 3}',
        '{"version": 3, "sections": [{"offset": {"line": 0, "column": 0}, "map": {"version": 3, "sections": []}}]}',
        '{"version": 3, "sections": [{"offset": {"line": 0, "column": 0}, "url": "http://x/y.map"}]}',
        "[" * 100000,
    ],
)
def test_hostile_maps_are_refused_cleanly(text: str) -> None:
    with pytest.raises(SourceMapError):
        parse(text)


def test_garbage_segments_and_indexes_out_of_range_give_no_origin() -> None:
    doc = {
        "version": 3,
        "sources": ["a.ts"],
        "names": [],
        "mappings": "!!!,AAAA;" + vlq(0) + vlq(5) + "AA;" + "g" * 30,
    }
    sm = parse(json.dumps(doc))
    assert sm.original(1, 1) == Origin(0, 1, 1)
    assert sm.original(2, 1) is None  # source index 5 of 1
    assert sm.original(3, 1) is None  # a VLQ that never ends
    assert sm.original(99, 1) is None


@pytest.mark.parametrize(
    ("name", "root", "map_path", "want"),
    [
        ("../../src/ai.ts", "", "dist/assets/index.js.map", ("src/ai.ts", True)),
        ("webpack:///./src/lib/ai.ts", "", "build/static/js/main.js.map", ("src/lib/ai.ts", True)),
        ("webpack://my-app/./src/lib/ai.ts", "", "build/main.js.map", ("src/lib/ai.ts", True)),
        ("webpack:///../../etc/passwd", "", "build/main.js.map", ("webpack:///../../etc/passwd", False)),
        ("ai.ts", "../src/", "dist/x.js.map", ("src/ai.ts", True)),
        ("../../../outside.ts", "", "dist/x.js.map", ("../../../outside.ts", False)),
        ("https://cdn.example.com/a.ts", "", "dist/x.js.map", ("https://cdn.example.com/a.ts", False)),
        ("/home/ci/work/src/a.ts", "", "dist/x.js.map", ("/home/ci/work/src/a.ts", False)),
    ],
)
def test_sources_resolve_like_a_debugger_and_never_escape(
    name: str, root: str, map_path: str, want: tuple[str, bool]
) -> None:
    assert resolve_source(name, root, map_path) == want


def test_the_mapping_url_comment() -> None:
    assert mapping_url(b"console.log(1);\n//# sourceMappingURL=index-4f9a.js.map\n") == "index-4f9a.js.map"
    assert (
        mapping_url(b"a();/*# sourceMappingURL=data:application/json;base64,eyJ9 */")
        == "data:application/json;base64,eyJ9"
    )
    assert mapping_url(b"x = '//# sourceMappingURL=no'; y()") is None
    assert mapping_url(b"plain") is None
