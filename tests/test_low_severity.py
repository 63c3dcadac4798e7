"""A finding below its rule's severity always says why, and only when the reason holds.

An AWS access key ID is a credential with its secret access key near it, under whatever name and
in whatever syntax the pair is written (every form of the context matrix, the key's secret first
or second, both engines); without it, it is low and says so. Keys are built at run time from
templates with a seeded RNG.
"""

from __future__ import annotations

import random

import pytest

from scanner.detect.engine import Matcher
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Location, Match, Position, Severity, SourceKind
from scanner.rules.templates import expand
from tests.contexts import CONTEXTS
from tests.keys import matcher, rules

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
