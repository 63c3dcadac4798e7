"""A finding below its rule's severity always says why, and only when the reason holds.

An AWS access key ID is a credential with its secret access key near it, under whatever name and
in whatever syntax the pair is written (every form of the context matrix, the key's secret first
or second, both engines); without it, it is low and says so. A value that its own comment calls
fake is never dropped: a key whose structure is verified offline (a passing checksum, OpenAI's
marker, a decoded payload) keeps its rule's severity; any other is low, and every output says
why. Keys are built at run time from templates with a seeded RNG.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from scanner.config import ScanConfig
from scanner.detect.engine import Matcher
from scanner.detect.filters import SAID_FAKE
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Kind, Location, Match, Position, Rule, Severity, SourceKind
from scanner.output.console import render_console
from scanner.output.json import render_json
from scanner.output.sarif import render_sarif
from scanner.output.summary import render_summary
from scanner.pipeline import scan
from scanner.rules.templates import expand
from tests.contexts import CONTEXTS
from tests.keys import make_key, matcher, rule, rules

ENGINES = ("hyperscan", "python")
ID_NAMES = ("AWS_KEY", "AWS_ACCESS_KEY_ID", "aws_access_key")
SECRET_NAMES = (
    "AWS_PW",
    "aws_sec",
    "AWS_SECRET_ACCESS_KEY",
    "secret",
    "password",
    "AWS_SECRET_KEY",
    "awsKey2",
)


def _findings(data: bytes, m: Matcher) -> list[tuple[str, Severity, str | None]]:
    loc = Location(SourceKind.DIRECTORY, "f", Position(1, 1, 1, 2, 0))
    hits = [Hit(x, loc, Exposure.REPOSITORY) for x in m.scan(data)]
    by_id = {r.id: r for r in rules()}
    return [(f.rule_id, f.severity, f.severity_reason) for f in build_findings(hits, by_id)]


def _pair(seed: int) -> tuple[str, str]:
    r = random.Random(f"aws-pair:{seed}")
    return expand("AKIA{base32:16}", r), expand("{b64:40}", r)


def _id_match(data: bytes, m: Matcher) -> Match:
    (found,) = [x for x in m.scan(data) if x.rule_id == "aws.access-key-id"]
    return found


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("first", ["id", "secret"])
def test_a_key_pair_is_critical_in_every_form(context: str, first: str, engine: str) -> None:
    m = matcher(engine)
    for k, secret_name in enumerate(SECRET_NAMES):
        akid, secret = _pair(k)
        id_name = ID_NAMES[k % len(ID_NAMES)]
        if first == "id":
            planted = CONTEXTS[context](id_name, akid, (0, len(akid)), after=[(secret_name, secret)])
        else:
            planted = CONTEXTS[context](secret_name, secret, (0, 0), after=[(id_name, akid)])
        found = _id_match(planted.data, m)
        assert found.alone is None, (secret_name, planted.data[-300:])
        severity = {rid: sev for rid, sev, _ in _findings(planted.data, m)}
        assert severity["aws.access-key-id"] is Severity.CRITICAL


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("context", CONTEXTS)
def test_a_key_id_alone_is_low_in_every_form(context: str, engine: str) -> None:
    """The same documents with the secret replaced by a 40-hex commit id: the ID is alone."""
    m = matcher(engine)
    akid, _ = _pair(0)
    commit = expand("{hex:40}", random.Random(1))
    planted = CONTEXTS[context]("AWS_KEY", akid, (0, len(akid)), after=[("AWS_PW", commit)])
    ((rid, sev, why),) = _findings(planted.data, m)
    assert (rid, sev) == ("aws.access-key-id", Severity.LOW) and why and "not a credential" in why


@pytest.mark.parametrize("engine", ENGINES)
def test_the_repro_from_the_issue(engine: str) -> None:
    """`AWS_KEY=AKIA…` then `AWS_PW=<secret>` right after `=`: critical, as with a space."""
    akid, secret = _pair(9)
    for sep in ("=", "= ", "=\t", ":", ": "):
        text = f"AWS_KEY{sep}{akid}\nAWS_PW{sep}{secret}\n".encode()
        assert _findings(text, matcher(engine)) == [("aws.access-key-id", Severity.CRITICAL, None)], sep
    # PHP's json_encode escapes '/': the secret is whole only in its decoded string literal
    slashed = expand("{b64:19}/{b64:20}", random.Random(4)).replace("/", "\\/")
    for text in (f'{{"AWS_KEY":"{akid}","AWS_PW":"{slashed}"}}', f'{{"creds":"{akid}:{slashed}"}}'):
        assert _findings(text.encode(), matcher(engine)) == [("aws.access-key-id", Severity.CRITICAL, None)]


# --- a value its own comment calls fake -------------------------------------------------------------

COMMENTS = ("# correct format, not real", "// fake key for the parser test", "/* dummy */", "# made up")
# validators that verify a key offline: a checksum, or the provider's payload decoded and checked
VERIFYING = {
    "github-crc32", "npm-crc32", "vercel-crc32", "gitlab-routable", "azure-cask",
    "bedrock-long", "bedrock-short", "pem", "gcp-private-key", "jwt-service-role", "pypi-macaroon",
    "age-bech32", "grafana-sa-crc32", "grafana-cloud-token", "sentry-org-token", "mapbox-secret",
    "onepassword-sa", "pgp-armor", "qstash",
}  # fmt: skip


def _verified(r: Rule, key: str) -> bool:
    return r.validator in VERIFYING or any(x in key for x in r.structure)


def _whole_value(r: Rule) -> bool:
    """The key is the whole quoted value, so a comment after its closing quote follows the secret
    (a connection string's `AccountKey=…;EndpointSuffix=…` holds the secret inside it)."""
    key = make_key(r.id)
    found = re.search(r.pattern, f'{r.example_name} = "{key}"')
    return found is None or found.group("secret") == key  # None: the loader's assignment form finds it


SINGLE_LINE = [
    r
    for r in rules()
    if r.kind is Kind.SECRET and "\n" not in make_key(r.id) and '"' not in make_key(r.id) and _whole_value(r)
]


def test_the_verified_set_is_what_the_issue_names() -> None:
    marked = [(r, i) for r in rules() for i, t in enumerate(r.examples) if "T3BlbkFJ" in t]
    marked += [(r, 0) for r in rules() if r.validator == "github-crc32"]
    assert len(marked) >= 15 and all(_verified(r, make_key(r.id, example=i)) for r, i in marked)
    assert not _verified(rule("openai.none-key"), make_key("openai.none-key"))  # the markerless form
    for rid in ("anthropic.api-key", "groq.api-key", "github.fine-grained-pat", "database.connection-url"):
        assert not _verified(rule(rid), make_key(rid)), rid  # a shape only, or a URL's password


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("r", SINGLE_LINE, ids=lambda r: r.id)
def test_a_value_called_fake_is_reported_and_low_unless_verified(r: Rule, engine: str) -> None:
    m = matcher(engine)
    for k, comment in enumerate(COMMENTS):
        key = make_key(r.id, seed=40 + k)
        data = f'{r.example_name} = "{key}"  {comment}\n'.encode()
        found = [x for x in m.scan(data) if x.rule_id == r.id]
        assert len(found) == 1, (comment, [(x.rule_id, x.secret == key) for x in m.scan(data)])
        verified = _verified(r, key)
        assert found[0].said_fake == (None if verified else SAID_FAKE)
        (f,) = [f for f in build_findings(_hits(data, m), {x.id: x for x in rules()}) if f.rule_id == r.id]
        plain = data.split(b"  ", 1)[0] + b"\n"  # the same line without the comment
        (g,) = [g for g in build_findings(_hits(plain, m), {x.id: x for x in rules()}) if g.rule_id == r.id]
        if r.companion:  # an AWS key ID with no secret near: low for that reason first
            assert (f.severity, f.severity_reason, g.severity_reason) == (Severity.LOW, r.alone, r.alone)
        elif verified:
            assert (f.severity, f.severity_reason) == (r.severity, None), comment
        else:
            assert (f.severity, f.severity_reason) == (Severity.LOW, SAID_FAKE), comment
        if not r.companion:
            assert (g.severity, g.severity_reason) == (r.severity, None)


def _hits(data: bytes, m: Matcher) -> list[Hit]:
    loc = Location(SourceKind.DIRECTORY, "f", Position(1, 1, 1, 2, 0))
    return [Hit(x, loc, Exposure.FILE) for x in m.scan(data)]


def test_called_fake_in_one_place_and_not_in_another_keeps_the_severity() -> None:
    key = make_key("anthropic.api-key", seed=3)
    data = f'ANTHROPIC_API_KEY = "{key}"  # fake\n'.encode()
    other = f'ANTHROPIC_API_KEY = "{key}"\n'.encode()
    hits = _hits(data, matcher()) + _hits(other, matcher())
    (f,) = build_findings(hits, {x.id: x for x in rules()})
    assert (f.severity, f.severity_reason) == (rule("anthropic.api-key").severity, None)


def test_every_output_says_why_a_value_called_fake_is_low(tmp_path: Path) -> None:
    anthropic, openai = make_key("anthropic.api-key", seed=8), make_key("openai.project-key", seed=8)
    (tmp_path / "fixtures.py").write_text(
        f'PARSER_FIXTURE = "{anthropic}"  # correct format, not real\n'
        f'OPENAI_FIXTURE = "{openai}"  # fake key for the parser test\n'
    )
    report = scan(ScanConfig(target=tmp_path, jobs=1), rules(), matcher())
    doc = json.loads(render_json(report))
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    assert by_rule["anthropic.api-key"]["severity"] == "low"
    assert by_rule["anthropic.api-key"]["severity_reason"] == SAID_FAKE
    assert by_rule["openai.project-key"]["severity"] == rule("openai.project-key").severity.value
    assert by_rule["openai.project-key"]["severity_reason"] is None
    sarif = json.loads(render_sarif(report))["runs"][0]["results"]
    low = next(x for x in sarif if x["ruleId"] == "anthropic.api-key")
    assert low["properties"]["keysweep/severity_reason"] == SAID_FAKE
    assert "Severity low: Its own comment calls it fake" in low["message"]["text"]
    high = next(x for x in sarif if x["ruleId"] == "openai.project-key")
    assert "keysweep/severity_reason" not in high["properties"]
    console = render_console(report, color=False)
    assert console.count("why low") == 1 and "Its own comment calls it fake" in console
    assert "Its own comment calls it fake" in render_summary(report)
