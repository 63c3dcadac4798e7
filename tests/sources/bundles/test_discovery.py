"""Discovery of client output by path and by content (scanner/sources/bundles.py,
scanner/detect/bundle.py) and the redacted assignment context (scanner/detect/context.py)."""

from __future__ import annotations

import random

import pytest

from scanner.detect.bundle import Sniff, sniff
from scanner.detect.context import assigned_to, construct
from scanner.rules.templates import expand
from scanner.sources.bundles import build_output, client_dir, hashed_chunk, is_client, roots_in, server_path

BROWSER = Sniff(script=True, bundle=True)
PLAIN = Sniff(script=True)
NODE = Sniff(script=True, bundle=True, node=True)

CLIENT = [
    ".next/static/chunks/app/page-3f2a1c9b8d7e6f50.js",
    "apps/web/.next/static/chunks/main.js",
    "out/_next/static/chunks/webpack.js",
    "dist/assets/index.js",
    "build/static/js/main.js",
    "build/client/assets/root.js",
    ".output/public/_nuxt/entry.js",
    ".svelte-kit/output/client/_app/immutable/start.js",
    "public/build/root.js",
    "dist/_expo/static/js/web/entry.js",
    "dist/my-app/browser/main.js",
    "public/app.js",
    "storybook-static/main.js",
    "dist/assets/index.js.map",
    "out/index.html",
    "public/page-data/index/page-data.json",
    "vendor/lib.min.js",
    "static/main.3f2a1c9b.js",
    "assets/index-BxY7kz1Q.js",
    "static/js/787.8c1b5f3a.chunk.js",
]
NOT_CLIENT = [
    ".next/server/app/page.js",
    "dist/server/entry.mjs",
    "dist/my-app/server/main.js",
    ".output/server/index.mjs",
    "build/server/index.js",
    ".svelte-kit/output/server/index.js",
    "src/app.js",
    "src/my-reducers.js",  # eight letters, not a hash
    "lib/config.json",
    "dist/README.md",
    "build/lib/pkg/module.py",
]


@pytest.mark.parametrize("path", CLIENT)
def test_client_paths(path: str) -> None:
    assert is_client(path.encode(), lambda: PLAIN)


@pytest.mark.parametrize("path", NOT_CLIENT)
def test_not_client_paths(path: str) -> None:
    assert not is_client(path.encode(), lambda: PLAIN)


def test_content_decides_scripts_outside_client_folders() -> None:
    assert is_client(b"static/app.js", lambda: BROWSER)
    assert not is_client(b"static/app.js", lambda: PLAIN)
    assert not is_client(b"dist/cli.js", lambda: NODE)  # a client folder by name, Node by content
    assert not is_client(b"static/app.css", lambda: BROWSER)
    assert not is_client(b".next/server/x.js", lambda: BROWSER)  # the path says server
    # a stray Node import does not unmake a framework's static chunk or a browser chunk loader
    assert is_client(b".next/static/chunks/1.js", lambda: NODE)
    assert is_client(b"dist/assets/index-Bx3k9aZq.js", lambda: NODE)
    assert is_client(b"dist/main.js", lambda: Sniff(script=True, bundle=True, node=True, browser=True))


def test_bundles_dirs_are_client_folders() -> None:
    assert client_dir(b"site/assets/a.js", [b"site"])
    assert is_client(b"site/data.json", lambda: PLAIN, [b"site"])
    assert is_client(b"site/entry", lambda: PLAIN, [b"site"])  # a script by content, no extension
    assert not is_client(b"site/entry", lambda: Sniff(), [b"site"])
    assert not is_client(b"sites/a.json", lambda: PLAIN, [b"site"])


def test_server_and_hashed_names() -> None:
    assert server_path(b"apps/web/.next/server/chunks/1.js")
    assert not server_path(b".next/static/server.js")  # a file named server is not a folder
    assert hashed_chunk(b"main.min.js") and hashed_chunk(b"index-DiwrgT2a.js")
    assert not hashed_chunk(b"index-Diwrgtda.js")  # no digit: likely a word
    assert not hashed_chunk(b"deadbeef.js")


def test_ignored_folders_the_working_tree_reads() -> None:
    assert roots_in(b"dist") == [b"dist"]
    assert roots_in(b"apps/web/dist") == [b"apps/web/dist"]
    assert roots_in(b".next") == [b".next/server", b".next/static"]
    assert roots_in(b".svelte-kit") == [b".svelte-kit/output"]
    assert roots_in(b".cache") == []
    assert roots_in(b"tmp", [b"tmp/site"]) == [b"tmp/site"]
    assert build_output(b"dist/x.txt") and build_output(b"a/b.min.js")
    assert not build_output(b".next/cache/webpack/x.pack")


# --- content -------------------------------------------------------------------------------------


