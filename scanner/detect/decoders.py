"""Decoding in known contexts only, so a key is found in the form it was written.

Each layer is a decoded view of part of a text: UTF-16 text as a whole; base64 values of a
Kubernetes `Secret` or a Docker auth config; JS/JSON string literals whose escapes change their
content; the `sourcesContent` of a bundle's inline source map (base64 in its last comment).
Matches in a layer are reported at the encoded token's span (UTF-16: mapped exactly).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass

from scanner.detect.sourcemap import inline_contents

# What makes a decoder worth running: regexes the prefilter matches in its one pass over a text.
TRIGGERS: dict[str, bytes] = {
    "k8s-secret": rb"""kind["']?\s*:\s*["']?Secret\b""",
    "docker-auths": rb'"auths"',
    "escape": rb"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|/)",
    "inline-map": rb"sourceMappingURL=data:application/json",
}
INLINE_MAP_ENCODING = "source-map"  # a match inside the sources of a bundle's inline map
MAX_LITERALS = 5000
MAX_LITERAL = 16384


@dataclass(frozen=True, slots=True)
class Layer:
    text: bytes
    start: int
    end: int
    encoding: str
    codec: str | None = None  # UTF-16 layers map offsets exactly through this codec
    bom: int = 0

    def locate(self, s: int, e: int) -> tuple[int, int]:
        """Original byte span of decoded bytes [s, e)."""
        if self.codec is None:
            return self.start, self.end

        def off(i: int) -> int:
            units = len(self.text[:i].decode("utf-8", "replace").encode("utf-16-le")) // 2
            return self.start + self.bom + 2 * units

        return off(s), off(e)


def utf16_codec(data: bytes) -> tuple[str, int] | None:
    """('utf-16-le'|'utf-16-be', BOM length) when `data` is UTF-16 text, else None."""
    if data[:2] == b"\xff\xfe":
        return "utf-16-le", 2
    if data[:2] == b"\xfe\xff":
        return "utf-16-be", 2
    head = data[:512]
    if len(head) < 16 or b"\x00" not in head:  # nearly every text: one memchr and done
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) >= len(odd) * 0.7 and even.count(0) <= len(even) * 0.1:
        return "utf-16-le", 0
    if even.count(0) >= len(even) * 0.7 and odd.count(0) <= len(odd) * 0.1:
        return "utf-16-be", 0
    return None


def _utf16_layer(data: bytes) -> Layer | None:
    found = utf16_codec(data)
    if found is None:
        return None
    codec, bom = found
    body = data[bom:]
    if len(body) % 2:
        body = body[:-1]
    text = body.decode(codec, "replace").encode("utf-8")
    # locate() counts UTF-16 units from the start of the body; both codecs give the same count
    return Layer(text, 0, len(data), codec.replace("-le", "").replace("-be", ""), codec=codec, bom=bom)


_YAML_DATA = re.compile(rb"^([ \t]*)data:[ \t]*\r?$", re.M)
_YAML_ENTRY = re.compile(
    rb"""([ \t]+)["']?([\w.-]{1,253})["']?[ \t]*:[ \t]*["']?([A-Za-z0-9+/]{8,}={0,2})["']?[ \t]*\r?$"""
)
_JSON_DATA = re.compile(rb'"data"\s*:\s*\{([^{}]*)\}')
_JSON_ENTRY = re.compile(rb'"([\w.-]{1,253})"\s*:\s*"([A-Za-z0-9+/]{8,}={0,2})"')
_DOCKER_AUTH = re.compile(rb'"(auth|identitytoken|password)"\s*:\s*"([A-Za-z0-9+/]{8,}={0,2})"')


def _decode(token: bytes) -> bytes | None:
    try:
        raw = base64.b64decode(token, validate=True)
    except (binascii.Error, ValueError):
        return None
    if not raw or sum(32 <= b < 127 or b in (9, 10, 13) for b in raw) < len(raw) * 0.9:
        return None
    return raw


def _k8s_entries(data: bytes) -> Iterator[tuple[bytes, int, int]]:
    """(name, start, end) of each base64 value under a Secret's `data:` (YAML or JSON)."""
    for block in _YAML_DATA.finditer(data):
        indent = len(block.group(1))
        pos = block.end() + 1
        while pos < len(data):
            eol = data.find(b"\n", pos)
            eol = len(data) if eol == -1 else eol
            m = _YAML_ENTRY.match(data, pos, eol)
            if m is None or len(m.group(1).expandtabs()) <= indent:
                break
            yield m.group(2), m.start(3), m.end(3)
            pos = eol + 1
    for block in _JSON_DATA.finditer(data):
        for m in _JSON_ENTRY.finditer(data, block.start(1), block.end(1)):
            yield m.group(1), m.start(2), m.end(2)


