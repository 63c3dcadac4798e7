"""Whether an offset of a script is in code or inside a string, template text or comment, so that
an option is an option only where it is code: the `openai` SDK's own error text quotes
`new OpenAI({ apiKey, dangerouslyAllowBrowser: true })` as prose, and every bundle that uses the
SDK ships that text (issue 21).

A small forward lexer: quotes, template literals (with `${…}` nesting), comments and regular
expression literals (told from division by the token before them, as minifiers' own lexers do).
Pure and path-free. A quote of `'` or `"` ends at a raw line break (a JavaScript string cannot
hold one), so prose in HTML or Markdown around a script loses at most its line.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_SPECIAL = re.compile(rb"[\"'`/{}\n]")
_STRING_END = {
    ord("'"): re.compile(rb"['\n\\]"),
    ord('"'): re.compile(rb"[\"\n\\]"),
}
_TEMPLATE_STOP = re.compile(rb"[`\\$]")
_REGEX_STOP = re.compile(rb"[/\\\[\n]")
_CLASS_STOP = re.compile(rb"[\]\\\n]")
# after these, `/` starts a regular expression; after anything else (a name, `)`, `]`) it divides
_REGEX_AFTER = frozenset(b"(,=:[!&|?{};~+-*%<>^")
_REGEX_WORDS = (
    b"return",
    b"typeof",
    b"case",
    b"do",
    b"else",
    b"in",
    b"of",
    b"void",
    b"delete",
    b"throw",
    b"new",
)


def _regex_allowed(data: bytes, at: int) -> bool:
    i = at - 1
    while i >= 0 and data[i] in b" \t\r\n":
        i -= 1
    if i < 0:
        return True
    c = data[i]
    if c in _REGEX_AFTER:
        return True
    if chr(c).isalnum() or c in b"_$":
        j = i
        while j >= 0 and (chr(data[j]).isalnum() or data[j] in b"_$"):
            j -= 1
        return data[j + 1 : i + 1] in _REGEX_WORDS
    return False


def code_offsets(data: bytes, offsets: list[int]) -> set[int]:
    """The offsets of `offsets` that lie in code (not in a string, template text or comment)."""
    wanted = sorted(set(offsets))
    out: set[int] = set()
    if not wanted:
        return out
    k = 0
    pos = 0
    n = len(data)
    braces: list[int] = []  # per open `{`: 1 when it opened a template's `${`, else 0

    def settle(upto: int, in_code: bool) -> None:
        nonlocal k
        while k < len(wanted) and wanted[k] < upto:
            if in_code:
                out.add(wanted[k])
            k += 1

    while pos < n and k < len(wanted):
        m = _SPECIAL.search(data, pos)
        if m is None:
            break
        at = m.start()
        settle(at + 1, True)  # a match may start at a quote: the string token itself is code
        c = data[at]
        if c in b"'\"":
            end = _string_end(data, at + 1, c)
            settle(end, False)
            pos = end
        elif c == ord("`"):
            pos = _in_template(data, at + 1, braces, settle)
        elif c == ord("/"):
            nxt = data[at + 1 : at + 2]
            if nxt == b"/":
                j = data.find(b"\n", at)
                end = n if j < 0 else j
                settle(end, False)
                pos = end
            elif nxt == b"*":
                j = data.find(b"*/", at + 2)
                end = n if j < 0 else j + 2
                settle(end, False)
                pos = end
            elif _regex_allowed(data, at):
                end = _regex_end(data, at + 1)
                settle(end, False)
                pos = end
            else:
                pos = at + 1
        elif c == ord("{"):
            braces.append(0)
            pos = at + 1
        elif c == ord("}"):
            resumes = bool(braces) and braces.pop() == 1  # the template goes on after `${…}`
            pos = _in_template(data, at + 1, braces, settle) if resumes else at + 1
        else:
            pos = at + 1
    settle(n + 1, True)
    return out


def _in_template(data: bytes, pos: int, braces: list[int], settle: Callable[[int, bool], None]) -> int:
    end = _template(data, pos)
    settle(end, False)
    if data[end - 2 : end] == b"${":
        braces.append(1)
    return end


def _string_end(data: bytes, pos: int, quote: int) -> int:
    """The offset just past the string that opened before `pos`."""
    rx = _STRING_END[quote]
    n = len(data)
    while pos < n:
        m = rx.search(data, pos)
        if m is None:
            return n
        c = data[m.start()]
        if c == ord("\\"):
            pos = m.start() + 2
            continue
        return m.start() + 1 if c == quote else m.start()  # a raw line break ends it (unterminated)
    return n


def _template(data: bytes, pos: int) -> int:
    """The offset just past the template text from `pos`: after its closing backtick, or just
    after a `${` that opens an expression (the caller then lexes the expression as code)."""
    n = len(data)
    while pos < n:
        m = _TEMPLATE_STOP.search(data, pos)
        if m is None:
            return n
        at = m.start()
        c = data[at]
        if c == ord("\\"):
            pos = at + 2
        elif c == ord("`"):
            return at + 1
        elif data[at + 1 : at + 2] == b"{":
            return at + 2
        else:
            pos = at + 1
    return n


def _regex_end(data: bytes, pos: int) -> int:
    n = len(data)
    while pos < n:
        m = _REGEX_STOP.search(data, pos)
        if m is None:
            return n
        at = m.start()
        c = data[at]
        if c == ord("\\"):
            pos = at + 2
        elif c == ord("["):
            j = pos = at + 1
            while True:
                cm = _CLASS_STOP.search(data, j)
                if cm is None:
                    return n
                if data[cm.start()] == ord("\\"):
                    j = cm.start() + 2
                    continue
                if data[cm.start()] == ord("\n"):
                    return cm.start()
                pos = cm.start() + 1
                break
        elif c == ord("\n"):
            return at  # not a regex after all: resume at the line break
        else:
            return at + 1
    return n
