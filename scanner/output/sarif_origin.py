"""The source-map origin of a client-bundle finding in SARIF: code scanning cannot show a bundle
that no commit holds, so its origin — a source file of the repository — leads (scanner/output/
sarif.py). Pure: a finding's locations in, SARIF location objects out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from scanner.model import Finding, Location, SourceKind

SRCROOT = "%SRCROOT%"


def _in_repository(path: str) -> bool:
    return bool(path) and "://" not in path and not path.startswith(("/", "../")) and path != ".."


def origin_shown(finding: Finding) -> bool:
    """Whether the SARIF result leads with the source-map origin of an untracked bundle."""
    first = finding.locations[0] if finding.locations else None
    return (
        first is not None
        and first.client_bundle
        and first.source is SourceKind.BUNDLE
        and first.original is not None
        and _in_repository(first.original.path)
    )


def _same_line(location: dict[str, Any], origin: dict[str, Any]) -> bool:
    """`location` is the origin's file and line, at or after the origin's column (the key inside
    the token the source map points at)."""
    a, b = location.get("physicalLocation", {}), origin["physicalLocation"]
    ra, rb = a.get("region", {}), b["region"]
    return bool(
        a.get("artifactLocation", {}).get("uri") == b["artifactLocation"]["uri"]
        and ra.get("startLine") == rb["startLine"]
        and ra.get("startColumn", 0) >= rb["startColumn"]
    )


def origin_first(result: dict[str, Any], locations: Sequence[Location]) -> None:
    """Code scanning cannot show a bundle that is not tracked (built in CI), so its source-map
    origin — a source file of the repository — becomes the primary location and the bundle
    position a related one; a tracked bundle keeps its own position first, the origin related."""
    if not locations or locations[0].original is None or not locations[0].client_bundle:
        return
    first, original = locations[0], locations[0].original
    if not _in_repository(original.path):
        return
    origin = {
        "physicalLocation": {
            "artifactLocation": {
                "uri": quote(original.path.encode("utf-8", "surrogateescape"), safe="/"),
                "uriBaseId": SRCROOT,
            },
            "region": {
                "startLine": original.line,
                "startColumn": original.column,
                "endLine": original.line,
                "endColumn": original.column + 1,
            },
        },
        "message": {"text": "the source line that put the key in the bundle (from its source map)"},
    }
    if first.source is SourceKind.BUNDLE:
        bundle = result["locations"][0]
        # the source line itself, when committed, is one of the finding's own locations (the map
        # points at the token, the location at the key inside it): shown once, the committed
        # location first (the untracked Vite scan listed the line twice)
        rest = result["locations"][1:]
        same = [loc for loc in rest if _same_line(loc, origin)]
        if same:
            rest.remove(same[0])
        result["locations"] = [same[0] if same else origin, *rest]
        result["relatedLocations"] = [{"id": 1, **bundle}]
    else:
        result["relatedLocations"] = [{"id": 1, **origin}]
