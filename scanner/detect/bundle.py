"""What a text says about itself as built JavaScript (ARCHITECTURE.md §6): bundler output for a
browser, code that targets Node, or neither. Pure: bytes in, a verdict out; whether a *file* is
client output also depends on its path, which is judged later (scanner/sources/bundles.py).

Only the head and the tail of a text are read, so a multi-megabyte bundle costs the same as a
small one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.detect.sourcemap import mapping_url

HEAD_BYTES = 256 * 1024
LONG_LINE = 1000  # a hand-written line is shorter; a minifier writes whole modules on one

# bundler runtimes and chunk loaders (webpack, Next.js/Turbopack, Vite/Rollup, esbuild, Parcel,
# SystemJS, Metro/Expo) and the interop helpers they inline
_RUNTIME = re.compile(
    rb"__webpack_require__|__webpack_modules__|webpackChunk|__turbopack_|TURBOPACK|self\.__next_f"
    rb"|__vitePreload|__vite__mapDeps|modulepreload|__toESM\(|__commonJS\(|__export\(|parcelRequire"
    rb"|System\.register\(|__d\(function|__r\(\d|Object\.defineProperty\(exports,\s*[\"']__esModule"
)
# chunk loaders that only run in a browser (they push onto `self`/`window` or preload modules)
_BROWSER = re.compile(
    rb"\(self\.webpackChunk|self\.webpackChunk\w*\s*=|window\.webpackJsonp|self\.__next_f|__vitePreload"
    rb"|\.supports\(\s*[\"'`]modulepreload|TURBOPACK\s*=\s*self"
)
# a text that starts like a script (after a BOM, a license banner or a pragma)
_SCRIPT_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?\s*(?:/\*.*?\*/\s*|//[^\n]*\n\s*)*"
    rb"(?:\(\s*(?:function|\(\)\s*=>|async)|!function|[\"']use strict[\"']|(?:var|let|const)\s"
    rb"|import\s*[{*\"'\w]|export\s*[{*\w]|\((?:self|window|globalThis)\.|(?:self|window|globalThis)\."
    rb"|function[\s(]|async\s+function|\"use client\"|define\(|webpackJsonp)",
    re.S,
)
# Node built-ins imported by name: a browser bundler resolves or refuses them, so a literal one
# left in built code means the bundle runs on a server (or is a CLI)
_NODE_BUILTINS = (
    rb"fs|fs/promises|path|os|child_process|http|https|http2|net|tls|dgram|dns|cluster|worker_threads"
    rb"|readline|zlib|vm|v8|module|perf_hooks|async_hooks|inspector|repl|tty"
)
_NODE = re.compile(
    rb"\brequire\(\s*[\"'`](?:node:[a-z_/]+|(?:" + _NODE_BUILTINS + rb"))[\"'`]\s*\)"
    rb"|\bfrom\s*[\"'](?:node:[a-z_/]+|(?:" + _NODE_BUILTINS + rb"))[\"']"
    rb"|\bimport\(\s*[\"']node:[a-z_/]+[\"']\s*\)|\bcreateRequire\(\s*import\.meta\.url"
)


@dataclass(frozen=True, slots=True)
class Sniff:
    """What a text looks like: a script (by its first tokens), built by a bundler or minifier,
    and whether it targets Node."""

    script: bool = False
    bundle: bool = False
    node: bool = False
    browser: bool = False  # a browser-only chunk loader: client code whatever else it imports
    long_lines: bool = False
    source_map: bool = False  # ends with a sourceMappingURL comment


def longest_line(data: bytes) -> int:
    """Length in bytes of the longest line of `data` (LF, CR or CRLF)."""
    best = 0
    for line in data.replace(b"\r", b"\n").split(b"\n"):
        if len(line) > best:
            best = len(line)
    return best


def sniff(data: bytes) -> Sniff:
    """The verdict on one text: its head for the runtime, script start and Node imports, its
    tail for a sourceMappingURL comment."""
    head = data[:HEAD_BYTES]
    if b"\x00" in head[:4096]:  # binary or UTF-16: never a bundle a browser is served as JS
        return Sniff()
    tail = data[-4096:] if len(data) > HEAD_BYTES else b""
    long_lines = longest_line(head) > LONG_LINE
    source_map = mapping_url(data) is not None
    runtime = _RUNTIME.search(head) is not None or (bool(tail) and _RUNTIME.search(tail) is not None)
    script = _SCRIPT_START.match(head[:8192]) is not None
    node = head.startswith(b"#!") or _NODE.search(head) is not None
    browser = _BROWSER.search(head) is not None
    bundle = runtime or browser or (script and (long_lines or source_map))
    return Sniff(
        script=script or runtime,
        bundle=bundle,
        node=node,
        browser=browser,
        long_lines=long_lines,
        source_map=source_map,
    )
