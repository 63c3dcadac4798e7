"""A rule's help: what the key is and the four steps (revoke, rotate without downtime, move the key
out of the code, clean history), each once, from `scanner/templates/remediation/`.

A provider's template (`remediation/<provider>.md.j2`) holds what is particular to it — where a
key is revoked and what to check, what the replacement is, how a leak is bounded — and extends
`_steps.md.j2`, which holds the steps themselves. A rule whose provider has no template (a
stand-in for an unknown rule) gets the steps alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scanner.model import Kind, Rule
from scanner.output.templating import render, template_names

BASE_TEMPLATE = "remediation/_steps.md.j2"
_PROVIDER = re.compile(r"[a-z0-9][a-z0-9-]*")
CLIENT_CONTEXTS = frozenset({"bundle"})
"""Rule contexts that say apps put such keys in browser or mobile code (a server-side proxy is the fix)."""


@dataclass(frozen=True, slots=True)
class RuleHelp:
    """SARIF `help`: Markdown (which GitHub shows) and the same as plain text."""

    text: str
    markdown: str


def template_for(rule: Rule) -> str:
    """The template for `rule`'s help: its provider's, or the steps alone."""
    if _PROVIDER.fullmatch(rule.provider):
        name = f"remediation/{rule.provider}.md.j2"
        if name in template_names():
            return name
    return BASE_TEMPLATE


def rule_help(rule: Rule) -> RuleHelp:
    """The help of `rule`, rendered as Markdown and as plain text."""
    name = template_for(rule)
    values = {
        "rule": rule,
        "client_side": rule.kind is Kind.EXPOSURE or bool(CLIENT_CONTEXTS & set(rule.contexts)),
    }
    markdown = render(name, markdown=True, **values).strip()
    text = render(name, markdown=False, **values).strip()
    return RuleHelp(text=text, markdown=markdown)
