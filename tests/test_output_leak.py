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
import string

import pytest

from scanner.model import Location, Position, SourceKind
from scanner.output.console import render_console
from scanner.output.github import range_annotations, render_annotations
from scanner.output.json import render_json
from scanner.output.sarif import render_sarif
from scanner.output.summary import RepoLinks, SummaryContext, render_summary
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
