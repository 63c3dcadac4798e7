"""Every rule finds its examples, exactly once and by itself, in every context of the matrix.

Keys are built at run time from the rules' templates with a seeded RNG; placeholders that look
like keys are assembled here too, so nothing key-shaped is stored in the repository.
"""

from __future__ import annotations

import functools
import json
import random
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from scanner.detect.engine import PRAGMA_MAX_LINE, Matcher
from scanner.detect.positions import locate
from scanner.errors import RuleError
from scanner.model import Confidence, Kind, Match, Rule
from scanner.rules import load_file, load_rules
from scanner.rules.templates import expand
from tests.contexts import CONTEXTS, Skip, env_quoted, json_doc, python_src, yaml_doc
from tests.paths import ROOT

ENGINES = ("hyperscan", "python")
REPO = ROOT
DEFAULT_NAME = "API_TOKEN"
GENERIC = "generic.credential"  # the credential-slot detector (scanner/detect/slots.py)


@functools.cache
def rules() -> tuple[Rule, ...]:
    return load_rules()


@functools.cache
def matcher(engine: str) -> Matcher:
    return Matcher(rules(), engine)


def rule(rule_id: str) -> Rule:
    return next(r for r in rules() if r.id == rule_id)


def example(r: Rule, i: int) -> str:
    return expand(r.examples[i], random.Random(f"{r.id}#{i}"))


def negative(r: Rule, i: int) -> str:
    return expand(r.negative_examples[i], random.Random(f"{r.id}!{i}"))


# --- what a finding must say, worked out from the example itself ---------------------------


def normalized_pem(block: str) -> str:
    """PEM as ARCHITECTURE.md §4 defines the secret: LF, 64-character lines, headers dropped."""
    block = re.sub(r"\\+n", "\n", block).replace("\r", "")
    lines = [ln.strip() for ln in block.split("\n") if ln.strip()]
    body = "".join(ln for ln in lines[1:-1] if ":" not in ln)
    return "\n".join([lines[0], *textwrap.wrap(body, 64), lines[-1]])


def expected_secret(value: str) -> tuple[str, tuple[int, int]]:
    """The secret an example holds and its character span inside the example."""
    if value.startswith("{") and '"service_account"' in value:  # GCP key file: the PEM inside
        start = value.index("-----BEGIN PRIVATE KEY-----")
        end = value.index("-----END PRIVATE KEY-----") + len("-----END PRIVATE KEY-----")
        return normalized_pem(json.loads(value)["private_key"]), (start, end)
    conn = re.search(r";(?:AccountKey|SharedAccessKey)=([^;]+)", value)  # a connection string: its key
    if conn:
        return conn.group(1), conn.span(1)
    if value.startswith("-----BEGIN "):
        footer = re.search(r"-----END [A-Z ]+-----", value)
        assert footer is not None
        return normalized_pem(value[: footer.end()]), (0, footer.end())
    return value, (0, len(value))


# --- the matrix ---------------------------------------------------------------------------------

SECRET_RULES = [r for r in load_rules() if r.kind is Kind.SECRET]  # exposure rules: test_exposure_rules.py
BARE_RIVALS = {x: r.id for r in SECRET_RULES if "bare" in r.accept for x in r.rivals}  # rival -> owner
CASES = [
    pytest.param(r.id, i, ctx, id=f"{r.id}#{i}-{ctx}")
    for r in SECRET_RULES
    for i in range(len(r.examples))
    for ctx in CONTEXTS
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("rule_id", "index", "context"), CASES)
def test_example_found_once_by_its_rule(rule_id: str, index: int, context: str, engine: str) -> None:
    r = rule(rule_id)
    value = example(r, index)
    secret, span = expected_secret(value)
    try:
        planted = CONTEXTS[context](r.example_name, value, span)
    except Skip as why:
        pytest.skip(str(why))
    found = matcher(engine).scan(planted.data)
    summary = [(m.rule_id, m.also_matched, m.start, m.end) for m in found]
    assert len(found) == 1, f"expected one finding, got {summary}"
    m = found[0]
    assert (m.rule_id, m.also_matched) == (rule_id, ()), summary
    assert m.secret == secret
    assert (m.start, m.end) == planted.span
    p = locate(planted.data, m.start, m.end)
    assert (p.line, p.column, p.end_line, p.end_column) == planted.position
    assert m.encoding == planted.encoding
    assert m.pragma is False


