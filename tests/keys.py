"""Fake keys for tests, built at run time from the rules' example templates with a seeded RNG."""

from __future__ import annotations

import base64
import functools
import json
import random

from scanner.detect.engine import Matcher
from scanner.model import Rule
from scanner.rules import load_rules
from scanner.rules.templates import expand


@functools.cache
def rules() -> tuple[Rule, ...]:
    return load_rules()


def rule(rule_id: str) -> Rule:
    return next(r for r in rules() if r.id == rule_id)


def make_key(rule_id: str = "openai.project-key", seed: int = 0, example: int = 0) -> str:
    """A fresh fake key that `rule_id` detects; same seed, same key."""
    return expand(rule(rule_id).examples[example], random.Random(f"{rule_id}:{seed}"))


def leak_windows(secret: str, skip: int = 0, width: int = 8) -> set[str]:
    """Every `width`-character window of the secret's random part, raw, base64 and JSON-escaped.

    A base64 window is taken of each aligned 6-byte slice, which encodes to 8 characters that
    must appear verbatim in any base64 of text containing it at that alignment.
    """
    body = secret[skip:]
    out = {body[i : i + width] for i in range(len(body) - width + 1)}
    out |= {json.dumps(w)[1:-1] for w in list(out)}
    raw = body.encode()
    for align in range(3):
        chunk = raw[align:]
        enc = base64.b64encode(chunk[: len(chunk) // 3 * 3]).decode()
        out |= {enc[i : i + width] for i in range(0, len(enc) - width + 1, 4)}
    return out


@functools.cache
def matcher(engine: str = "hyperscan") -> Matcher:
    """One compiled matcher per engine for the whole test session (compiling costs ~0.5 s)."""
    return Matcher(rules(), engine)


def found(engine: str, text: str) -> list[tuple[str, str | None]]:
    """(rule id, secret) of every match in `text`, in the engine's order."""
    return [(m.rule_id, m.secret) for m in matcher(engine).scan(text.encode())]
