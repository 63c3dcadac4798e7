"""The credential-slot detector's fast paths agree with the forms they stand in for (issue 20's
cost): the tail-checked name forms with their one alternation, the prefilter's widened
expression with the exact one, the value pre-check with judge."""

from __future__ import annotations

import random
import re

import hyperscan
import pytest

from scanner.detect.slots import (
    _OTHER_NAME,
    HS_VALUE,
    _other_name,
    hs_expression,
    judge,
    value_class,
)
from scanner.rules.templates import expand
from tests.keys import rules


def _reference(window: bytes) -> str | None:
    m = _OTHER_NAME.search(window)
    if m is None:
        return None
    return (m.group("flag") or m.group("env") or m.group("typed") or m.group("k8s")).decode(
        "ascii", "replace"
    )


def _texts() -> list[bytes]:
    r = random.Random("names")
    value = expand("{alnum:30}", r)
    heads = [
        "ENV SERVICE_TOKEN ",
        "ARG API_KEY=",
        "  RUN tool --api-key ",
        "tool --token=",
        "tool -t '",
        "const key = process.env.OPENAI_API_KEY ?? '",
        "x = env.TOKEN || `",
        'let speechKey: string = "',
        "private readonly apiKey : Map<string> = '",
        "env:\n  - name: SERVICE_TOKEN\n    value: ",
        "env:\n  - name: 'SERVICE_TOKEN'\n    - value:   \"",
        "key: value\n",
        "a = b ?? c = '",
        "abc`",
        '--x="',
        "x ||\t'",
        "name: X\r\nvalue:`",
        "",
        "=",
        " ",
        "'",
        "\"'",
    ]
    return [f"{pad}{h}".encode() for h in heads for pad in ("", "word " * 30, expand("{alnum:150}", r))] + [
        value.encode()
    ]


def test_other_name_is_the_alternations_leftmost_match() -> None:
    """Every prefix of every text (each form, each quote, each tail, forms competing in one
    window): the same name as the alternation searched whole."""
    seen = 0
    for text in _texts():
        for k in range(len(text) + 1):
            window = text[max(0, k - 160) : k]
            want = _reference(window)
            assert _other_name(window) == want, window
            seen += want is not None
    assert seen > 100  # the forms were exercised, not only their misses


def _exact(pattern: str) -> str:
    return re.sub(r"\(\?P<[A-Za-z_]\w*>", "(", pattern[: pattern.index("(?P<secret>")]) + HS_VALUE


def _ends(expression: str, text: bytes) -> set[int]:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(expressions=[expression.encode()], ids=[0], flags=[0])
    ends: set[int] = set()
    db.scan(text, match_event_handler=lambda _i, _f, to, _fl, _c: ends.add(to))
    return ends


def test_the_prefilter_expression_only_widens_the_exact_one() -> None:
    """The widened expression has no bounded repeat of 4 or more left (hyperscan's pass costs a
    third less), and reports every end the exact expression reports."""
    pattern = next(r for r in rules() if r.id == "generic.credential").pattern
    widened = hs_expression(pattern)
    assert not [m for m in re.finditer(r"\{(\d+),(\d+)\}", widened) if int(m.group(2)) >= 4]
    r = random.Random("widened")
    name = "Secret" + expand("_{lower:9}" * 4, r)
    text = "\n".join(
        [
            f'{{\\"{name}\\":   \\"Bearer   {expand("{alpha:40}", r)}7{expand("{alnum:20}", r)}\\"}}',
            f'const {name}: {expand("{lower:30}", r)}   =   "{expand("{alnum:30}", r)}";',
            f"env:\n  - name: SERVICE_TOKEN\n{' ' * 12}value:  '{expand('{alnum:24}', r)}'",
            f"API_KEY={expand('{hex:40}', r)} token = {expand('{digits:12}', r)}x auth: x9",
            f"ENV SERVICE_TOKEN {expand('{b64url:36}', r)}",
        ]
    ).encode()
    exact = _ends(_exact(pattern), text)
    assert len(exact) >= 5
    assert exact <= _ends(widened, text)


@pytest.mark.parametrize("seed", range(4))
def test_the_value_precheck_drops_only_what_judge_drops(seed: int) -> None:
    """The engine drops a slot value whose value_class is None before it becomes a candidate:
    judge returns None for every such value under any name."""
    r = random.Random(seed)
    values = ["max-age=60", "lgpl-3.0", "oauth2_headers", "my-service-name-v2", expand("{hex:16}", r)]
    values += [expand("{lower:10}", r) + str(seed), "${SECRET_VALUE_2}", "process.env.TOKEN_1"]
    for v in values:
        assert value_class(v, password=True) is None
        data = f"API_KEY = '{v}'\n".encode()
        assert judge(data, data.index(v.encode()), v) is None