def test_matrix_covers_every_rule_and_context() -> None:
    assert len(rules()) >= 80
    assert {c.values[0] for c in CASES} == {r.id for r in SECRET_RULES}
    assert len(CASES) == sum(len(r.examples) for r in SECRET_RULES) * len(CONTEXTS)


# --- rule data ------------------------------------------------------------------------------------


@pytest.mark.parametrize("r", SECRET_RULES, ids=lambda r: r.id)
def test_rule_fields(r: Rule) -> None:
    assert re.fullmatch(r"[a-z0-9-]+\.[a-z0-9-]+", r.id) and r.id.startswith(r.provider + ".")
    assert r.examples, "a secret rule needs examples"
    assert r.remediation and "revoke" in r.remediation.lower()
    assert r.references and all(u.startswith("https://") for u in r.references)
    assert r.severity.rank >= 3, "a credential is at least high"
    compiled = re.compile(r.pattern.encode())
    assert "secret" in compiled.groupindex
    for i in range(len(r.examples)):
        value = example(r, i)
        secret, _ = expected_secret(value)
        assert len(secret) <= r.max_length, (r.id, len(secret))
        assert secret.startswith(r.prefix), (r.id, r.prefix)
        if r.example_name == DEFAULT_NAME:
            continue
        # a keyword-gated example needs its name: under the neutral name the rule stays silent,
        # but for a shared prefix: its first owner keeps the key (`bare`) and names its rivals
        data = env_quoted(DEFAULT_NAME, value, (0, len(value))).data
        for engine in ENGINES:
            found = matcher(engine).scan(data)
            if "bare" in r.accept:
                assert [(m.rule_id, m.also_matched) for m in found] == [(r.id, r.rivals)]
            elif r.id in BARE_RIVALS:
                assert [(m.rule_id, r.id in m.also_matched) for m in found] == [(BARE_RIVALS[r.id], True)]
            else:
                assert not [m for m in found if r.id in (m.rule_id, *m.also_matched)]


def test_keywords_occur_in_every_match() -> None:
    """`keywords` drive the pure-Python prefilter: one of them must be in every matched text."""
    for r in rules():
        rx = re.compile(r.pattern.encode())
        for i in range(len(r.examples)):
            value = example(r, i)
            data = env_quoted(r.example_name, value, (0, len(value))).data
            for m in rx.finditer(data):
                text = m.group(0).lower()
                assert any(k.encode() in text for k in r.keywords), (r.id, r.keywords)


def test_prefix_ranks_overlaps() -> None:
    """Rules that share a prefix never claim each other's examples (also_matched stays empty above);
    where two could, the longer literal prefix is the documented tie-break."""
    prefixes = {r.id: r.prefix for r in rules()}
    assert prefixes["openai.project-key"] == "sk-proj-"
    assert len(prefixes["openai.project-key"]) > len(prefixes["deepseek.api-key"])


def test_observed_marker_only_raises_confidence() -> None:
    groq = rule("groq.api-key")
    with_marker, without = example(groq, 0), example(groq, 1)
    assert "WGdyb3FY" in with_marker and "WGdyb3FY" not in without
    for engine in ENGINES:
        a = matcher(engine).scan(env_quoted("GROQ_API_KEY", with_marker, (0, len(with_marker))).data)
        b = matcher(engine).scan(env_quoted("GROQ_API_KEY", without, (0, len(without))).data)
        assert [m.confidence for m in a] == [Confidence.HIGH]
        assert [m.confidence for m in b] == [Confidence.MEDIUM]


# --- negatives and placeholders ---------------------------------------------------------------

# Negative examples that are, correctly, another rule's key: the rule under test must stay silent.
CLAIMED_ELSEWHERE = {("stability.api-key", 1): "openai.legacy-key"}

