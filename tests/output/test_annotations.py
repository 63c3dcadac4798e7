"""Workflow-command annotations of a range: the runner's own parser (tests/workflow_commands.py)
reads keysweep's output, so escaping, injection, the per-level limit and the final notice are
checked as GitHub would apply them."""

from __future__ import annotations

import dataclasses

import pytest

from scanner.model import Finding, Location, Position, Report, Severity, SourceKind
from scanner.output.annotations import (
    MAX_PER_LEVEL,
    escape_data,
    escape_property,
    range_annotations,
    render_annotations,
)
from tests.output_fixtures import (
    BOB,
    WEIRD_PATH,
    bundle_finding,
    digest,
    history_finding,
    history_report,
    local_finding,
    weird_finding,
)
from tests.workflow_commands import read_commands, shown_annotations


def range_report(*findings: Finding) -> Report:
    base = history_report()
    return dataclasses.replace(
        base, scan=dataclasses.replace(base.scan, mode="range", range="a..b"), findings=findings
    )


def tree_report(*findings: Finding) -> Report:
    base = history_report()
    return dataclasses.replace(base, scan=dataclasses.replace(base.scan, mode="tree"), findings=findings)


def at(path: str, line: int, column: int = 5) -> Location:
    return Location(SourceKind.HISTORY, path, Position(line, column, line, column + 40, 0), commit=BOB.commit)


def secret(n: int, severity: Severity, path: str | None = None, line: int = 1) -> Finding:
    return dataclasses.replace(
        history_finding(),
        severity=severity,
        fingerprint=digest(f"fp {n}"),
        secret_sha256=digest(f"secret {n}"),
        present_at_head=True,
        locations=(at(path or f"src/file-{n:02d}.py", line),),
        locations_total=1,
    )


# --- escaping ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["plain", "a%b", "100%0A", "%25", "x\ny", "x\r\ny", "a:b,c", "::error::x", "%3A%2C", "line=1,col=2"],
)
def test_escaping_round_trips_through_the_runner(value: str) -> None:
    line = f"::warning title={escape_property(value)},file={escape_property(value)}::{escape_data(value)}"
    assert "\n" not in line and "\r" not in line
    (command,) = read_commands(line)
    assert command.name == "warning"
    assert command.properties == {"title": value, "file": value}
    assert command.data == value


def test_escape_tables_are_the_runners() -> None:
    assert escape_data("%\r\n:,") == "%25%0D%0A:,"
    assert escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"


# --- injection ---------------------------------------------------------------------------------

HOSTILE_PATHS = (
    "evil\n::error file=owned.py::injected",
    "evil\r::add-mask::x",
    "a,line=999,title=spoofed.py",
    "b::warning::c.py",
    "pct%0A::error::x.py",
    "pct%2C,endLine=1.py",
    "legacy ##[error]x.py",
    "  ::error::leading-space.py",
)


def test_a_hostile_path_or_message_cannot_inject_a_command() -> None:
    findings = tuple(secret(i, Severity.HIGH, path) for i, path in enumerate(HOSTILE_PATHS))
    weird = weird_finding()
    report = range_report(*findings, weird)
    text = render_annotations(range_annotations(report))
    lines = text.splitlines()
    assert len(lines) == len(findings) + 1
    commands = read_commands(text)
    assert len(commands) == len(lines)  # one command a line, never a second one
    assert all(c.name == "error" and not c.legacy for c in commands)
    for command in commands:
        assert set(command.properties) <= {"file", "line", "endline", "col", "endcolumn", "title"}
        assert command.properties["title"].startswith("keysweep: high ")
    files = [c.properties.get("file") for c in commands]
    # a path with a control character is named in the message, never attached
    plain = [p for p in HOSTILE_PATHS if "\n" not in p and "\r" not in p]
    assert sorted(f for f in files if f is not None) == sorted([*plain, "::error file=x::y:z.txt"])
    assert WEIRD_PATH not in files
    for command, finding in zip(commands, report.findings, strict=True):
        assert command.properties.get("line") in (None, str(finding.locations[0].position.line), "4")
        assert "\n" not in command.data and "\r" not in command.data and "\x1b" not in command.data
    injected = next(c for c in commands if "injected" in c.data)
    assert "evil\\n::error file=owned.py::injected" in injected.data  # shown, escaped, inert


# --- how many, and which -------------------------------------------------------------------------


