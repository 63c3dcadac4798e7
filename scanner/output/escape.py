"""Making scanned data safe to print: one line, no terminal escapes, no workflow commands.

Paths, commit ids, author names and skip examples come from the scanned repository, which may be
hostile. A path such as ``"a\\n::error::x"`` printed raw would end a log line and start a GitHub
Actions workflow command; an ESC byte would drive the terminal. The runner trims leading
whitespace before it looks for ``::`` and finds the legacy ``##[`` prefix anywhere in a line
(actions/runner `ActionCommand.TryParseV2` / `TryParse`), so both are neutralised here.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp", "Co", "Cn"})
"""The one set of characters keysweep never prints raw (escape_text, dump_json) and never attaches
as an annotation's `file` (output/annotations.py): those that can move the cursor, end a line, reorder
text or fail to encode — controls (C0, DEL, C1), format characters (bidi overrides, zero-width),
surrogates left by undecodable bytes, the Unicode line and paragraph separators — and those whose
meaning this Python cannot know: private-use characters (their look and direction are the font's)
and code points its Unicode database does not assign (a viewer with a newer Unicode may know one as
a format or bidi character; unassigned code points in right-to-left blocks already default to a
right-to-left direction)."""
SHOWN_CHARS = 60
"""An outside value quoted in an error: at most this much of it."""
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}
_TEXT_CANDIDATES = re.compile(r"[^\x20-\x5b\x5d-\x7e]")
_LEGACY_COMMAND = "##["


def is_unsafe(char: str) -> bool:
    return unicodedata.category(char) in UNSAFE_CATEGORIES


def plain_text(value: str) -> bool:
    """Whether `value` holds no unsafe character (escape_text leaves it readable as it is)."""
    return not any(is_unsafe(char) for char in value)


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    if not is_unsafe(char):
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_text(value: str) -> str:
    """`value` on one line, with every unsafe character written as a backslash escape.

    Backslash itself is doubled so that an escape in the output is never ambiguous with a
    literal backslash in the data. ``##[`` becomes ``##\\x5b``.
    """
    escaped = _TEXT_CANDIDATES.sub(_escape_char, value)
    return escaped.replace(_LEGACY_COMMAND, "##\\x5b")


def shown(value: str) -> str:
    """An outside value (an input, an environment variable) as an error quotes it: escaped once
    and cut, so that a huge value is not echoed whole into the log and annotation."""
    if len(value) <= SHOWN_CHARS:
        return f"'{escape_text(value)}'"
    return f"'{escape_text(value[:SHOWN_CHARS])}…' ({len(value)} characters)"


def guard_lines(text: str) -> str:
    """`text` with no line that the Actions runner would read as a ``::`` workflow command."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        body = line.lstrip()
        if body.startswith("::"):
            indent = line[: len(line) - len(body)]
            lines[index] = f"{indent}\\x3a{body[1:]}"
    return "\n".join(lines)


_JSON_CANDIDATES = re.compile(r"[^\x00-\x7f]")


def _json_escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return f"\\u{ord(char):04x}" if is_unsafe(char) else char


def dump_json(document: Any) -> str:
    """`document` as indented JSON, safe to print into a terminal or a workflow log.

    Non-ASCII text stays readable, but C1 controls, bidi and zero-width format characters,
    line separators and lone surrogates (from undecodable paths) are written as ``\\uXXXX``
    escapes, and ``##[`` as ``##\\u005b``: JSON structure is pure ASCII and never contains
    ``##[``, so these can only occur inside strings, where the escapes decode to the same text.
    With two-space indentation no line can start with ``::``.
    """
    text = json.dumps(document, indent=2, ensure_ascii=False)
    text = _JSON_CANDIDATES.sub(_json_escape_char, text)
    return text.replace(_LEGACY_COMMAND, "##\\u005b") + "\n"
