"""Keyword-gated keys where minification renamed the keyword away (issue 10, llm-keys.md §3.2).

A prefix-less rule (Mistral, Cohere, Deepgram, …) finds its key as the value of a setting whose
name says the provider (`MISTRAL_API_KEY = …`). In a bundle that name is gone: the key sits in
`apiKey:"…"` or an `Authorization` header, and what survives of the provider is its API host
(`api.mistral.ai`) in the client code that calls it. A rule that lists `hosts` therefore gets a
second form here: its own secret body as the quoted value of a generic key property, accepted
only with one of the hosts within `host_window` bytes (the engine's context check). Both forms
carry the rule's id, so a key is one finding however it was found.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

from scanner.model import Rule

# the properties and headers a minifier keeps (string keys and property names are never renamed)
PROPERTY = (
    r"(?<![A-Za-z0-9_$-])(?i:api[_-]?key|x-api-key|xi-api-key|access[_-]?token|auth[_-]?token|authorization)"
    r"\\?[\"'`]?\s{0,3}[:=,]\s{0,3}\\?[\"'`](?:(?i:bearer|token|key|basic)\s{1,3})?"
)
CLOSE = r"\\?[\"'`]"


def secret_group(pattern: str) -> str | None:
    """The text of the `(?P<secret>…)` group of `pattern`, balanced, or None."""
    start = pattern.find("(?P<secret>")
    if start < 0:
        return None
    depth = 0
    i = start
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # a literal ] first in a class
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return pattern[start : i + 1]
        i += 1
    return None


def host_forms(rules: Iterable[Rule]) -> Iterator[Rule]:
    """The generic-property form of every rule that lists hosts (same id, hosts as its context),
    unless the rule's context model already accepts its hosts as evidence for any credential slot."""
    for r in rules:
        if not r.hosts or "host" in r.accept:
            continue  # a rule that accepts host evidence finds these forms itself (detect/evidence.py)
        body = secret_group(r.pattern)
        if body is None:
            continue
        yield replace(
            r,
            pattern=PROPERTY + body + CLOSE,
            keywords=r.hosts,
            context=r.hosts,
            context_window=r.host_window,
            hosts=(),
            # its own form only: the context model's slot pattern stays with the rule itself
            accept=("near",),
            variable="",
            value="",
            slot_pattern="",
            callees=(),
            clients=(),
            imports=(),
        )
