""".keysweep.toml: every error is exit 2 naming the file, the field and the line; globs; extra rules
validated like bundled ones and checked by `keysweep rules --check`; fail-on precedence."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from scanner import cli
from scanner.config import Request, resolve_config
from scanner.errors import ConfigError, UsageError
from scanner.model import Severity
from scanner.suppress.globs import GlobError, compile_glob
from scanner.suppress.inputs import ConfigFiles
from scanner.suppress.settings import parse_config
from tests.keys import make_key, rules

# an extra rule in the bundled schema; its example is a template (no key-shaped literal here)
ACME_RULE = """
[[rules]]
provider = "acme"
id = "acme.api-token"
name = "Acme API token"
pattern = '(?P<secret>acme_tok_[A-Za-z0-9]{32})'
max_length = 41
keywords = ["acme_tok_"]
severity = "high"
confidence = "high"
prefix = "acme_tok_"
examples = ["acme_tok_{alnum:32}"]
negative_examples = ["acme_tok_{alnum:12}"]
@EXTRA@
"""


def acme(extra: str = "") -> str:
    return ACME_RULE.replace("@EXTRA@", extra)


def parse(text: str) -> object:
    return parse_config(textwrap.dedent(text), "cfg/.keysweep.toml", rules())


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as e:
        parse(text)
    return str(e.value)


# --- errors name the file, the field and the line -------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "says"),
    [
        ('fail-on = "high"\nfailon = "low"\n', "cfg/.keysweep.toml:2: failon", "unknown key"),
        ('fail-on = "severe"\n', "cfg/.keysweep.toml:1: fail-on", "must be one of"),
        ('disable-rules = ["openai.project-key", "nope.nope"]\n', ":1: disable-rules[1]", "unknown rule id"),
        (
            '[[allow]]\npaths = ["a/**"]\nreason = "x"\n\n[[allow]]\nreason = "fixtures"\npaths = ["tests/[abc"]\n',
            "cfg/.keysweep.toml:7: allow[1].paths[0]",
            "unclosed '['",
        ),
        ('[[allow]]\npaths = ["/etc/**"]\nreason = "x"\n', ":2: allow[0].paths[0]", "relative"),
        ('[[allow]]\npaths = ["a/**"]\n', ":1: allow[0].reason", "reason is required"),
        ('[[allow]]\npaths = ["a"]\nreason = "r"\nwhy = "x"\n', ":4: allow[0].why", "unknown key"),
        ('[[severity]]\npaths = ["a"]\nseverity = "urgent"\n', ":3: severity[0].severity", "low, medium"),
        ('[[severity]]\nseverity = "low"\n', ":1: severity[0]", "needs 'rules', 'paths'"),
        ('fingerprint-key = "short"\n', ":1: fingerprint-key", "at least 16"),
        ("allow = 3\n", ":1: allow", "array of tables"),
    ],
)
def test_config_errors_name_file_field_and_line(text: str, where: str, says: str) -> None:
    message = error_of(text)
    assert where in message, message
    assert says in message, message


def test_toml_syntax_error_has_the_parsers_line_and_column() -> None:
    message = error_of('fail-on = "high"\n[[allow]\n')
    assert message.startswith("cfg/.keysweep.toml:2:"), message
    assert "not valid TOML" in message


def test_extra_rule_invalid_regex_is_named() -> None:
    bad = acme().replace("[A-Za-z0-9]{32})", "[A-Za-z0-9{32})")
    message = error_of('fail-on = "high"\n' + bad)
    assert "cfg/.keysweep.toml:3: rules[0] rule 'acme.api-token'" in message, message
    assert "bad pattern" in message


def test_extra_rule_without_examples_is_refused() -> None:
    text = acme().replace('examples = ["acme_tok_{alnum:32}"]\n', "")
    message = error_of(text)
    assert "rules[0] rule 'acme.api-token'" in message and "at least one example" in message, message


def test_extra_rule_unknown_key_and_taken_id() -> None:
    message = error_of(acme('colour = "red"'))
    assert "unknown keys ['colour']" in message
    taken = acme().replace('"acme.api-token"', '"openai.project-key"')
    taken = taken.replace('provider = "acme"', 'provider = "openai"')
    assert "already taken" in error_of(taken)


def test_a_valid_config() -> None:
    text = (
        'fail-on = "critical"\nbaseline = ".keysweep-baseline.json"\n'
        'fingerprint-key = "acme-secrets-2024-key"\ndisable-rules = ["groq.api-key"]\n'
        '[[allow]]\npaths = ["tests/fixtures/**"]\nreason = " revoked samples "\nrules = ["openai.project-key"]\n'
        '[[severity]]\npaths = ["scripts/**"]\nseverity = "low"\n' + acme()
    )
    s = parse(text)
    from scanner.suppress.settings import Settings

    assert isinstance(s, Settings)
    assert (s.fail_on, s.baseline, s.fingerprint_key) == (
        "critical",
        ".keysweep-baseline.json",
        b"acme-secrets-2024-key",
    )
    assert s.policy.disabled_rules == {"groq.api-key"}
    (allow,) = s.policy.allow
    assert allow.reason == "revoked samples" and allow.rules == ("openai.project-key",)
    assert allow.paths[0].matches("tests/fixtures/a/b.env") and not allow.paths[0].matches(
        "src/tests/fixtures/x"
    )
    assert s.policy.overrides[0].severity is Severity.LOW
    assert [r.id for r in s.rules] == ["acme.api-token"]
    # the config may name its own rules (allow, disable, override)
    s2 = parse('disable-rules = ["acme.api-token"]\n' + acme())
    assert isinstance(s2, Settings) and s2.policy.disabled_rules == {"acme.api-token"}


# --- globs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("tests/**", "tests/a/b/c.env", True),
        ("tests/**", "src/tests/a.env", False),
        ("*.env", "deep/down/x.env", True),
        ("docs/*.md", "docs/a/b.md", False),
        ("docs/*.md", "docs/b.md", True),
        ("a/**/b.json", "a/b.json", True),
        ("a/**/b.json", "a/x/y/b.json", True),
        ("fixture?.json", "fixture1.json", True),
        ("fixture?.json", "fixture12.json", False),
        ("[!x]y.txt", "zy.txt", True),
        ("[!x]y.txt", "xy.txt", False),
        ("build/", "pkg/build/out.js", True),
    ],
)
def test_globs(glob: str, path: str, expected: bool) -> None:
    assert compile_glob(glob).matches(path) is expected


@pytest.mark.parametrize("glob", ["", "  ", "/abs", "a/../b", "a/./b", "a//b", "x**", "[abc", "[]", "x\\"])
def test_bad_globs(glob: str) -> None:
    with pytest.raises(GlobError):
        compile_glob(glob)


# --- fail-on precedence -----------------------------------------------------------------------


def test_fail_on_precedence() -> None:
    s = parse('fail-on = "critical"\n')
    from scanner.suppress.settings import Settings

    assert isinstance(s, Settings)
    here = Path(".")
    files = ConfigFiles(s)
    assert resolve_config(Request(here), rules(), files).fail_on is Severity.CRITICAL  # the config's
    assert resolve_config(Request(here, fail_on="low"), rules(), files).fail_on is Severity.LOW  # argv wins
    assert resolve_config(Request(here, fail_on="none"), rules(), files).fail_on is None
    assert resolve_config(Request(here), rules()).fail_on is Severity.HIGH  # the default


def _repo_dir(tmp_path: Path, config: str) -> Path:
    d = tmp_path / "proj"
    d.mkdir()
    (d / ".env").write_text(f"OPENAI_API_KEY={make_key(seed=7)}\n")
    (d / ".keysweep.toml").write_text(config)
    return d


def test_cli_config_found_at_the_root_and_fail_on(tmp_path: Path) -> None:
    d = _repo_dir(tmp_path, 'fail-on = "critical"\n')
    assert cli.main(["scan", str(d), "--jobs", "1"]) == 0  # a high finding under fail-on critical
    assert cli.main(["scan", str(d), "--jobs", "1", "--fail-on", "high"]) == 1
    other = tmp_path / "other.toml"
    other.write_text('fail-on = "high"\n')
    assert cli.main(["scan", str(d), "--jobs", "1", "--config", str(other)]) == 1


def test_cli_config_error_is_exit_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    d = _repo_dir(tmp_path, 'fail-on = "high"\n\n[[allow]]\nreason = "x"\npaths = ["a/[b"]\n')
    assert cli.main(["scan", str(d), "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{d / '.keysweep.toml'}:5: allow[0].paths[0]: bad glob" in err, err
    missing = tmp_path / "nope.toml"
    assert cli.main(["scan", str(d), "--config", str(missing)]) == 2
    assert "cannot read the config" in capsys.readouterr().err


def test_cli_extra_rule_finds_its_secret(tmp_path: Path) -> None:
    import random

    from scanner.rules.templates import expand

    d = _repo_dir(tmp_path, acme())
    (d / ".env").write_text(f'ACME_TOKEN="{expand("acme_tok_{alnum:32}", random.Random(3))}"\n')
    out = tmp_path / "r.json"
    assert cli.main(["scan", str(d), "--jobs", "1", "--json", str(out)]) == 1
    import json

    doc = json.loads(out.read_text())
    assert [f["rule_id"] for f in doc["findings"]] == ["acme.api-token"]


# --- rules --check ------------------------------------------------------------------------------


def test_rules_check_runs_the_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.toml"
    good.write_text(acme())
    assert cli.main(["rules", "--check", str(good)]) == 0
    assert (
        "1 rules valid; 1 examples found by their rule, 1 negative examples not found"
        in capsys.readouterr().out
    )
    # an example the pattern cannot match: the check fails and names the rule and the template
    bad = tmp_path / "bad.toml"
    bad.write_text(acme().replace('examples = ["acme_tok_{alnum:32}"]', 'examples = ["acme_tok_{alnum:20}"]'))
    assert cli.main(["rules", "--check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "rule 'acme.api-token': examples[0] 'acme_tok_{alnum:20}' is not found" in err, err
    # a negative example the rule does find
    neg = tmp_path / "neg.toml"
    neg.write_text(acme().replace('"acme_tok_{alnum:12}"', '"acme_tok_{alnum:32}"'))
    assert cli.main(["rules", "--check", str(neg)]) == 2
    assert "negative_examples[0]" in capsys.readouterr().err


def test_rules_check_yaml_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KEYSWEEP_ENGINE", "python")
    y = tmp_path / "acme.yml"
    y.write_text(
        textwrap.dedent(
            """\
            provider: acme
            rules:
              - id: acme.api-token
                name: Acme API token
                pattern: '(?P<secret>acme_tok_[A-Za-z0-9]{32})'
                max_length: 41
                keywords: [acme_tok_]
                severity: high
                confidence: high
                examples: ["acme_tok_{alnum:32}"]
            """
        )
    )
    assert cli.main(["rules", "--check", str(y)]) == 0
    bundled = Path(cli.__file__).parent / "rules" / "openai.yml"
    assert cli.main(["rules", "--check", str(bundled)]) == 0
    capsys.readouterr()


def test_usage_error_base_class() -> None:
    assert issubclass(ConfigError, UsageError)
