"""The context matrix: where a key can sit in a file, and where the scanner must then report it.

Each context writes `NAME = value` in one file format and says, independently of the engine,
which byte span the finding must cover and at which line/column (UTF-16 units, 1-based) that
span starts and ends. A context escapes the value with a character-local function (JSON string
escaping, CRLF line ends, YAML block indentation), so the secret's span inside the written
value is the escaped length of what precedes it. Base64 contexts report the whole encoded token
(ARCHITECTURE.md §4 Positions); UTF-16 text is located in decoded characters.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

Escape = Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Planted:
    data: bytes
    span: tuple[int, int]  # expected byte span of the finding in `data`
    position: tuple[int, int, int, int]  # expected line, column, end_line, end_column
    encoding: str | None  # expected Match.encoding


class Skip(Exception):
    """This context cannot hold this value (the reason says why)."""


def point(text: str, i: int) -> tuple[int, int]:
    """1-based line and UTF-16 column of character offset `i` (lines end at LF, CRLF or CR)."""
    lines = re.split(r"\r\n|\r|\n", text[:i])
    return len(lines), len(lines[-1].encode("utf-16-le")) // 2 + 1


def _json_str(s: str) -> str:
    return json.dumps(s)[1:-1]


def _identity(s: str) -> str:
    return s


def _locate(before: str, value: str, secret: tuple[int, int], esc: Escape) -> tuple[int, int]:
    """Character span of the secret once `value` is written escaped right after `before`."""
    s, e = secret
    base = len(before)
    return base + len(esc(value[:s])), base + len(esc(value[:e]))


def _finish(text: str, span: tuple[int, int], codec: str = "utf-8", encoding: str | None = None) -> Planted:
    a, b = span
    (line, col), (end_line, end_col) = point(text, a), point(text, b)
    if codec == "utf-16-le":
        data = b"\xff\xfe" + text.encode("utf-16-le")
        bspan = (2 + len(text[:a].encode("utf-16-le")), 2 + len(text[:b].encode("utf-16-le")))
        return Planted(data, bspan, (line, col, end_line, end_col), "utf-16")
    bspan = (len(text[:a].encode()), len(text[:b].encode()))
    return Planted(text.encode(), bspan, (line, col, end_line, end_col), encoding)


def _env_text(name: str, value: str, secret: tuple[int, int], nl: str = "\n") -> tuple[str, tuple[int, int]]:
    def esc(s: str) -> str:
        return s.replace("\n", nl)

    before = f'# application settings{nl}DEBUG=false{nl}LOG_LEVEL=info{nl}{name}="'
    span = _locate(before, value, secret, esc)
    text = before + esc(value) + f'"{nl}PORT=8080{nl}'
    return text, span


def env_quoted(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """`.env`, double-quoted value (dotenv allows a quoted value to span lines)."""
    return _finish(*_env_text(name, value, secret))


def env_bare(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """`.env`, unquoted value."""
    if "\n" in value:
        raise Skip("an unquoted dotenv value ends at the end of its line; a multi-line PEM cannot be bare")
    before = f"DEBUG=false\nexport {name}="
    span = _locate(before, value, secret, _identity)
    return _finish(before + value + "\nPORT=8080\n", span)


def env_crlf(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """`.env` written on Windows: CRLF line ends, also inside a multi-line value."""
    return _finish(*_env_text(name, value, secret, "\r\n"))


def utf16(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """`.env` saved as UTF-16 LE with a BOM (PowerShell's default `Out-File` encoding)."""
    text, span = _env_text(name, value, secret)
    return _finish(text, span, codec="utf-16-le")


def json_doc(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """A pretty-printed JSON config; the value JSON-escaped (`\\n`, `\\"`)."""
    before = f'{{\n  "name": "demo",\n  "version": 3,\n  "env": {{\n    "{name}": "'
    span = _locate(before, value, secret, _json_str)
    return _finish(before + _json_str(value) + '"\n  }\n}\n', span)


def json_twice(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """A JSON document stored as a string inside JSON: the value escaped twice."""
    inner_before = f'{{"{name}": "'
    s, e = _locate(inner_before, value, secret, _json_str)
    inner = inner_before + _json_str(value) + '", "region": "eu-west-1"}'
    before = '{"id": 17, "settings": "'
    span = _locate(before, inner, (s, e), _json_str)
    return _finish(before + _json_str(inner) + '", "enabled": true}\n', span)


def yaml_doc(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """A YAML config: plain, single-quoted or block scalar, as the value needs."""
    before = f"service:\n  name: demo\n  replicas: 2\n  env:\n    {name}: "
    if "\n" in value:
        indent = " " * 6
        before += "|\n" + indent

        def esc(s: str) -> str:
            return s.replace("\n", "\n" + indent)

        span = _locate(before, value, secret, esc)
        return _finish(before + esc(value) + "\n  port: 8080\n", span)
    if '"' in value or "\\" in value or ": " in value:
        before += "'"
        span = _locate(before, value, secret, _identity)
        return _finish(before + value + "'\n  port: 8080\n", span)
    span = _locate(before, value, secret, _identity)
    return _finish(before + value + "\n  port: 8080\n", span)


def python_src(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """Python source: a module-level constant passed to a client."""
    q = '"""' if "\n" in value else ("'" if '"' in value else '"')
    before = f"import os\n\nfrom client import Client\n\nTIMEOUT = 30\n{name} = {q}"
    span = _locate(before, value, secret, _identity)
    text = before + value + f"{q}\nclient = Client(api_key={name}, timeout=TIMEOUT)\n"
    return _finish(text, span)


def _minified_prefix() -> str:
    parts = ['!function(){"use strict";']
    parts += [
        f"function r{i}(t,n){{return t.map(function(e){{return e*{i}+n}}).filter(Boolean)}}var q{i}=r{i}([1,2,3],{i});"
        for i in range(60)
    ]
    parts.append('var u={base:"https://cdn.example.net/assets/",retry:3,mode:"cors"};')
    return "".join(parts)


MINIFIED_PREFIX = _minified_prefix()


def js_minified(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """A minified bundle: one long line, the value in a string literal after kilobytes of code."""
    before = MINIFIED_PREFIX + f'var c={{{name}:"'
    span = _locate(before, value, secret, _json_str)
    return _finish(before + _json_str(value) + '",timeout:3e4};c.ready=!0}();\n', span)


def k8s_secret(name: str, value: str, secret: tuple[int, int]) -> Planted:
    """A Kubernetes Secret manifest: the value base64-encoded under `data:`."""
    token = base64.b64encode(value.encode()).decode()
    before = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\n  namespace: prod\ntype: Opaque\n"
        f"data:\n  {name}: "
    )
    span = (len(before), len(before) + len(token))
    return _finish(before + token + "\n", span, encoding="base64")


CONTEXTS: dict[str, Callable[[str, str, tuple[int, int]], Planted]] = {
    "env-quoted": env_quoted,
    "env-bare": env_bare,
    "env-crlf": env_crlf,
    "utf16": utf16,
    "json": json_doc,
    "json-twice": json_twice,
    "yaml": yaml_doc,
    "python": python_src,
    "js-minified": js_minified,
    "k8s-secret": k8s_secret,
}
