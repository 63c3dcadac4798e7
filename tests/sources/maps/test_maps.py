"""A bundle's source map found as a browser finds it, its origins, and keys only its sourcesContent ships."""

from __future__ import annotations

import base64
import json

from scanner.model import Position
from scanner.sources.maps import content_origin, find_map, origin_of
from tests.keys import make_key
from tests.sourcemaps import encode


def _map(sources: list[str], contents: list[str | None] | None = None, root: str = "") -> bytes:
    doc: dict[str, object] = {
        "version": 3,
        "sources": sources,
        "names": [],
        "mappings": encode([[(0, 0, 0, 0), (40, 0, 6, 12)]]),
    }
    if contents is not None:
        doc["sourcesContent"] = contents
    if root:
        doc["sourceRoot"] = root
    return json.dumps(doc).encode()


def test_a_map_named_by_the_comment_resolves_against_the_bundle() -> None:
    files = {"dist/assets/maps/index.js.map": _map(["../../../src/ai.ts"])}
    js = b"x();\n//# sourceMappingURL=maps/index.js.map\n"
    found = find_map("dist/assets/index.js", js, files.get)
    assert found is not None and found.how == "comment" and found.path == "dist/assets/maps/index.js.map"
    got = origin_of(found, "dist/assets/index.js", Position(1, 45, 1, 60, 44))
    assert got is not None and (got.path, got.line, got.column) == (
        "src/ai.ts",
        7,
        13,
    )  # no sourcesContent: the token start


def test_a_hidden_map_beside_the_bundle_and_an_inline_map() -> None:
    found = find_map("build/main.js", b"x()", {"build/main.js.map": _map(["webpack:///./src/a.ts"])}.get)
    assert found is not None and found.how == "beside"
    got = origin_of(found, "build/main.js", Position(1, 1, 1, 2, 0))
    assert got is not None and got.path == "src/a.ts"
    inline = b"x()\n//# sourceMappingURL=data:application/json;base64," + base64.b64encode(
        _map(["../src/b.ts"])
    )
    found = find_map("dist/app.js", inline, {}.get)
    assert found is not None and found.how == "inline" and found.path is None
    got = origin_of(found, "dist/app.js", Position(1, 41, 1, 50, 40))
    assert got is not None and (got.path, got.line, got.column) == ("src/b.ts", 7, 13)


def test_nothing_is_fetched_or_read_outside_the_repository() -> None:
    asked: list[str] = []

    def read(path: str) -> bytes | None:
        asked.append(path)
        return None

    remote = find_map("dist/a.js", b"x()\n//# sourceMappingURL=https://cdn.example.com/a.js.map", read)
    assert remote is not None and remote.map is None and "not fetched" in (remote.problem or "")
    out = find_map("dist/a.js", b"x()\n//# sourceMappingURL=../../../../etc/passwd", read)
    assert out is not None and out.map is None
    assert asked == []  # neither was read
    assert find_map("dist/a.js", b"x()", read) is None and asked == ["dist/a.js.map"]
    damaged = find_map("dist/a.js", b"x()", {"dist/a.js.map": b"{not json"}.get)
    assert (
        damaged is not None and damaged.map is None and "not a readable source map" in (damaged.problem or "")
    )


def test_a_key_only_in_sources_content_is_found_inside_its_source() -> None:
    key = make_key("openai.project-key", 31)
    source = f'// config\nexport const client = new OpenAI({{\n  apiKey: "{key}",\n}});\n'
    files = {"dist/index.js.map": _map(["../src/ai.ts", "../src/util.ts"], [source, "export const x = 1;\n"])}
    found = find_map("dist/index.js", b"tree-shaken()", files.get)
    assert found is not None and found.map is not None
    got = content_origin(found.map, key, "dist/index.js.map")
    assert got is not None and (got.path, got.line, got.column) == ("src/ai.ts", 3, 12)
