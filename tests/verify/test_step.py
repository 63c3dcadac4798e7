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


def test_a_key_id_is_one_candidate_per_distinct_pair_and_never_one_alone() -> None:
    from scanner.verify.step import Paired, pair_id

    kid, lone = make_key("aws.access-key-id", 1), make_key("aws.access-key-id", 2)
    s1, s2 = make_key("aws.secret-access-key", 1), make_key("aws.secret-access-key", 2)
    d = {v: hashlib.sha256(v.encode()).hexdigest() for v in (kid, lone, s1)}
    got = candidates(
        [finding("aws.access-key-id", d[kid]), finding("aws.access-key-id", d[lone], Exposure.LOCAL_ONLY)],
        {d[kid]: kid, d[lone]: lone},
        {d[kid]: Paired((s1, s2), 2), d[lone]: Paired((s1,))},
    )
    assert [(c.digest, c.secret, c.pair, c.local_only) for c in got] == [
        (pair_id(d[kid], s1), kid, s1, False),
        (pair_id(d[kid], s2), kid, s2, False),
        (pair_id(d[lone], s1), lone, s1, True),  # local-only: the runner answers without a request
    ]
    assert len({c.digest for c in got}) == 3 and all(s1 not in c.digest and s2 not in c.digest for c in got)
    assert s1 not in repr(got) and s2 not in repr(got) and s1 not in repr(Paired((s1,)))


def test_fold_gives_a_key_id_its_best_pair_and_its_secret_the_same_answer() -> None:
    from scanner.model import Verification, VerifyStatus
    from scanner.verify.step import Paired, fold, pair_id

    def sha(v: str) -> str:
        return hashlib.sha256(v.encode()).hexdigest()

    kid, other = make_key("aws.access-key-id", 1), make_key("aws.access-key-id", 3)
    s1, s2, alone = (make_key("aws.secret-access-key", n) for n in (1, 2, 4))
    live = Verification(VerifyStatus.LIVE, "the provider accepted the key", 200, "t")
    mismatch = Verification(VerifyStatus.UNKNOWN, "not its secret", 403, "t")
    revoked = Verification(VerifyStatus.REVOKED, "invalid", 403, "t")
    findings = [
        finding("aws.access-key-id", sha(kid)),
        finding("aws.access-key-id", sha(other)),
        *(finding("aws.secret-access-key", sha(s)) for s in (s1, s2, alone)),
    ]
    pairs = {sha(kid): Paired((s1, s2), 2), sha(other): Paired((s2,))}
    answers = {
        pair_id(sha(kid), s1): mismatch,
        pair_id(sha(kid), s2): live,
        pair_id(sha(other), s2): revoked,
        **{sha(s): Verification(VerifyStatus.UNKNOWN, "no verifier") for s in (s1, s2, alone)},
    }
    out = fold(findings, pairs, answers)
    assert set(out) == {sha(v) for v in (kid, other, s1, s2, alone)}  # no pair's identity is left
    assert out[sha(kid)].status is VerifyStatus.LIVE and out[sha(kid)].http_status == 200
    assert "nearest of the 2 secret access keys" in out[sha(kid)].reason
    assert "2 different secrets found beside it" in out[sha(kid)].reason
    assert out[sha(other)] == revoked
    assert out[sha(s2)].status is VerifyStatus.LIVE  # live with one key ID beats revoked with another
    assert out[sha(s2)].reason == "paired with the access key ID beside it: the provider accepted the key"
    assert out[sha(s1)].status is VerifyStatus.UNKNOWN and out[sha(s1)].reason.endswith("not its secret")
    assert (
        out[sha(alone)].reason
        == "not paired with any access key ID (a secret access key is checked only with its key ID)"
    )
