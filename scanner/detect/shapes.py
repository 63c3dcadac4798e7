"""Regex builders for keys a prefix does not identify (docs/rules-notes.md "Context").

A rule gives the shape of its secret (`value`) and the names that hold it (`variable`); the
loader builds two patterns from them:

- the **named** pattern: `NAME … = | : | := | => | ?? | || | , value`, where NAME holds the
  provider's name (`MISTRAL_API_KEY=…`, `mistralKey: "…"`, a k8s env list, a getenv default);
- the **slot** pattern: the value in a credential slot whose name says nothing about the
  provider (`api_key=`, `apiKey:`, `token:`, `"x-api-key": `, `Authorization: Bearer …`,
  `setApiKey(`, `option.WithToken(`), or as the first or second positional argument of a call
  whose callee names the provider or is one of its client constructors
  (`cohere.ClientV2("…")`, `mistral.NewMistralClientDefault("…")`).

A slot match names no provider by itself: the engine accepts it only with evidence nearby
(scanner/detect/evidence.py) — the enclosing call, the file's imports, the provider's API host.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# the assignment forms of keyword-gated rules (kept byte-for-byte: rules written before the
# builder existed spell the same pattern out)
ASSIGN = r"""\\?["']?\s{0,3}(?:=|:|:=|=>|\?\?|\|\||,|\r?\n\s{0,12}-?\s{0,3}value\s{0,2}:)\s{0,3}\\?["']?"""
VALUE_END = r"(?![A-Za-z0-9_+/=-])"

# credential-slot names: compound names ending in an API-key/token word (any identifier before
# it: `MY_API_KEY`, `openai.api_key`, `xi-api-key`), and a few whole words. `requestId`,
# `checksum`, `traceId`, `cacheKey`, `pageToken` are not slots.
_COMPOUND = (
    r"api[_.-]?key|api[_.-]?token|auth[_.-]?token|access[_.-]?token|secret[_.-]?key"
    r"|bearer[_.-]?token|subscription[_.-]?key|client[_.-]?secret"
)
_WORDS = (
    r"x-api-key|(?:with|set)_?(?:api_?key|api_?token|auth_?token|token|key|secret|credentials)"
    r"|key|token|secret|credentials|authorization"
)
CRED_NAME = rf"(?<![\w$-])(?:(?:[A-Za-z0-9$]{{1,40}}[_.-]?)?(?i:{_COMPOUND})|(?i:{_WORDS}))"
_SLOT_OP = r"""\\?["'`]?\s{0,3}(?::=|=>|=|:|\(|,)\s{0,3}\\?["'`]?(?:(?i:bearer|token|basic|key)\s{1,3})?"""
_ARG = r"""\\?["'`][^"'`\\\n]{0,100}\\?["'`]\s{0,3},\s{0,3}"""  # one string argument before the key


def named_pattern(variable: str, value: str) -> str:
    return rf"(?i:{variable})[\w.-]{{0,30}}?{ASSIGN}(?P<secret>{value}){VALUE_END}"


ANCHOR_SPAN = 200  # how far into a call an anchored credential slot may sit (bytes)
# what can stand right before a slot pattern's value (the end of _SLOT_OP, or a positional quote);
# consumed rather than looked behind, so that Python's regex engine can skip ahead to it
VALUE_START = r"""[\s"'`\\=:(,>]"""
_NAME_MAX = 57  # longest CRED_NAME match: 40 + 1 + a 16-character compound, or a word
_OP_MAX = 21  # longest _SLOT_OP match
_ARG_MAX = 111  # longest _ARG match


def anchored(accept: Sequence[str]) -> bool:
    """A rule that accepts only call evidence has its credential slots anchored at the call."""
    return set(accept) <= {"call", "near"}


def _callers(callees: Sequence[str], clients: Sequence[str], light: bool = False) -> list[str]:
    """Regexes of the provider's callees; `light` drops the leading identifier parts (a superset,
    cheaper for the hyperscan prefilter, which only needs where a match ends)."""
    out = []
    if callees:
        alt = "|".join(re.escape(c) for c in callees)
        out.append(rf"(?i:{alt})[\w$.:]{{0,40}}" if light else rf"[\w$.:]{{0,40}}(?i:{alt})[\w$.:]{{0,40}}")
    if clients:
        alt = "|".join(re.escape(c) for c in clients)
        out.append(rf"(?:{alt})" if light else rf"(?:[\w$]{{1,30}}[.:]{{1,2}}){{0,3}}(?:{alt})")
    return out


def _call(callees: Sequence[str], clients: Sequence[str], light: bool = False) -> str:
    callers = _callers(callees, clients, light)
    if not callers:
        return ""
    head = "" if light else r"(?<![\w$.:])(?:new\s{1,3})?"
    return rf"{head}(?:{'|'.join(callers)})\("


def _positional(callees: Sequence[str], clients: Sequence[str], light: bool = False) -> str:
    call = _call(callees, clients, light)
    return rf"""(?P<pos>{call}\s{{0,3}}(?:{_ARG})?\\?["'`])""" if call else ""


def slot_pattern(value: str, callees: Sequence[str], clients: Sequence[str], anchor: bool = False) -> str:
    """`value` in a credential slot, or as a positional argument of a provider's call.

    The positional branch carries the group `pos`; the callee is in the regex itself (so the
    prefilter fires only at the provider's calls) and checked again by the engine. `anchor`
    (rules that accept only call evidence, and whose value shape is common) puts the callee in
    front of the credential slot too: `Portkey(…, api_key="…")`, within ANCHOR_SPAN bytes."""
    call = _call(callees, clients)
    slot = rf"{CRED_NAME}{_SLOT_OP}"
    if anchor and call:
        slot = rf"{call}[^()]{{0,{ANCHOR_SPAN}}}?{slot}"
    branches = [slot]
    if call:
        branches.append(_positional(callees, clients))
    return rf"(?:{'|'.join(branches)})(?P<secret>{value}){VALUE_END}"


def prefix_max(callees: Sequence[str], clients: Sequence[str], anchor: bool) -> int:
    """An upper bound on how far before its value a slot match can start (bytes)."""
    term = max((len(c) for c in (*callees, *clients)), default=0)
    call = 6 + max(80 + term, 96 + term) + 1
    positional = call + 3 + _ARG_MAX + 2
    slot = _NAME_MAX + _OP_MAX + (call + ANCHOR_SPAN if anchor else 0)
    return max(slot, positional if (callees or clients) else 0)


# what hyperscan compiles states boundaries as characters (it does not take lookarounds): a bare
# word such as `key` or `token` is a whole name, and a value ends where its characters end
_WORD_START = r"(?:^|[^A-Za-z0-9_$-])"
_HS_END = r"(?:[^A-Za-z0-9_+/=-]|$)"
_HS_NAME = rf"(?:(?i:{_COMPOUND})|{_WORD_START}(?i:{_WORDS}))"


def prefilter_slots(value: str, callees: Sequence[str], clients: Sequence[str], anchor: bool) -> str:
    """What the hyperscan prefilter compiles for one rule's slot pattern: the rule's own call
    forms (positional, or anchored slots). Unanchored credential slots of every rule are one
    shared expression (`shared_slots`): the same name and operator prefix, once."""
    if anchor:
        call = _call(callees, clients, light=True)
        gap = ANCHOR_SPAN + 41  # the identifier before a compound name is inside the gap here
        name = rf"(?i:{_COMPOUND}|{_WORDS})"  # (no start anchor inside a pattern for hyperscan)
        pos = _positional(callees, clients, light=True)
        slots = rf"(?:{call}[^()]{{0,{gap}}}?{name}{_SLOT_OP}|{pos})"
        return rf"{slots}(?:{value}){_HS_END}" if call else ""
    pos = _positional(callees, clients, light=True)
    return rf"{pos}(?:{value}){_HS_END}" if pos else ""


def shared_slots(values: Sequence[str]) -> str:
    """Unanchored credential slots holding any of `values` (hyperscan, one expression)."""
    alt = "|".join(f"(?:{v})" for v in sorted(set(values)))
    return rf"{_HS_NAME}{_SLOT_OP}(?:{alt}){_HS_END}"