NEGATIVE_CASES = [
    pytest.param(r.id, i, id=f"{r.id}!{i}") for r in load_rules() for i in range(len(r.negative_examples))
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("rule_id", "index"), NEGATIVE_CASES)
def test_negative_example_not_found(rule_id: str, index: int, engine: str) -> None:
    r = rule(rule_id)
    value = negative(r, index)
    for plant in (env_quoted, json_doc, yaml_doc):
        found = matcher(engine).scan(plant(r.example_name, value, (0, len(value))).data)
        assert not [m for m in found if rule_id in (m.rule_id, *m.also_matched)], plant.__name__
        allowed = CLAIMED_ELSEWHERE.get((rule_id, index))
        # a near-miss shape under a credential name may be reported as an unknown credential by
        # the credential-slot detector (test_slots.py says which it vetoes); no provider may claim it
        providers = [m.rule_id for m in found if m.rule_id != GENERIC]
        assert providers == ([allowed] if allowed else []), plant.__name__


def test_negative_examples_are_matched_by_the_pattern_or_rejected_for_a_reason() -> None:
    """Most negatives are near misses: the checksum/marker variants must reach the validator."""
    for rid in ("github.pat", "npm.access-token", "azure.openai-key", "gitlab.routable-token"):
        r = rule(rid)
        rx = re.compile(r.pattern.encode())
        assert rx.search(negative(r, 0).encode()), f"{rid}: the broken-checksum negative must fit the pattern"


def _placeholders() -> list[tuple[str, str]]:
    x = "x"
    r = random.Random(7)
    hexs = "".join(r.choice("0123456789abcdef") for _ in range(40))
    uuid = f"{hexs[:8]}-{hexs[8:12]}-4{hexs[13:16]}-a{hexs[17:20]}-{hexs[20:32]}"
    integrity = (
        "sha512-"
        + "".join(
            r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") for _ in range(86)
        )
        + "=="
    )
    return [
        ("OPENAI_API_KEY", "sk-..."),
        ("OPENAI_API_KEY", "sk-proj-..."),
        ("OPENAI_API_KEY", "sk-proj-" + "a" * 74 + "T3Blbk" + "FJ" + "a" * 74),
        ("OPENAI_API_KEY", "sk-proj-" + "abcdefghijklmnopqrst" + "T3Blbk" + "FJ" + "abcdefghijklmnopqrst"),
        ("OPENAI_API_KEY", "sk-" + x * 20 + "T3Blbk" + "FJ" + x * 20),
        ("OPENAI_API_KEY", "your-api-key-here"),
        ("OPENAI_API_KEY", "${{ secrets.OPENAI_API_KEY }}"),
        ("OPENAI_API_KEY", "<KEY>"),
        ("OPENAI_API_KEY", "process.env.OPENAI_API_KEY"),
        ("VITE_OPENAI_API_KEY", "import.meta.env.VITE_OPENAI_API_KEY"),
        ("ANTHROPIC_API_KEY", "sk-ant-api03-..."),
        ("ANTHROPIC_API_KEY", "sk-ant-api03-" + x * 93 + "AA"),
        ("GROQ_API_KEY", "gsk_" + x * 3),
        ("GROQ_API_KEY", "gsk_" + "0123456789" * 5 + "ab"),
        ("HF_TOKEN", "hf_" + x * 34),
        ("PERPLEXITY_API_KEY", "pplx-" + x * 48),
        ("TOGETHER_API_KEY", "tgp_v1_..."),
        ("FIREWORKS_API_KEY", "fw_..."),
        ("RUNWAYML_API_SECRET", "key_..."),
        ("XAI_API_KEY", "xai-..."),
        ("CO_API_KEY", x * 40),
        ("MISTRAL_API_KEY", "abcdefghijklmnopqrstuvwxyz012345"),
        ("MISTRAL_API_KEY", "${MISTRAL_API_KEY}"),
        ("PINECONE_API_KEY", "pcsk_abc12_" + x * 63),
        ("GITHUB_TOKEN", "ghp_" + x * 36),
        ("GITHUB_TOKEN", "ghp_" + "A" * 36),
        ("AWS_ACCESS_KEY_ID", "AKIA" + "IOSFODNN7" + "EXAMPLE"),
        ("AWS_ACCESS_KEY_ID", "AKIA" + "ABCDEFGHIJKLMNOP"),
        ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLE" + "KEY"),
        ("GOOGLE_API_KEY", "AIza" + "Sy" + "abcdefghijklmnopqrstuvwxyz1234567"),
        ("GOOGLE_API_KEY", "AIza" + "Sy" + "X" * 33),
        ("DATABASE_URL", "postgres://postgres:postgres@localhost:5432/app"),
        ("DATABASE_URL", "postgresql://user:" + "p" * 3 + "@db:5432/app"),
        ("integrity", integrity),  # lockfile integrity hash
        ("commit", hexs),  # a git SHA outside any secret context
        ("id", uuid),
        ("checksum", hexs[:32]),
        # 32 hex under API_KEY with no Azure host or name: no provider's, but an unknown
        # credential (tests/detect/test_slots.py)
    ]


