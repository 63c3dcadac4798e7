"""The hyperscan engine and the pure-Python fallback must agree on every text."""

from __future__ import annotations

import functools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.detect.engine import Matcher
from scanner.model import Match
from scanner.rules.templates import expand
from tests.keys import rules


@functools.cache
def engines() -> tuple[Matcher, Matcher]:
    return Matcher(rules(), "hyperscan"), Matcher(rules(), "python")


@functools.cache
def pieces() -> tuple[str, ...]:
    """Keys of every rule, their prefixes and keywords, and noise that sits next to keys."""
    r = random.Random(99)
    out: list[str] = []
    for rule in rules():
        out.extend(expand(t, r) for t in rule.examples + rule.negative_examples)
        out.extend(rule.keywords)
        if rule.prefix:
            out.append(rule.prefix)
    out += [
        "\n",
        "\r\n",
        " ",
        "=",
        '"',
        "'",
        ":",
        "\\n",
        "\\u002d",
        "\\/",
        "keysweep:allow",
        "xxxx",
        "AA",
        "-",
        "_",
    ]
    return tuple(out)


def _key(m: Match) -> tuple[object, ...]:
    return (m.rule_id, m.start, m.end, m.secret, m.encoding, m.pragma, m.also_matched, m.confidence)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=40), st.binary(max_size=64))
def test_engines_agree(indexes: list[int], noise: bytes) -> None:
    ps = pieces()
    text = "".join(ps[i % len(ps)] for i in indexes).encode() + noise
    hs, py = engines()
    assert [_key(m) for m in hs.scan(text)] == [_key(m) for m in py.scan(text)]
