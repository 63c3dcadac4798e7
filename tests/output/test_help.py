"""Rule help from the jinja2 templates: every provider has one, every rule's help has the four
steps each once and in order, the Markdown cannot be steered by the text it renders, and golden
files pin what a few rules say."""

from __future__ import annotations

import re

import jinja2
import pytest

from scanner.model import Confidence, Kind, Rule, Severity
from scanner.output.remediation import BASE_TEMPLATE, rule_help, template_for
from scanner.output.templating import (
    environment,
    md_code,
    md_link,
    md_rich,
    md_text,
    render,
    template_names,
)
from scanner.rules import load_rules
from tests.output_fixtures import RULES, check_golden, rule

STEPS = ("Revoke", "Rotate without downtime", "Move the key out of the code", "Clean history")
GOLDEN_RULES = (
    "openai.project-key",
    "anthropic.oauth-access-token",
    "aws.access-key-id",
    "supabase.service-role-key",
    "private-key.rsa",
    "database.connection-url",
)


def stand_in() -> Rule:
    return rule("acme.token", "Acme token", "acme", Severity.HIGH, Confidence.HIGH)


def exposure_rule() -> Rule:
    return next(r for r in RULES if r.kind is Kind.EXPOSURE)


def test_every_provider_has_its_template() -> None:
    providers = {r.provider for r in load_rules()}
    assert len(providers) >= 40
    missing = sorted(p for p in providers if f"remediation/{p}.md.j2" not in template_names())
    assert missing == []
    unused = sorted(
        name
        for name in template_names()
        if name.startswith("remediation/")
        and name != BASE_TEMPLATE
        and name.removeprefix("remediation/").removesuffix(".md.j2") not in providers
    )
    assert unused == []
    assert template_for(stand_in()) == BASE_TEMPLATE


def _numbered(text: str) -> list[str]:
    return re.findall(r"^(\d)\. ", text, flags=re.MULTILINE)


@pytest.mark.parametrize("r", [*load_rules(), stand_in(), exposure_rule()], ids=lambda r: r.id)
def test_each_step_once_and_in_order(r: Rule) -> None:
    help_ = rule_help(r)
    for text, strong in ((help_.markdown, "**{}**"), (help_.text, "{}")):
        assert _numbered(text) == ["1", "2", "3", "4"]
        steps = re.split(r"^(?:### )?References:?$", text, flags=re.MULTILINE)[0]
        items = re.split(r"^\d\. ", steps, flags=re.MULTILINE)[1:]
        assert len(items) == 4
        for step, item in zip(STEPS, items, strict=True):
            assert item.startswith(strong.format(step)), item[:60]
        if strong != "{}":  # in plain text a console's own "Revoke" button reads the same
            for step in STEPS:
                assert text.count(strong.format(step)) == 1, step
        revoke, rotate, move, clean = items
        if r.revoke_url:
            assert "".join(items).count(r.revoke_url) == 1 and r.revoke_url in revoke
        assert "filter-repo" in clean and all("filter-repo" not in s for s in (revoke, rotate, move))
        assert "history" not in rotate.lower() and "history" not in revoke.lower()
        assert not re.search(r"\bRevoke\b", rotate + move + clean)  # revoking is step 1's
    if r.kind is Kind.SECRET and "bundle" in r.contexts:
        assert "server-side proxy" in help_.markdown
    if r.references:
        assert all(f"<{ref}>" in help_.markdown for ref in r.references)


def test_help_matches_golden() -> None:
    by_id = {r.id: r for r in load_rules()}
    chosen = [by_id[rule_id] for rule_id in GOLDEN_RULES] + [exposure_rule(), stand_in()]
    parts = []
    for r in chosen:
        help_ = rule_help(r)
        parts += [f"===== {r.id} (markdown)", help_.markdown, f"===== {r.id} (text)", help_.text]
    check_golden("help.txt", "\n".join(parts) + "\n")


def test_the_rotate_step_no_longer_repeats_revoke_and_clean_history() -> None:
    """The old help wrapped the rule's whole remediation prose in its rotate step."""
    by_id = {r.id: r for r in load_rules()}
    r = by_id["openai.project-key"]
    assert "Finally clean history" in r.remediation  # the YAML prose holds all three steps ...
    assert "Finally clean history" not in rule_help(r).markdown  # ... the help does not echo it


# --- the environment ---------------------------------------------------------------------------


def test_undefined_values_fail() -> None:
    for markdown in (True, False):
        with pytest.raises(jinja2.UndefinedError):
            environment(markdown).from_string("{{ nope }}").render()
        with pytest.raises(jinja2.UndefinedError):
            render(BASE_TEMPLATE, markdown=markdown)


def test_markdown_escapes_what_it_renders() -> None:
    hostile = (
        "<img src=x onerror=alert(1)> [click](https://evil.example) *bold* | cell `tick` ##[x]\n::error::y"
    )
    text = md_text(hostile)
    assert not re.search(r"(?<!\\)[<\[\]|*`]", text)  # every Markdown character escaped
    assert "\n" not in text
    assert "\\<img" in text and "\\[click\\]" in text and "\\|" in text and "\\*bold\\*" in text
    code = md_code(hostile, cell=True)
    fence = re.match(r"`+", code)
    assert fence is not None and len(fence.group()) == 2  # longer than the value's own backtick run
    assert "\\|" in code and "\n" not in code
    assert md_code("`x`") == "`` `x` ``"
    assert md_rich("set `a|b` to <b>") == "set `a|b` to \\<b\\>"
    assert md_link("https://example.com/a b(c)") == "<https://example.com/a%20b%28c%29>"
    assert md_link("https://example.com/x", "label]") == "[label\\]](https://example.com/x)"
    escaped = environment(True).from_string("{{ value }}").render(value="<b>&</b>")
    assert escaped == "&lt;b&gt;&amp;&lt;/b&gt;"  # HTML autoescape for anything unfiltered


def test_hostile_rule_text_stays_text() -> None:
    r = rule(
        "acme.key",
        "Acme <script>alert(1)</script> key",
        "acme",
        Severity.HIGH,
        Confidence.HIGH,
        description="See [here](https://evil.example) and ![x](https://evil.example/p.png)",
        revoke_url="https://acme.example/keys?a=1&b=(2)",
    )
    markdown = rule_help(r).markdown
    assert not re.search(r"(?<!\\)<script", markdown) and not re.search(r"(?<!\\)\]\(https://evil", markdown)
    assert "\\<script\\>" in markdown
    assert "<https://acme.example/keys?a=1&b=%282%29>" in markdown
