"""One set of characters keysweep never prints raw (`escape.UNSAFE_CATEGORIES`), applied wherever
text from a scanned repository is printed or attached: every format of the registry shows such a
character only as an escape, and an annotation never attaches a path holding one as its `file`.

Until this set was one, the annotations refused private-use and unassigned characters in a path
while the console, JSON, SARIF and summary printed the same characters raw."""

from __future__ import annotations

import dataclasses
import json
import unicodedata

import pytest

from scanner.model import Location, Position, Report, SourceKind
from scanner.output.annotations import plain_path
from scanner.output.context import RenderContext
from scanner.output.escape import UNSAFE_CATEGORIES, dump_json, escape_text, plain_text
from scanner.output.formats import FORMATS, render
from tests.output_fixtures import BOB, history_finding, history_report
from tests.workflow_commands import read_commands

# one character of each category of the set
SAMPLES = {
    "Cc": "\x07",  # BEL
    "Cf": "\u202e",  # right-to-left override
    "Cs": "\udcff",  # a lone surrogate, as an undecodable path byte becomes
    "Zl": "\u2028",  # line separator
    "Zp": "\u2029",  # paragraph separator
    "Co": "\ue000",  # private use
    "Cn": "\u0378",  # unassigned in the Greek block
}


def test_the_samples_cover_the_set() -> None:
    assert {unicodedata.category(c) for c in SAMPLES.values()} == set(SAMPLES) == UNSAFE_CATEGORIES


@pytest.mark.parametrize("category", sorted(SAMPLES))
def test_escape_and_annotations_agree(category: str) -> None:
    char = SAMPLES[category]
    path = f"src/a{char}b.py"
    assert char not in escape_text(path) and "\\" in escape_text(path)
    assert char not in dump_json({"path": path})
    assert json.loads(dump_json({"path": path})) == {"path": path}  # escaped, not changed
    assert not plain_text(path) and not plain_path(path)
    assert plain_path("src/日本語 é.py") and escape_text("src/日本語 é.py") == "src/日本語 é.py"


def _range_with(path: str) -> tuple[Report, Report]:
    finding = dataclasses.replace(
        history_finding(),
        locations=(Location(SourceKind.HISTORY, path, Position(3, 5, 3, 45, 0), commit=BOB.commit),),
        locations_total=1,
        present_at_head=True,
    )
    base = history_report()
    scan = dataclasses.replace(base.scan, mode="range", range="a..b", target=f"/work/{path}")
    the_range = dataclasses.replace(base, scan=scan, findings=(finding,))
    tree = dataclasses.replace(base, scan=dataclasses.replace(base.scan, mode="tree"), findings=(finding,))
    return the_range, tree


@pytest.mark.parametrize("category", sorted(SAMPLES))
@pytest.mark.parametrize("name", [f.name for f in FORMATS])
def test_every_format_escapes_the_whole_set(name: str, category: str) -> None:
    char = SAMPLES[category]
    report, tree = _range_with(f"src/a{char}b.py")
    text = render(name, report, RenderContext(tree=tree, color=True))
    assert text and char not in text
    if name == "annotations":
        commands = read_commands(text)
        assert commands and all("file" not in c.properties for c in commands)