PLACEHOLDERS = _placeholders()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "value"), PLACEHOLDERS, ids=[f"{n}={v[:24]}" for n, v in PLACEHOLDERS])
def test_placeholder_not_found(name: str, value: str, engine: str) -> None:
    for plant in (env_quoted, json_doc, python_src):
        found = [m for m in matcher(engine).scan(plant(name, value, (0, len(value))).data) if m.secret]
        assert found == [], (plant.__name__, [m.rule_id for m in found])


# --- pragma ------------------------------------------------------------------------------------------


def _pragma_scan(text: str, engine: str) -> list[Match]:
    return matcher(engine).scan(text.encode())


@pytest.mark.parametrize("engine", ENGINES)
def test_pragma_marks_its_own_line_only(engine: str) -> None:
    a, b = example(rule("anthropic.api-key"), 0), example(rule("openai.project-key"), 0)
    text = f'ANTHROPIC_API_KEY="{a}"  # keysweep:allow test fixture\nOPENAI_API_KEY="{b}"\n'
    found = _pragma_scan(text, engine)
    assert [(m.rule_id, m.pragma) for m in found] == [
        ("anthropic.api-key", True),
        ("openai.project-key", False),
    ]
    above = f'# keysweep:allow\nOPENAI_API_KEY="{b}"\n'
    assert [m.pragma for m in _pragma_scan(above, engine)] == [False]
    crlf = f'OPENAI_API_KEY="{b}" # keysweep:allow\r\nANTHROPIC_API_KEY="{a}"\r\n'
    assert [m.pragma for m in _pragma_scan(crlf, engine)] == [True, False]


@pytest.mark.parametrize("engine", ENGINES)
def test_pragma_ignored_on_long_lines(engine: str) -> None:
    b = example(rule("openai.project-key"), 0)
    head = f'var k="{b}";'
    for width, expect in ((PRAGMA_MAX_LINE, True), (PRAGMA_MAX_LINE + 1, False), (5000, False)):
        tail = "//keysweep:allow"
        line = head + "x" * (width - len(head) - len(tail)) + tail
        assert len(line) == width
        assert [m.pragma for m in _pragma_scan(line + "\n", engine)] == [expect], width


# --- loader errors ---------------------------------------------------------------------------------

