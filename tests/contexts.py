"""The context matrix: where a key can sit in a file, and where the scanner must then report it.

Each context writes `NAME = value` in one file format and says, independently of the engine,
which byte span the finding must cover and at which line/column (UTF-16 units, 1-based) that
span starts and ends. A context escapes the value with a character-local function (JSON string
escaping, CRLF line ends, YAML block indentation), so the secret's span inside the written
value is the escaped length of what precedes it. Base64 contexts report the whole encoded token
(ARCHITECTURE.md §4 Positions); UTF-16 text is located in decoded characters.

A context may write further one-line entries (`after`: name, value) right after the planted one,
in the same syntax: a key and its companion (an AWS key ID and its secret under any name).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

Escape = Callable[[str], str]
After = Sequence[tuple[str, str]]


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


def _env_text(
    name: str, value: str, secret: tuple[int, int], nl: str = "\n", after: After = ()
) -> tuple[str, tuple[int, int]]:
    def esc(s: str) -> str:
        return s.replace("\n", nl)

    before = f'# application settings{nl}DEBUG=false{nl}LOG_LEVEL=info{nl}{name}="'
    span = _locate(before, value, secret, esc)
    more = "".join(f'{n}="{v}"{nl}' for n, v in after)
    text = before + esc(value) + f'"{nl}{more}PORT=8080{nl}'
    return text, span


def env_quoted(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """`.env`, double-quoted value (dotenv allows a quoted value to span lines)."""
    return _finish(*_env_text(name, value, secret, after=after))


def env_bare(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """`.env`, unquoted value (the further entries without `export`)."""
    if "\n" in value:
        raise Skip("an unquoted dotenv value ends at the end of its line; a multi-line PEM cannot be bare")
    before = f"DEBUG=false\nexport {name}="
    span = _locate(before, value, secret, _identity)
    more = "".join(f"{n}={v}\n" for n, v in after)
    return _finish(before + value + "\n" + more + "PORT=8080\n", span)


def env_crlf(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """`.env` written on Windows: CRLF line ends, also inside a multi-line value."""
    return _finish(*_env_text(name, value, secret, "\r\n", after))


def utf16(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """`.env` saved as UTF-16 LE with a BOM (PowerShell's default `Out-File` encoding)."""
    text, span = _env_text(name, value, secret, after=after)
    return _finish(text, span, codec="utf-16-le")


def json_doc(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """A pretty-printed JSON config; the value JSON-escaped (`\\n`, `\\"`)."""
    before = f'{{\n  "name": "demo",\n  "version": 3,\n  "env": {{\n    "{name}": "'
    span = _locate(before, value, secret, _json_str)
    more = "".join(f',\n    "{_json_str(n)}": "{_json_str(v)}"' for n, v in after)
    return _finish(before + _json_str(value) + '"' + more + "\n  }\n}\n", span)


def json_twice(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """A JSON document stored as a string inside JSON: the value escaped twice."""
    inner_before = f'{{"{name}": "'
    s, e = _locate(inner_before, value, secret, _json_str)
    more = "".join(f', "{_json_str(n)}": "{_json_str(v)}"' for n, v in after)
    inner = inner_before + _json_str(value) + '"' + more + ', "region": "eu-west-1"}'
    before = '{"id": 17, "settings": "'
    span = _locate(before, inner, (s, e), _json_str)
    return _finish(before + _json_str(inner) + '", "enabled": true}\n', span)


def yaml_doc(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """A YAML config: plain, single-quoted or block scalar, as the value needs."""
    before = f"service:\n  name: demo\n  replicas: 2\n  env:\n    {name}: "
    more = "".join(f"    {n}: {v}\n" for n, v in after)
    if "\n" in value:
        indent = " " * 6
        before += "|\n" + indent

        def esc(s: str) -> str:
            return s.replace("\n", "\n" + indent)

        span = _locate(before, value, secret, esc)
        return _finish(before + esc(value) + "\n" + more + "  port: 8080\n", span)
    if '"' in value or "\\" in value or ": " in value:
        before += "'"
        span = _locate(before, value, secret, _identity)
        return _finish(before + value + "'\n" + more + "  port: 8080\n", span)
    span = _locate(before, value, secret, _identity)
    return _finish(before + value + "\n" + more + "  port: 8080\n", span)


def python_src(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """Python source: a module-level constant passed to a client."""
    q = '"""' if "\n" in value else ("'" if '"' in value else '"')
    before = f"import os\n\nfrom client import Client\n\nTIMEOUT = 30\n{name} = {q}"
    span = _locate(before, value, secret, _identity)
    more = "".join(f"{n} = {v!r}\n" for n, v in after)
    text = before + value + f"{q}\n{more}client = Client(api_key={name}, timeout=TIMEOUT)\n"
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


def js_minified(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """A minified bundle: one long line, the value in a string literal after kilobytes of code."""
    before = MINIFIED_PREFIX + f'var c={{{name}:"'
    span = _locate(before, value, secret, _json_str)
    more = "".join(f',{n}:"{_json_str(v)}"' for n, v in after)
    return _finish(before + _json_str(value) + '"' + more + ",timeout:3e4};c.ready=!0}();\n", span)


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def k8s_secret(name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted:
    """A Kubernetes Secret manifest: each value base64-encoded on its own under `data:`."""
    token = _b64(value)
    before = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: app-secrets\n  namespace: prod\ntype: Opaque\n"
        f"data:\n  {name}: "
    )
    span = (len(before), len(before) + len(token))
    more = "".join(f"  {n}: {_b64(v)}\n" for n, v in after)
    return _finish(before + token + "\n" + more, span, encoding="base64")


class Context(Protocol):
    def __call__(self, name: str, value: str, secret: tuple[int, int], after: After = ()) -> Planted: ...


CONTEXTS: dict[str, Context] = {
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