def test_sniff_runtime_long_lines_and_source_map() -> None:
    webpack = b"(self.webpackChunk_N_E=self.webpackChunk_N_E||[]).push([[1],{1:function(e,t,n){n.d(t,{})}}]);"
    assert sniff(webpack).bundle and not sniff(webpack).node
    assert sniff(webpack).browser
    vite = b"(function(){let e=document.createElement(`link`).relList;if(e&&e.supports&&e.supports(`modulepreload`))return})();"
    assert sniff(vite).browser and sniff(vite).bundle
    minified = b'!function(){var e="' + b"a" * 1200 + b'";console.log(e)}();'
    assert sniff(minified).bundle and sniff(minified).long_lines
    mapped = b"(()=>{console.log(1)})();\n//# sourceMappingURL=app.js.map\n"
    assert sniff(mapped).bundle and sniff(mapped).source_map
    hand = b"// a module\nexport const x = 1;\n"
    assert sniff(hand).script and not sniff(hand).bundle
    assert sniff(b"#!/usr/bin/env node\nconsole.log(1)\n").node
    assert sniff(b'"use strict";var fs=require("fs");').node
    assert sniff(b'import{createRequire}from"module";').node
    assert not sniff(b'(()=>{fetch("/api/fs")})();').node
    assert sniff(b"\xff\xfea\x00b\x00") == Sniff()
    assert not sniff(b"key: value\n" * 10).script


def test_sniff_reads_the_tail_of_a_big_bundle() -> None:
    big = b"(()=>{" + b"var a=1;\n" * 200_000 + b"})();\n//# sourceMappingURL=x.js.map"
    assert sniff(big).source_map and sniff(big).bundle


# --- the assignment context ----------------------------------------------------------------------

CONTEXTS = [
    ('new X({apiKey:"', "apiKey: …"),
    ("apiKey:`", "apiKey: …"),
    ("OPENAI_API_KEY=", "OPENAI_API_KEY = …"),
    ('export OPENAI_API_KEY="', "OPENAI_API_KEY = …"),
    ('"openai_key": "', "openai_key: …"),
    ('headers:{"x-api-key":"', "x-api-key: …"),
    ('{Authorization:"Bearer ', "Authorization: Bearer …"),
    ('h.set("x-api-key","', "x-api-key, …"),
    ('client.setKey("', "client.setKey(…)"),
    ("https://x.invalid/?key=", "key = …"),
    ('{"apiKey\\":\\"', "apiKey: …"),
    ('["abc","', None),  # a list item
    ("console.log(", None),  # a bare argument
    ("just text ", None),
]


@pytest.mark.parametrize(("before", "want"), CONTEXTS)
def test_assigned_to(before: str, want: str | None) -> None:
    data = before.encode() + b"VALUEVALUEVALUE"
    assert assigned_to(data, len(before.encode())) == want


def test_a_name_that_looks_like_a_value_is_never_shown() -> None:
    for name in ("a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", "tok-Ab3dEf5hIj7lMn9pQr1tUv3x", "x" * 70):
        before = f'{{"{name}":"'.encode()
        assert assigned_to(before + b"VALUE", len(before)) is None


def test_a_name_cut_from_a_token_or_shaped_like_a_key_or_matched_is_never_shown() -> None:
    r = random.Random(5)
    body = expand("{b64:28}", r)
    for before in (
        f"{body}/FA1NWoiiSYWPrAB: ",  # the tail of a base64 secret after its last '/'
        f"{body}+apiKeyValue: ",  # even when the tail reads as words
        f'"{body}\\/apiKeyValue": "',  # or its '/' is JSON-escaped
        "zgVLCU8RAIQxBr9OU7vB: ",  # digit runs and one- or two-letter words
        "WZLesXhrpJuqmShwynCB: ",  # Capitalized words with no vowel
        "QWRTZKPLMNBVCXSDFG: ",  # a long run of letters with few vowels
    ):
        data = before.encode()
        assert assigned_to(data + b"VALUE", len(data)) is None, before
    data = b"prod.myApiKey: "  # a name a rule matched (the engine passes the spans it found)
    assert assigned_to(data + b"VALUE", len(data)) == "prod.myApiKey: …"
    assert assigned_to(data + b"VALUE", len(data), [(7, 9)]) is None
    assert assigned_to(data + b"VALUE", len(data), [(15, 20)]) == "prod.myApiKey: …"
    for before, want in (
        ("//apiKey: ", "apiKey: …"),  # a comment's slashes are no token
        ("+OPENAI_API_KEY=", "OPENAI_API_KEY = …"),  # nor a diff's plus
        ("clientId: ", "clientId: …"),
        ("userDbUrl = ", "userDbUrl = …"),
        ("AZURE_OPENAI_API_KEY_V2=", "AZURE_OPENAI_API_KEY_V2 = …"),
    ):
        data = before.encode()
        assert assigned_to(data + b"VALUE", len(data)) == want


def test_construct_is_squashed_and_clipped() -> None:
    assert construct("dangerouslyAllowBrowser :\n  true") == "dangerouslyAllowBrowser : true"
    assert len(construct("x" * 200)) == 80
