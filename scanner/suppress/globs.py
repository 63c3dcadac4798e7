"""Path globs for allowlists and severity overrides, checked when the config is loaded.

Globs match repository-relative paths (`/`-separated, as the reports write them): `*` and `?`
stay inside one segment, `**` as a whole segment spans any number of them, `[abc]`/`[!abc]` are
character classes, and a glob without `/` matches the name in any directory (as in .gitignore).
A glob that could not mean what it says — empty, absolute, with `..`, an unclosed class, `**`
glued to other text, a trailing backslash — is refused, so a typo never silently matches
nothing (or everything).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class GlobError(ValueError):
    """A glob that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class PathGlob:
    text: str
    regex: re.Pattern[str]

    def matches(self, path: str) -> bool:
        return self.regex.fullmatch(path) is not None


def compile_glob(text: str) -> PathGlob:
    """The glob `text`, or GlobError saying what is wrong with it."""
    if not isinstance(text, str) or not text.strip():
        raise GlobError("a glob must be a non-empty string")
    if "\0" in text or "\n" in text:
        raise GlobError("a glob cannot hold NUL or a newline")
    if text.startswith("/"):
        raise GlobError("paths are relative to the repository root; drop the leading '/'")
    body = text[:-1] if text.endswith("/") else text  # `dir/` means everything under dir
    segments = body.split("/")
    if any(s in ("", ".", "..") for s in segments):
        raise GlobError("empty, '.' or '..' path segments are not allowed")
    parts: list[str] = []
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == "**":
            parts.append("(?:[^/]+/)*" if not last else ".*")
            continue
        if "**" in seg:
            raise GlobError("'**' must be a whole path segment (like 'a/**/b')")
        parts.append(_segment(seg) + ("" if last else "/"))
    pattern = "".join(parts)
    if text.endswith("/"):
        pattern += "/.*"
    if "/" not in body:
        pattern = "(?:.*/)?" + pattern  # a bare name matches in any directory
    return PathGlob(text, re.compile(pattern, re.DOTALL))


def _segment(seg: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(seg):
        c = seg[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = i + 1
            if j < len(seg) and seg[j] in "!^":
                j += 1
            if j < len(seg) and seg[j] == "]":
                j += 1
            while j < len(seg) and seg[j] != "]":
                j += 1
            if j >= len(seg):
                raise GlobError("unclosed '[' character class")
            inner = seg[i + 1 : j]
            negate = inner[:1] in ("!", "^")
            if negate:
                inner = inner[1:]
            if not inner:
                raise GlobError("empty '[]' character class")
            escaped = inner.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")
            out.append(("[^/" if negate else "[") + escaped + "]")
            i = j
        elif c == "\\":
            if i + 1 >= len(seg):
                raise GlobError("a glob cannot end with a backslash")
            i += 1
            out.append(re.escape(seg[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)
