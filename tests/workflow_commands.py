"""The Actions runner's reading of a step's output lines, for the annotation tests.

A line-for-line port of actions/runner `ActionCommand.TryParseV2` (and the legacy `##[` form,
which the runner tries when the first fails) with its unescaping tables, and of the limits the
runner applies to annotations (`ExecutionContext`: at most 10 per level in a step; `line`/`col`
validation in `ActionCommandManager`). The tests feed keysweep's real output through this, so a
value that ends a command, adds a property or starts a second command shows up as exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

COMMANDS = frozenset(
    {
        "error",
        "warning",
        "notice",
        "debug",
        "group",
        "endgroup",
        "add-mask",
        "set-output",
        "stop-commands",
        "echo",
        "add-matcher",
        "remove-matcher",
        "save-state",
        "set-env",
        "add-path",
    }
)
_PROPERTY = (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%"))
_DATA = (("%0D", "\r"), ("%0A", "\n"), ("%25", "%"))
_LEGACY = (("%3B", ";"), ("%0D", "\r"), ("%0A", "\n"), ("%5D", "]"), ("%25", "%"))
MAX_PER_LEVEL = 10


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""
    legacy: bool = False


def _unescape(text: str, table: tuple[tuple[str, str], ...]) -> str:
    for escaped, token in table:
        text = text.replace(escaped, token)
    return text


def parse_v2(line: str) -> Command | None:
    message = line.lstrip()
    if not message.startswith("::"):
        return None
    end = message.find("::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in COMMANDS:
        return None
    properties: dict[str, str] = {}
    if space > 0:
        for item in info[space + 1 :].strip().split(","):
            if not item:
                continue
            pair = [p for p in item.split("=", 1) if p]
            if len(pair) == 2:
                properties[pair[0].lower()] = _unescape(pair[1], _PROPERTY)
    return Command(name, properties, _unescape(message[end + 2 :], _DATA))


def parse_legacy(line: str) -> Command | None:
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + 3 : close]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name not in COMMANDS:
        return None
    properties: dict[str, str] = {}
    if space > 0:
        for item in info[space + 1 :].split(";"):
            pair = [p for p in item.split("=", 1) if p]
            if len(pair) == 2:
                properties[pair[0].lower()] = _unescape(pair[1], _LEGACY)
    return Command(name, properties, _unescape(line[close + 1 :], _LEGACY), legacy=True)


def read_commands(output: str) -> list[Command]:
    """Every workflow command the runner would find in `output` (lines split as .NET's
    ReadLine splits them: LF, CR or CRLF)."""
    found = []
    for line in output.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        command = parse_v2(line) or parse_legacy(line)
        if command is not None:
            found.append(command)
    return found


def shown_annotations(commands: list[Command]) -> list[Command]:
    """The annotations GitHub shows: the first 10 of each level in the step."""
    counts: dict[str, int] = {}
    shown = []
    for command in commands:
        if command.name in ("error", "warning", "notice"):
            counts[command.name] = counts.get(command.name, 0) + 1
            if counts[command.name] <= MAX_PER_LEVEL:
                shown.append(command)
    return shown
