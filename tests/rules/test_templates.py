"""Example templates agree with tests/data/key-formats.csv, transcribed from llm-keys.md.

The CSV is written from the design notes, not from the YAML, so a template that drifts from the
documented format (wrong prefix, alphabet or length) fails here even if its rule still matches it.
"""

from __future__ import annotations

import csv
import random
import string
from dataclasses import dataclass

import pytest

from scanner.model import Kind
from scanner.rules import load_rules
from scanner.rules.templates import ALPHABETS, TemplateError, check, expand
from tests.paths import DATA

CSV = DATA / "key-formats.csv"

_B64URL = string.ascii_letters + string.digits + "_-"
ALPHABET_SETS = {
    "alnum": set(string.ascii_letters + string.digits),
    "letters": set(string.ascii_letters),
    "hex": set("0123456789abcdef"),
    "base32": set(string.ascii_uppercase + "234567"),
    "base32lower": set(string.ascii_lowercase + "234567"),
    "uppernum": set(string.ascii_uppercase + string.digits),
    "lowernum": set(string.ascii_lowercase + string.digits),
    "b64": set(string.ascii_letters + string.digits + "+/="),
    "b64url": set(_B64URL),
    "b64url.": set(_B64URL + "."),
    "b64url:": set(_B64URL + ":"),
    "b64url=": set(_B64URL + "="),
    "b64_": set(string.ascii_letters + string.digits + "+/=_"),
    "b64url.!": set(_B64URL + ".!"),
    "connstr": set(string.ascii_letters + string.digits + "+/=;:.-_"),
    "alnum_": set(string.ascii_letters + string.digits + "_"),
    "alnum-": set(string.ascii_letters + string.digits + "-."),
    "hex_": set("0123456789abcdef_"),
    "uuid": set("0123456789abcdef-"),
    "uuid:hex": set("0123456789abcdef-:"),
    "lowernum-": set(string.ascii_lowercase + string.digits + "-"),
    "uppernum-": set(string.ascii_uppercase + string.digits + "-"),
    "jwt": set(_B64URL + "."),
    "pem": set(string.ascii_letters + string.digits + "+/=-: ,\n\\"),
    "url": set(string.ascii_letters + string.digits + ":/@.-_+%"),
    "json": set(string.printable) - set("\t\r\x0b\x0c"),
}


@dataclass(frozen=True)
class Format:
    provider: str
    rule_id: str
    prefix: str
    alphabet: str
    lo: int
    hi: int
    source: str

    def accepts(self, value: str) -> bool:
        body = value[len(self.prefix) :]
        return (
            value.startswith(self.prefix)
            and self.lo <= len(value) <= self.hi
            and set(body) <= ALPHABET_SETS[self.alphabet]
        )


def formats() -> list[Format]:
    out = []
    with CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        lo, _, hi = row["length"].partition("-")
        out.append(
            Format(
                row["provider"],
                row["rule_id"],
                row["prefix"],
                row["alphabet"],
                int(lo),
                int(hi or lo),
                row["source"],
            )
        )
    return out


FORMATS = formats()
RULES = [r for r in load_rules() if r.kind is Kind.SECRET]  # key formats: exposure rules hold no key


def test_csv_is_well_formed() -> None:
    with CSV.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == ["provider", "rule_id", "prefix", "alphabet", "length", "source"]
    assert FORMATS
    for fmt in FORMATS:
        assert fmt.alphabet in ALPHABET_SETS, fmt
        assert 0 < fmt.lo <= fmt.hi, fmt
        assert fmt.rule_id.startswith(fmt.provider + "."), fmt
        assert fmt.source, fmt


def test_every_rule_has_a_documented_format_and_back() -> None:
    ids = {r.id for r in RULES}
    documented = {f.rule_id for f in FORMATS}
    assert ids - documented == set(), "rules without a row in key-formats.csv"
    assert documented - ids == set(), "rows for rules that do not exist"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_examples_agree_with_the_table(rule: object) -> None:
    from scanner.model import Rule

    assert isinstance(rule, Rule)
    rows = [f for f in FORMATS if f.rule_id == rule.id]
    for i, template in enumerate(rule.examples):
        for seed in range(5):
            value = expand(template, random.Random(f"{rule.id}#{i}#{seed}"))
            assert any(f.accepts(value) for f in rows), (
                f"{rule.id} example {template!r} -> {len(value)} chars {value[:16]!r}… fits no row of key-formats.csv"
            )


def test_every_table_row_is_exercised_by_an_example() -> None:
    """Each documented format (e.g. both OpenAI project-key lengths) has an example of that shape."""
    values: dict[str, list[str]] = {}
    for rule in RULES:
        values[rule.id] = [expand(t, random.Random(f"{rule.id}#{i}")) for i, t in enumerate(rule.examples)]
    missing = [f for f in FORMATS if not any(f.accepts(v) for v in values[f.rule_id])]
    assert missing == []


# --- the generator vocabulary ------------------------------------------------------------------------


def test_expansion_is_deterministic_per_seed() -> None:
    t = "sk-proj-{b64url:74}T3BlbkFJ{b64url:74}"
    assert expand(t, random.Random(1)) == expand(t, random.Random(1))
    assert expand(t, random.Random(1)) != expand(t, random.Random(2))


@pytest.mark.parametrize("name", sorted(ALPHABETS))
def test_random_fields_draw_from_their_alphabet(name: str) -> None:
    value = expand(f"{{{name}:200}}", random.Random(3))
    assert len(value) == 200 and set(value) <= set(ALPHABETS[name])


def test_literal_braces_and_errors() -> None:
    assert expand("{{x}}", random.Random(0)) == "{x}"
    for bad in ("{nosuch}", "{hex}", "{hex:abc}"):
        with pytest.raises(TemplateError):
            check(bad)


def test_computed_fields_shape() -> None:
    r = random.Random(5)
    assert len(expand("{uuid4hex}", r)) == 32 and expand("{uuid4hex}", r)[12] == "4"
    cask = expand("{cask:ACOG}", r)
    assert len(cask) == 84 and cask[52:58] == "JQQJ99" and cask[76:80] == "ACOG"
    bad = expand("{cask_bad:ACOG}", r)
    assert len(bad) == 84 and bad[76:80] == "ACOG"
    sa = expand("{gcp_sa_json}", r)
    assert (
        sa.startswith('{"type": "service_account"') and '"private_key": "-----BEGIN PRIVATE KEY-----\\n' in sa
    )
    enc = expand("{pem_enc:RSA PRIVATE KEY}", r)
    assert "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC," in enc
