"""No formatter can write the secret: only its redacted preview and digest are in the report.

The secret is generated at run time from a seeded RNG, so no key-shaped literal is in the
repository. The report is built the way the pipeline builds it (preview = public prefix, an
ellipsis, the last four characters and the length; digest = SHA-256), and every output is
searched for any 8-character window of the secret, raw, JSON-escaped and base64-encoded: JSON,
SARIF, the console, the job summary and the annotations.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import random
import re
import string
from pathlib import Path

import pytest

from scanner.config import ScanConfig
from scanner.model import Kind, Location, Position, Rule, SourceKind
from scanner.output.annotations import range_annotations, render_annotations
from scanner.output.console import render_console
from scanner.output.json import render_json
from scanner.output.sarif import render_sarif
from scanner.output.summary import RepoLinks, SummaryContext, render_summary
from scanner.pipeline import scan
from tests import keys
from tests.output_fixtures import ALICE, history_report

PREFIX = "sk-test-"
ALPHABET = string.ascii_letters + string.digits + "-_/+"
WINDOW = 8


def fake_secret(seed: int) -> str:
    rng = random.Random(seed)
    return PREFIX + "".join(rng.choice(ALPHABET) for _ in range(48))


def windows(text: str) -> set[str]:
    return {text[i : i + WINDOW] for i in range(len(text) - WINDOW + 1)}


def forbidden(secret: str) -> set[str]:
    """Every 8-character window of the secret in the forms it could leak in.

    Windows made only of the public prefix are allowed: the preview shows the prefix by design.
    """
    raw = windows(secret) - windows(PREFIX)
    escaped = windows(json.dumps(secret)[1:-1]) - windows(PREFIX)
    encoded: set[str] = set()
    for shift in range(3):  # base64 at every byte alignment
        b64 = base64.b64encode(secret[shift:].encode()).decode()
        prefix_chars = max(0, (len(PREFIX) - shift) * 4 // 3 - 1)
        encoded |= {b64[i : i + WINDOW] for i in range(prefix_chars, len(b64) - WINDOW + 1)}
        encoded |= windows(base64.urlsafe_b64encode(secret[shift:].encode()).decode()[prefix_chars:])
    return raw | escaped | encoded


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_output_contains_the_secret(seed: int) -> None:
    secret = fake_secret(seed)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    base = history_report()
    finding = dataclasses.replace(
        base.findings[0],
        secret_sha256=digest,
        redacted=f"{PREFIX}…{secret[-4:]} ({len(secret)})",
        fingerprint=hmac.new(b"keysweep-test-key", digest.encode(), hashlib.sha256).hexdigest(),
        first_seen=ALICE,
        locations=(
            Location(SourceKind.HISTORY, "app/.env", Position(3, 9, 3, 65, 40), commit=ALICE.commit),
            *base.findings[0].locations,
        ),
        locations_total=3,
    )
    report = dataclasses.replace(base, findings=(finding, *base.findings[1:]))
    outputs = {
        "json": render_json(report),
        "sarif": render_sarif(report),
        "console": render_console(report, color=False),
        "console-colour": render_console(report, color=True),
        "summary": render_summary(
            report, SummaryContext(links=RepoLinks.of("https://github.com", "octo/app"))
        ),
        "annotations": render_annotations(range_annotations(report, report)),
    }
    needles = forbidden(secret)
    assert len(needles) > 40
    for name, text in outputs.items():
        leaked = sorted(needle for needle in needles if needle in text)
        assert leaked == [], f"{name} leaks {leaked}"
        assert secret[-4:] in text  # the preview is there, so the search is looking at the right text


def test_the_search_would_catch_a_leak() -> None:
    secret = fake_secret(7)
    text = render_json(history_report()).replace("sk-proj-…X9aA", secret[20:30])
    assert any(needle in text for needle in forbidden(secret))
    encoded = base64.b64encode(secret[1:].encode()).decode()
    assert any(needle in encoded for needle in forbidden(secret))


# --- a secret used as a name ------------------------------------------------------------------------
# A key can be a name: a YAML mapping keyed by keys, a JSON object of key -> owner. The context of
# the finding it names must not show any of it (detect/context.py): every rule's key is planted as
# the name of another rule's key, in several syntaxes, and every output is searched for every
# 12-character piece of every planted key (the public prefix aside).

PIECE = 12
NAME_FORMS = (
    "{name}: {value}\n",
    "  {name}: {value}\n",
    "{name}={value}\n",
    'x = {{"{name}": "{value}"}}\n',
    'var c={{{name}:"{value}"}};\n',
    "{name} = '{value}'\n",
    "- {name}: {value}\n",
    "Authorization: {name}: {value}\n",
    '{{"{slashed}": "{value}"}}\n',  # PHP's json_encode escapes '/'
)


def _single_line(r: Rule) -> bool:
    return r.kind is Kind.SECRET and not any(c.isspace() for c in keys.make_key(r.id))


def _self_named(r: Rule) -> bool:
    """A rule whose key is found under any name (the value the secret-as-name is assigned to)."""
    gated = r.context or r.accept or r.slot_pattern or r.companion or r.example_name != "API_TOKEN"
    gated = gated or r.validator == "credential-slot"  # found only under a credential's name
    return (
        _single_line(r)
        and not gated
        and r.validator != "db-url"  # a URL password has no digest
        and _whole_secret(r)
    )


def _secret_of(r: Rule, key: str) -> str:
    """What of a planted key is secret: the rule's `secret` group (a webhook URL's token, a
    connection string's key), not the public text around it (`https://discord.com/…`,
    `SharedAccessKey=`)."""
    found = re.search(r.pattern, key)
    return found.group("secret") if found is not None and found.group("secret") else key


def _whole_secret(r: Rule) -> bool:
    """The key is the secret itself, not a connection string around it (`…;AccountKey=<secret>;…`),
    so the value's digest is the finding's."""
    key = keys.make_key(r.id)
    found = re.search(r.pattern, key)
    return found is not None and found.group("secret") == key


def _pieces(key: str, prefix: str) -> set[str]:
    if "://" in key:  # a webhook URL: its host, path and ids are public (rule help quotes them), the
        prefix = max(prefix, key[: key.rfind("/") + 1], key=len)  # last segment is the secret
    out = {key[i : i + PIECE] for i in range(len(key) - PIECE + 1) if i + PIECE > len(prefix)}
    return out | {json.dumps(p)[1:-1] for p in out}


def _planted(root: Path) -> tuple[dict[str, str], list[str]]:
    """Writes the files; returns every planted key with its public prefix, and the values."""
    names = [r for r in keys.rules() if _single_line(r)]
    values = [r for r in keys.rules() if _self_named(r)]
    planted: dict[str, str] = {}
    found: list[str] = []
    for k, r in enumerate(names):
        lines = []
        for f, form in enumerate(NAME_FORMS):
            name = keys.make_key(r.id, seed=f)
            v = values[(k + f) % len(values)]
            value = keys.make_key(v.id, seed=1000 + k * len(NAME_FORMS) + f)
            planted[_secret_of(r, name)], planted[value] = r.prefix, v.prefix
            found.append(value)
            lines.append(form.format(name=name, value=value, slashed=name.replace("/", "\\/")))
        (root / f"{r.id}.yml").write_text("".join(lines))
    return planted, found


@pytest.mark.parametrize("engine", ["hyperscan", "python"])
def test_a_secret_used_as_a_name_leaks_into_no_output(tmp_path: Path, engine: str) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    planted, values = _planted(root)
    report = scan(ScanConfig(target=root, jobs=1, engine=engine), keys.rules(), keys.matcher(engine))
    digests = {f.secret_sha256 for f in report.findings}
    assert {hashlib.sha256(v.encode()).hexdigest() for v in values} <= digests  # every value is found
    assert any(loc.context for f in report.findings for loc in f.locations)  # and names are shown
    outputs = {
        "json": render_json(report),
        "sarif": render_sarif(report),
        "console": render_console(report, color=False),
        "summary": render_summary(
            report, SummaryContext(links=RepoLinks.of("https://github.com", "octo/app"))
        ),
        "annotations": render_annotations(range_annotations(report, report)),
    }
    pieces = {piece: secret for secret, prefix in planted.items() for piece in _pieces(secret, prefix)}
    for out, text in outputs.items():
        # every 12-character window of the output looked up, not every piece searched for
        leaked = sorted(
            {(pieces[w][:6], w) for i in range(len(text) - PIECE + 1) if (w := text[i : i + PIECE]) in pieces}
        )
        assert leaked == [], f"{out} leaks {len(leaked)} pieces: {leaked[:5]}"
