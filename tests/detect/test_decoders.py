"""Decoders find the encoded token around a trigger and decode exactly what was written."""

from __future__ import annotations

import base64

from scanner.detect.decoders import TRIGGERS, _literal_bounds, layers, unescape


def test_literal_bounds_respects_escaped_quotes() -> None:
    data = b'x = "a\\"b\\u0041c" + y'
    i = data.index(b"\\u")
    lo, hi = _literal_bounds(data, i) or (0, 0)
    assert data[lo:hi] == b'a\\"b\\u0041c'


def test_literal_bounds_single_line_unless_template() -> None:
    assert _literal_bounds(b'"abc\n\\u0041"', 5) is None
    data = b"`line one\n\\u0041 two`"
    lo, hi = _literal_bounds(data, data.index(b"\\u")) or (0, 0)
    assert data[lo:hi] == b"line one\n\\u0041 two"


def test_unescape_joins_surrogates_and_slashes() -> None:
    assert unescape(rb"a\/b\u002dc\ud83d\ude00\x41\n") == "a/b-c\U0001f600A\n".encode()


def test_escape_layer_located_at_the_literal() -> None:
    data = b'const k = "ab\\u002dcd";'
    [layer] = layers(data, frozenset({"escape"}))
    assert layer.text == b"ab-cd"
    assert data[layer.start : layer.end] == b"ab\\u002dcd"
    assert layer.encoding == "js-escape"


def test_base64_only_in_a_secret_data_block() -> None:
    value = base64.b64encode(b"some configuration value").decode()
    secret = f"apiVersion: v1\nkind: Secret\ndata:\n  TOKEN: {value}\nother:\n  X: {value}\n".encode()
    found = layers(secret, frozenset({"k8s-secret"}))
    assert [(x.text, x.encoding) for x in found] == [(b"TOKEN=some configuration value", "base64")]
    configmap = secret.replace(b"kind: Secret", b"kind: ConfigMap")
    assert layers(configmap, frozenset()) == []


def test_docker_auths_decoded() -> None:
    auth = base64.b64encode(b"user:some-registry-password").decode()
    data = f'{{"auths": {{"ghcr.io": {{"auth": "{auth}"}}}}}}'.encode()
    [layer] = layers(data, frozenset({"docker-auths"}))
    assert layer.text == b"auth=user:some-registry-password"


def test_triggers_are_valid_regexes() -> None:
    import re

    for name, rx in TRIGGERS.items():
        assert re.compile(rx), name