GOOD_RULE = """\
provider: demo
rules:
  - id: demo.key
    name: Demo key
    pattern: '(?P<secret>demo_[a-z]{{10}})'
    max_length: 15
    keywords: [demo_]
    severity: high
    confidence: high
    examples: ['demo_{{lower:10}}']
{extra}"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_loader_accepts_a_good_file(tmp_path: Path) -> None:
    (r,) = load_file(_write(tmp_path, "demo.yml", GOOD_RULE.format(extra="    example_name: DEMO_KEY\n")))
    assert (r.id, r.example_name, r.keywords) == ("demo.key", "DEMO_KEY", ("demo_",))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD_RULE.format(extra="    colour: blue\n"), "unknown keys"),
        (
            GOOD_RULE.format(extra="")
            .replace("(?P<secret>demo_", "(?P<secret>demo_(")
            .replace("{10})", "{10}"),
            "bad pattern",
        ),
        (
            GOOD_RULE.format(extra="").replace("(?P<secret>demo_[a-z]{10})", "demo_[a-z]{10}"),
            "named group 'secret'",
        ),
        (GOOD_RULE.format(extra="    validator: crc64-magic\n"), "unknown validator"),
        (GOOD_RULE.format(extra="    example_name: 'not a name'\n"), "example_name"),
        (
            GOOD_RULE.format(extra="").replace("demo_{lower:10}", "demo_{nosuchfield:10}"),
            "bad example template",
        ),
        (GOOD_RULE.format(extra="").replace("id: demo.key", "id: other.key"), "id must be"),
        (GOOD_RULE.format(extra="").replace("keywords: [demo_]", "keywords: [DEMO_]"), "lowercase"),
        ("provider: demo\nrules: []\n", "non-empty list"),
        ("provider: demo\nextra: 1\nrules: []\n", "unknown keys"),
        (GOOD_RULE.format(extra="    rivals: [other.key]\n"), "accept 'bare'"),
    ],
    ids=[
        "unknown-key",
        "bad-regex",
        "no-secret-group",
        "unknown-validator",
        "bad-example-name",
        "bad-template",
        "id-provider",
        "keyword-case",
        "no-rules",
        "unknown-file-key",
        "rivals-without-bare",
    ],
)
def test_loader_rejects(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        load_file(_write(tmp_path, "demo.yml", text))


def test_loader_rejects_duplicate_ids(tmp_path: Path) -> None:
    a = _write(tmp_path, "a.yml", GOOD_RULE.format(extra=""))
    b = _write(tmp_path, "b.yml", GOOD_RULE.format(extra=""))
    with pytest.raises(RuleError, match=re.escape("duplicate rule id 'demo.key'")):
        load_rules([a, b])


def test_loader_rejects_unknown_rivals(tmp_path: Path) -> None:
    extra = "    context: [demo]\n    accept: [near, bare]\n    rivals: [nosuch.key]\n"
    a = _write(tmp_path, "a.yml", GOOD_RULE.format(extra=extra))
    with pytest.raises(RuleError, match=re.escape("unknown rivals ['nosuch.key']")):
        load_rules([a])


def test_loader_rejects_unreadable_yaml(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="cannot read"):
        load_file(_write(tmp_path, "bad.yml", "provider: [unclosed\n"))


# --- nothing key-shaped in the repository ---------------------------------------------------------

FORBIDDEN = re.compile(
    r"sk-(proj|svcacct|admin|ant-api[0-9]{2}|ant-admin[0-9]{2}|or-v1)-[A-Za-z0-9_-]{20,}|T3BlbkFJ[A-Za-z0-9_-]{10,}"
    r"|AKIA[A-Z2-7]{16}|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|gsk_[A-Za-z0-9]{40,}|hf_[A-Za-z]{34}"
    r"|xai-[A-Za-z0-9]{60,}|AIza[0-9A-Za-z_-]{35}|xox[bpa]-[0-9]{6,}"
)
OWN_FILES = [
    *sorted((REPO / "scanner" / "rules").glob("*.yml")),
    REPO / "scanner" / "rules" / "templates.py",
    REPO / "scanner" / "detect" / "validators.py",
    REPO / "scanner" / "detect" / "checksums.py",
    REPO / "scanner" / "detect" / "filters.py",
    REPO / "tests" / "rules" / "test_rules.py",
    REPO / "tests" / "detect" / "test_validators.py",
    REPO / "tests" / "rules" / "test_templates.py",
    REPO / "tests" / "contexts.py",
    REPO / "tests" / "data" / "key-formats.csv",
]


@pytest.mark.parametrize("path", OWN_FILES, ids=lambda p: p.name)
def test_rule_files_hold_no_key(path: Path) -> None:
    assert path.exists(), f"{path} moved: update OWN_FILES"
    data = path.read_bytes()
    assert not FORBIDDEN.search(data.decode("utf-8", "replace"))
    for engine in ENGINES:  # exposure constructs in this Python are not shipped (sources/filekinds.py)
        found = matcher(engine).scan(data)
        assert [m.rule_id for m in found if m.secret is not None or path.suffix == ".yml"] == []


def test_no_key_shaped_literal_tracked() -> None:
    try:
        out = subprocess.run(
            ["git", "grep", "-nIE", FORBIDDEN.pattern], cwd=REPO, capture_output=True, text=True, check=False
        )
    except OSError:
        pytest.skip("git not available")
    assert out.returncode == 1 and out.stdout == "", out.stdout[:500]
