"""SARIF's rule descriptors (`tool.driver.rules`): every rule of the ruleset, sorted by id, with
its names, help (from `scanner/templates/remediation/`), default level, precision and
`security-severity` (github.md §1.2). Split from `sarif.py`, which builds the results.
"""

from __future__ import annotations

import re
from typing import Any, assert_never

from scanner.model import Confidence, Finding, Report, Rule
from scanner.output.remediation import rule_help
from scanner.output.severity import severity_level

MAX_DESCRIPTION = 1024
"""GitHub's limit on `shortDescription.text` and `fullDescription.text`."""
MAX_NAME = 255
_ARTICLES = frozenset({"a", "an", "the"})


def rule_table(report: Report) -> list[Rule]:
    """Every rule of the ruleset, sorted by id, plus a stand-in for any finding's unknown rule."""
    rules = {rule.id: rule for rule in report.rules}
    for finding in report.findings:
        if finding.rule_id not in rules:
            rules[finding.rule_id] = _stand_in_rule(finding)
    return [rules[rule_id] for rule_id in sorted(rules)]


def _stand_in_rule(finding: Finding) -> Rule:
    return Rule(
        id=finding.rule_id,
        name=finding.rule_id,
        provider=finding.provider,
        pattern="",
        max_length=0,
        keywords=(),
        severity=finding.severity,
        confidence=finding.confidence,
        kind=finding.kind,
        revoke_url=finding.remediation_url,
    )


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    """`tool.driver.rules[]`: the rule's names, help, default level, tags and severity."""
    levels = severity_level(rule.severity)
    help_ = rule_help(rule)
    title = rule.name or rule.id
    description = " ".join((rule.description or title).split())
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": friendly_name(title),
        "shortDescription": {"text": _clip(title, MAX_DESCRIPTION)},
        "fullDescription": {"text": _clip(description, MAX_DESCRIPTION)},
        "help": {"text": help_.text, "markdown": help_.markdown},
    }
    if rule.references:
        descriptor["helpUri"] = rule.references[0]
    return descriptor | {
        "defaultConfiguration": {"level": levels.level},
        "properties": {
            "tags": ["security", "secret", rule.provider],
            "precision": precision(rule.confidence),
            "security-severity": levels.security_severity,
        },
    }


def friendly_name(title: str) -> str:
    """SARIF's "friendly name": the rule title in strict PascalCase (`OpenAiProjectApiKey`).

    The Multitool (SARIF2012) wants one capital per word and no one-letter word, so acronyms are
    folded, articles dropped and a lone letter joined to the next word (`OAuth` → `Oauth`,
    `xAI` → `Xai`).
    """
    found = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", title)
    words = [w for w in found if w.lower() not in _ARTICLES] or found
    joined: list[str] = []
    for word in words:
        if joined and len(joined[-1]) == 1:
            joined[-1] += word.lower()
        else:
            joined.append(word)
    name = "".join(word.capitalize() for word in joined) or "Rule"
    if name[0].isdigit():
        name = "Rule" + name
    return name[:MAX_NAME]


def precision(confidence: Confidence) -> str:
    """GitHub's `properties.precision` for a rule of this confidence."""
    match confidence:
        case Confidence.HIGH:
            return "high"
        case Confidence.MEDIUM:
            return "medium"
        case Confidence.LOW:
            return "low"
        case _:
            assert_never(confidence)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
