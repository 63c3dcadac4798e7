"""The rule table, as `keysweep rules` prints it and as README.md embeds it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from scanner.model import Rule


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(rules: Sequence[Rule]) -> str:
    """A Markdown table: one row per rule, sorted by id."""
    rows = [
        "| id | name | severity | confidence | prefix | validator |",
        "|---|---|---|---|---|---|",
    ]
    for r in sorted(rules, key=lambda r: r.id):
        prefix = f"`{r.prefix}`" if r.prefix else ("keyword: " + ", ".join(f"`{k}`" for k in r.keywords))
        rows.append(
            f"| `{r.id}` | {_cell(r.name)} | {r.severity.value} | {r.confidence.value} | {_cell(prefix)} | "
            f"{r.validator or ''} |"
        )
    return "\n".join(rows) + "\n"


def render_text(rules: Sequence[Rule]) -> str:
    width = max((len(r.id) for r in rules), default=2)
    lines = [f"{'ID'.ljust(width)}  {'SEVERITY':8}  {'CONF':6}  NAME"]
    lines += [f"{r.id.ljust(width)}  {r.severity.value:8}  {r.confidence.value:6}  {r.name}" for r in rules]
    lines.append(f"{len(rules)} rules")
    return "\n".join(lines) + "\n"


def render_json(rules: Sequence[Rule]) -> str:
    return (
        json.dumps(
            [
                {
                    "id": r.id,
                    "name": r.name,
                    "provider": r.provider,
                    "kind": r.kind.value,
                    "severity": r.severity.value,
                    "confidence": r.confidence.value,
                    "prefix": r.prefix,
                    "keywords": list(r.keywords),
                    "validator": r.validator,
                    "revoke_url": r.revoke_url,
                }
                for r in rules
            ],
            indent=2,
        )
        + "\n"
    )
