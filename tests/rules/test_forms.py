"""Keyword-gated rules in the assignment forms real code uses, beyond the context matrix."""

from __future__ import annotations

import random

import pytest

from scanner.detect.engine import Matcher
from scanner.model import Rule
from scanner.rules.templates import expand
from tests.keys import rules

GATED = [r for r in rules() if not r.prefix and r.example_name and r.example_name != "API_TOKEN"]

FORMS = {
    "k8s-env-list": 'env:\n  - name: {name}\n    value: "{key}"\n',
    "k8s-env-list-bare": "        - name: {name}\n          value: {key}\n",
    "js-nullish": "const k = process.env.{name} ?? '{key}';\n",
    "js-or": 'const k = process.env.{name} || "{key}";\n',
    "py-getenv-default": 'key = os.getenv("{name}", "{key}")\n',
    "compose-list": "    environment:\n      - {name}={key}\n",
}


@pytest.mark.parametrize("engine", ["hyperscan", "python"])
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("rule", GATED, ids=lambda r: r.id)
def test_gated_rule_finds_key_in_form(
    rule: Rule, form: str, engine: str, matchers: dict[str, Matcher]
) -> None:
    key = expand(rule.examples[0], random.Random(rule.id))
    text = FORMS[form].format(name=rule.example_name, key=key).encode()
    found = [m for m in matchers[engine].scan(text) if m.secret == key]
    assert [m.rule_id for m in found] == [rule.id]
    assert text[found[0].start : found[0].end].decode() == key


@pytest.fixture(scope="module")
def matchers() -> dict[str, Matcher]:
    return {e: Matcher(rules(), e) for e in ("hyperscan", "python")}