def _b64_layers(data: bytes, triggers: frozenset[str]) -> Iterator[Layer]:
    """Base64 values in known contexts only: a Kubernetes Secret's data, Docker auth configs."""
    entries: list[tuple[bytes, int, int]] = []
    if "k8s-secret" in triggers:
        entries += _k8s_entries(data)
    if "docker-auths" in triggers:
        entries += ((m.group(1), m.start(2), m.end(2)) for m in _DOCKER_AUTH.finditer(data))
    for name, start, end in entries:
        raw = _decode(data[start:end])
        if raw is not None:
            # keep the entry's name (`OPENAI_API_KEY: <base64>`): keyword-gated rules need it
            yield Layer(name + b"=" + raw, start, end, "base64")


_ESCAPE = re.compile(rb"\\(?:u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|/)")
_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_LIT_ESC = re.compile(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", re.S)


def unescape(body: bytes) -> bytes:
    """Decode JS/JSON string escapes (surrogate pairs joined); other text unchanged."""

    def sub(m: re.Match[str]) -> str:
        t = m.group(1)
        if len(t) > 1:
            return chr(int(t[1:], 16))
        return _SIMPLE.get(t, t)

    text = _LIT_ESC.sub(sub, body.decode("utf-8", "replace"))
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.encode("utf-8")


def _escaped(data: bytes, j: int) -> bool:
    """Whether data[j] is preceded by an odd number of backslashes."""
    k = j - 1
    while k >= 0 and data[k] == 92:
        k -= 1
    return (j - 1 - k) % 2 == 1


def _literal_bounds(data: bytes, i: int) -> tuple[int, int] | None:
    """The content span of the string literal around offset `i`, on one line (searched in C)."""
    far = max(0, i - MAX_LITERAL)
    near = max(far, data.rfind(b"\n", far, i) + 1, data.rfind(b"\r", far, i) + 1)
    end = i
    while True:  # quotes on this line, or a template literal's backtick on an earlier one
        j = max(data.rfind(b'"', near, end), data.rfind(b"'", near, end), data.rfind(b"`", far, end))
        if j < 0:
            return None
        if not _escaped(data, j):
            break
        end = j
    q = data[j : j + 1]
    hi = min(len(data), i + MAX_LITERAL)
    if q != b"`":  # only template literals span lines
        for nl in (b"\n", b"\r"):
            x = data.find(nl, i, hi)
            if x >= 0:
                hi = x
    k = i
    while True:
        k = data.find(q, k, hi)
        if k < 0:
            return None
        if not _escaped(data, k):
            return j + 1, k
        k += 1


def _escape_layers(data: bytes) -> Iterator[Layer]:
    last_end = 0
    count = 0
    search = _ESCAPE.search
    while (m := search(data, last_end)) is not None:  # the next escape past the last literal, in C
        bounds = _literal_bounds(data, m.start())
        if bounds is None:
            last_end = m.end()
            continue
        lo, hi = bounds
        last_end = max(hi, m.end())
        try:
            text = unescape(data[lo:hi])
        except (UnicodeError, ValueError):
            continue
        yield Layer(text, lo, hi, "js-escape")
        count += 1
        if count >= MAX_LITERALS:
            return


def _inline_map_layer(data: bytes) -> Iterator[Layer]:
    """The sources an inline map carries, located at its data: URL (sources/maps.py gives each
    hit its place inside its source)."""
    got = inline_contents(data)
    if got is not None:
        start, end, texts = got
        text = "\n".join(t for _i, t in texts)
        yield Layer(text.encode("utf-8", "surrogatepass"), start, end, INLINE_MAP_ENCODING)


def layers(data: bytes, triggers: frozenset[str]) -> list[Layer]:
    """Decoded views of `data` worth scanning again, given the triggers the prefilter saw."""
    u16 = _utf16_layer(data)
    if u16 is not None:
        return [u16]
    if not triggers:
        return []
    return [
        *_b64_layers(data, triggers),
        *(_escape_layers(data) if "escape" in triggers else ()),
        *(_inline_map_layer(data) if "inline-map" in triggers else ()),
    ]
