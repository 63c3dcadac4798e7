"""The enrich step's input: findings and the scan's in-memory values become candidates."""

from __future__ import annotations

import hashlib

from scanner.model import Confidence, Exposure, Finding, Kind, Severity
from scanner.verify.step import candidates
from tests.factories import make_finding
from tests.keys import make_key


def finding(
    rule_id: str, digest: str | None, exposure: Exposure = Exposure.REPOSITORY, kind: Kind = Kind.SECRET
) -> Finding:
    return make_finding(
        kind=kind,
        rule_id=rule_id,
        provider=rule_id.split(".")[0],
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        secret_sha256=digest,
        redacted="x…",
        fingerprint="f",
        exposure=exposure,
        locations=(),
        locations_total=0,
        also_matched=("clerk.secret-key",),
    )


def test_findings_become_distinct_candidates_by_their_own_rule() -> None:
    key = make_key("stripe.secret-key", 1)
    local = make_key("openai.project-key", 2)
    d = {v: hashlib.sha256(v.encode()).hexdigest() for v in (key, local)}
    got = candidates(
        [
            finding("stripe.secret-key", d[key]),
            finding("stripe.secret-key", d[key]),  # the same secret twice: one candidate
            finding("openai.project-key", d[local], Exposure.LOCAL_ONLY),
            finding("generic.weak", None),  # a weak secret publishes no digest
            finding("browser.exposure", "e" * 64, kind=Kind.EXPOSURE),
            finding("openai.project-key", "0" * 64),  # no value held: nothing to send
        ],
        {d[key]: key, d[local]: local, "e" * 64: "x"},
    )
    assert [(c.rule_id, c.secret, c.local_only) for c in got] == [
        ("stripe.secret-key", key, False),
        ("openai.project-key", local, True),
    ]
