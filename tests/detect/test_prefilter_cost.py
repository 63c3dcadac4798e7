"""The hyperscan prefilter's cost levers keep every match (docs/rules-notes.md "Cost").

- `hs_pattern` cuts a pattern after its last required piece (trailing lookaheads, optional
  padding, the last repeat at its minimum): one event per token instead of one per character;
- a rule whose shape has no literal to anchor on and whose matches all need evidence is looked
  for by its evidence terms (`evidence_gate`), and a text holding one is tried whole.
"""

from __future__ import annotations

import random
import re

import pytest

from scanner.detect.prefilter import HyperscanPrefilter, evidence_gate, hs_pattern, hyperscan
from tests.keys import found, make_key, matcher, rule, rules

needs_hs = pytest.mark.skipif(hyperscan is None, reason="hyperscan not installed")


def test_hs_pattern_cuts_after_the_last_required_piece() -> None:
    assert (
        hs_pattern(r"(?P<secret>ops_eyJ[A-Za-z0-9+/_-]{100,1990}(?:==?)?)") == "(ops_eyJ[A-Za-z0-9+/_-]{100})"
    )
    assert hs_pattern(r"(?P<secret>dapi[a-f0-9]{32}(?:-[0-9])?)(?![A-Za-z0-9])") == "(dapi[a-f0-9]{32})"
    # two trailing lookaheads, one with nested groups
    assert hs_pattern(r"(?:A|B)_KEY[A-Z0-9_]{1,100}(?![\w$])(?![ \t]*=(?:(?:https?)://|(?:true|[01])$))") == (
        "(?:A|B)_KEY[A-Z0-9_]{1}"
    )
    assert hs_pattern(r"x[=]?") == "x"  # an optional class
    assert hs_pattern(r"ab\]?") == r"ab\]?"  # an escaped bracket is no class: kept
    assert hs_pattern(r"(?:a|b)c{2,}") == "(?:a|b)c{2}"


def _texts() -> list[tuple[str, str]]:
    """(rule id, text) for every example of every built-in rule, as written in an env file."""
    out = []
    for r in rules():
        for k in range(len(r.examples)):
            name = r.example_name or "SOME_API_KEY"
            out.append((r.id, f"{name}={make_key(r.id, seed=3, example=k)}\n"))
    return out


def test_every_full_match_starts_with_a_match_of_the_cut_form() -> None:
    """The cut form, tried where the full pattern matches, matches and ends no later: the
    prefilter's region around that end still holds the match (same ids, same findings)."""
    by_id = {r.id: r for r in rules()}
    checked = 0
    for rid, text in _texts():
        r = by_id[rid]
        full = re.compile(r.pattern)
        cut = re.compile(hs_pattern(r.pattern))
        for m in full.finditer(text):
            c = cut.match(text, m.start())
            assert c is not None and c.end() <= m.end(), (rid, hs_pattern(r.pattern))
            checked += 1
    assert checked > 250


@needs_hs
def test_one_event_per_padded_token_not_one_per_character() -> None:
    """A base64 token whose pattern ends with optional padding: before the cut, hyperscan
    reported an end at every character past the repeat's minimum (1,455 events on the corpus
    tree for a handful of 1Password tokens)."""
    i = next(k for k, r in enumerate(rules()) if r.id == "onepassword.service-account-token")
    key = make_key("onepassword.service-account-token", seed=5)
    assert len(key) > 150
    prefilter = matcher("hyperscan").prefilter
    assert isinstance(prefilter, HyperscanPrefilter)
    events: list[int] = []
    prefilter._db.scan(
        f"OP_SERVICE_ACCOUNT_TOKEN={key}\n".encode(), match_event_handler=lambda rid, *_: events.append(rid)
    )
    assert events.count(i) == 1


def test_evidence_gate_only_for_shapes_without_a_literal() -> None:
    assert evidence_gate(rule("mailgun.api-key")) == ("mailgun",)
    assert evidence_gate(rule("openai.project-key")) == ()  # its own prefix anchors it
    assert evidence_gate(rule("generic.credential")) == ()
    # every gated rule needs evidence for each of its matches: no bare tie, terms for each kind
    for r in rules():
        if evidence_gate(r):
            assert r.accept and "bare" not in r.accept and not r.slot_pattern


@needs_hs
def test_a_gated_rule_is_tried_only_where_its_evidence_is() -> None:
    key = make_key("mailgun.api-key", seed=1, example=1)
    i = next(k for k, r in enumerate(rules()) if r.id == "mailgun.api-key")
    prefilter = matcher("hyperscan").prefilter
    without = f"deploy:\n  id: {key}\n".encode()
    assert [h for h in prefilter.hits(without)[0] if h.rule == i] == []
    text = f"# Mailgun\nconfig:\n  id: {key}\n"
    assert [(h.lo, h.hi) for h in prefilter.hits(text.encode())[0] if h.rule == i] == [(0, len(text))]


@pytest.mark.parametrize("engine", ["hyperscan", "python"])
@pytest.mark.parametrize("example", [0, 1])
def test_gated_rule_found_by_both_engines(engine: str, example: int) -> None:
    if engine == "hyperscan" and hyperscan is None:
        pytest.skip("hyperscan not installed")
    rng = random.Random(example)
    key = make_key("mailgun.api-key", seed=rng.randrange(1000), example=example)
    filler = "x = 1\n" * 300  # the term far from the key: a whole text is tried
    text = f"import mailgun\n{filler}MAILGUN_API_KEY = '{key}'\n"
    assert ("mailgun.api-key", key) in found(engine, text)
    assert not [f for f in found(engine, f"{filler}DEPLOY_ID = '{key}'\n") if f[0] == "mailgun.api-key"]