def test_never_more_than_ten_per_level_and_a_final_notice() -> None:
    findings = (
        *(secret(i, Severity.CRITICAL) for i in range(7)),
        *(secret(10 + i, Severity.HIGH) for i in range(8)),
        *(secret(30 + i, Severity.MEDIUM) for i in range(12)),
        *(secret(50 + i, Severity.LOW) for i in range(11)),
    )
    notes = range_annotations(range_report(*findings))
    commands = read_commands(render_annotations(notes))
    by_level = {level: [c for c in commands if c.name == level] for level in ("error", "warning", "notice")}
    assert len(by_level["error"]) == MAX_PER_LEVEL == 10
    assert all("critical" in c.properties["title"] for c in by_level["error"][:7])  # most severe first
    assert len(by_level["warning"]) == 10
    assert len(by_level["notice"]) == 10  # 9 findings and the final notice
    final = by_level["notice"][-1]
    assert "file" not in final.properties
    assert final.data.startswith(
        f"{len(findings) - 29} of {len(findings)} findings of this range are not annotated"
    )
    assert "job summary" in final.data
    assert notes.annotated == 29 and notes.left_out == len(findings) - 29
    assert shown_annotations(commands) == commands  # GitHub drops none of them


def test_ten_notices_fit_without_a_final_notice() -> None:
    notes = range_annotations(range_report(*(secret(i, Severity.LOW) for i in range(10))))
    commands = read_commands(render_annotations(notes))
    assert [c.name for c in commands] == ["notice"] * 10
    assert notes.left_out == 0
    assert all("file" in c.properties for c in commands)


def test_eleven_notices_leave_two_out() -> None:
    notes = range_annotations(range_report(*(secret(i, Severity.LOW) for i in range(11))))
    commands = read_commands(render_annotations(notes))
    assert len(commands) == 10 and notes.left_out == 2
    assert commands[-1].data.startswith("2 of 11 findings")


def test_only_files_the_range_changed_are_annotated() -> None:
    """The tree holds keys the range did not add (not annotated) and the range's own keys, at
    lines the checkout has (the annotation takes those)."""
    added = secret(1, Severity.HIGH, "src/new.py", line=3)
    moved_down = dataclasses.replace(added, locations=(at("src/new.py", 9),))
    also_elsewhere = dataclasses.replace(added, locations=(at("docs/copy.md", 2), at("src/new.py", 9)))
    old = secret(2, Severity.CRITICAL, "config/old.env")
    removed = dataclasses.replace(secret(3, Severity.HIGH, "tmp/scratch.env"), present_at_head=False)
    report = range_report(added, removed)
    for tree in (tree_report(moved_down, old), tree_report(also_elsewhere, old)):
        commands = read_commands(render_annotations(range_annotations(report, tree)))
        assert len(commands) == 2
        first, second = commands
        assert first.properties["file"] == "src/new.py" and first.properties["line"] == "9"
        assert "file" not in second.properties  # added and removed inside the range
        assert "tmp/scratch.env:1" in second.data and "stays in the history" in second.data
        assert all(c.properties.get("file") != "config/old.env" for c in commands)
        assert all(c.properties.get("file") != "docs/copy.md" for c in commands)


def test_without_a_tree_the_range_locations_are_used() -> None:
    report = range_report(bundle_finding(), local_finding())
    commands = read_commands(render_annotations(range_annotations(report)))
    assert [c.properties["file"] for c in commands] == ["dist/assets/index-3f2a1c.js", ".env.local"]
    first = commands[0]
    assert (first.properties["line"], first.properties["endline"]) == ("1", "1")
    assert (first.properties["col"], first.properties["endcolumn"]) == ("48213", "48377")
    assert "sk-proj-…X9aA (164)" in first.data and "https://platform.openai.com/api-keys" in first.data
    assert commands[1].name == "notice"  # low


def test_columns_only_on_one_line() -> None:
    multi = dataclasses.replace(
        secret(1, Severity.HIGH),
        locations=(Location(SourceKind.HISTORY, "key.pem", Position(2, 1, 30, 25, 0), commit=BOB.commit),),
    )
    (command,) = read_commands(render_annotations(range_annotations(range_report(multi))))
    assert command.properties == {
        "file": "key.pem",
        "line": "2",
        "endline": "30",
        "title": command.properties["title"],
    }


def test_a_failed_range_has_no_annotations() -> None:
    report = dataclasses.replace(range_report(bundle_finding()), status="failed", error="x")
    assert render_annotations(range_annotations(report)) == ""


def test_baselined_findings_are_not_annotated() -> None:
    from tests.output_fixtures import suppressed_report

    report = suppressed_report()
    report = dataclasses.replace(report, scan=dataclasses.replace(report.scan, mode="range"))
    notes = range_annotations(report)
    assert notes.total == 2 and notes.left_out == 0
    titles = [c.properties["title"] for c in read_commands(render_annotations(notes))]
    assert titles == ["keysweep: critical OpenAI project API key", "keysweep: high Groq API key"]
