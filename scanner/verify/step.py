"""What the enrich step hands the runner: the distinct secrets of a report's findings.

The report keeps only digests; the secret values are the scan's matches, held in memory by the
step that calls this (`values`: digest -> secret, from `model.secret_id(match)` and
`match.secret`). Only a finding's own (naming) rule is ever used: a key that merely shares
another provider's shape (`also_matched`) is never sent to that provider.

Pairs (AWS): a key ID is checked only with a secret access key found beside it (`pairs`, built by
the enrich step from the matches: scanner/enrich/verification.py). Each distinct (key ID,
secret) pair is one candidate, identified by `pair_id` (digests only), so one request is made
per pair; `fold` turns the pairs' answers back into one answer per finding: the key ID's, and
the same answer for the secret access key that was its pair.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

from scanner import watchdog
from scanner.model import Exposure, Finding, Kind, Verification, VerifyStatus
from scanner.verify.runner import Candidate, VerifySettings, verify

# a rule whose keys are checked only with their companion secret -> the rule naming that secret
PAIRED_WITH = {"aws.access-key-id": "aws.secret-access-key"}


@dataclass(frozen=True, slots=True)
class Paired:
    """A key ID's secrets: the nearest one beside each place that holds it, distinct, in the
    order found (values in memory only, never in repr); `choices`: the most distinct secrets
    seen beside any one place (more than one: the nearest was taken, and the answer says so)."""

    secrets: tuple[str, ...] = field(repr=False)
    choices: int = 1


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def pair_id(key_digest: str, secret: str) -> str:
    """The identity of one (key ID, secret) pair: digests only, so nothing of either value."""
    return _sha(f"{key_digest}\0{_sha(secret)}")


def candidates(
    findings: Iterable[Finding], values: Mapping[str, str], pairs: Mapping[str, Paired] | None = None
) -> list[Candidate]:
    """One candidate per distinct secret finding whose value is in `values`, and for a key ID
    with secrets in `pairs` (by the key ID's digest) one per distinct pair instead. Exposures
    and weak secrets (no published digest) are not candidates."""
    out: list[Candidate] = []
    seen: set[str] = set()
    for f in findings:
        digest = f.secret_sha256
        if f.kind is not Kind.SECRET or digest is None or digest in seen or digest not in values:
            continue
        seen.add(digest)
        local = f.exposure is Exposure.LOCAL_ONLY
        paired = (pairs or {}).get(digest)
        if paired is None or not paired.secrets:
            out.append(Candidate(digest, values[digest], f.rule_id, local))
            continue
        for secret in paired.secrets:
            pid = pair_id(digest, secret)
            out.append(Candidate(pid, values[digest], f.rule_id, local, secret))
    return out


def _best(answers: Sequence[Verification]) -> Verification:
    """Live if any pair is, else revoked if any is (the key ID itself is invalid), else the
    first unknown."""
    for status in (VerifyStatus.LIVE, VerifyStatus.REVOKED):
        for a in answers:
            if a.status is status:
                return a
    return answers[0]


def fold(
    findings: Iterable[Finding], pairs: Mapping[str, Paired], answers: Mapping[str, Verification]
) -> dict[str, Verification]:
    """One answer per finding's digest from the runner's answers (by candidate digest): a key
    ID's is the best of its pairs', and a secret access key that was a pair's secret gets the
    same (live: it works with that key ID; revoked: the key ID it belongs with no longer exists;
    a signature mismatch: it is not that key ID's secret, unknown). A secret access key paired
    with no key ID stays unknown and says why."""
    out = dict(answers)
    of_secret: dict[str, list[Verification]] = {}
    for key_digest, paired in pairs.items():
        got = [
            (s, answers[pair_id(key_digest, s)]) for s in paired.secrets if pair_id(key_digest, s) in answers
        ]
        for secret, answer in got:
            out.pop(pair_id(key_digest, secret))
            of_secret.setdefault(_sha(secret), []).append(answer)
        if not got:
            continue
        best = _best([a for _, a in got])
        notes = []
        if paired.choices > 1:
            notes.append(f"signed with the nearest of the {paired.choices} secret access keys beside it")
        if len(got) > 1:
            notes.append(f"{len(got)} different secrets found beside it: one request for each")
        out[key_digest] = replace(best, reason=best.reason + (f" ({'; '.join(notes)})" if notes else ""))
    partners = set(PAIRED_WITH.values())
    for f in findings:
        d = f.secret_sha256
        if d is None or f.rule_id not in partners:
            continue
        if d in of_secret:
            best = _best(of_secret[d])
            out[d] = replace(best, reason=f"paired with the access key ID beside it: {best.reason}")
        elif d in out and out[d].reason == "no verifier":
            why = "not paired with any access key ID (a secret access key is checked only with its key ID)"
            out[d] = replace(out[d], reason=why)
    return out


@contextmanager
def _alive(label: str) -> Iterator[None]:
    """The stall watchdog's heart beaten every second while the requests run: they are bounded by
    the budget, which may be longer than the watchdog's stall limit (scanner/watchdog.py)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(1.0):
            watchdog.beat()

    thread = threading.Thread(target=beat, name="keysweep-verify-beat", daemon=True)
    with watchdog.doing(label):
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


class Verifier:
    """The run's live verification (`--verify`): the entry point's settings, and every answer
    given so far, so that a run that scans twice (the Action's range and tree) asks once per
    distinct secret, within the one budget. Built by `config.resolve_config`; the enrich step
    (scanner/enrich/verification.py) calls `check`."""

    def __init__(self, settings: VerifySettings) -> None:
        self.settings = settings
        self._answers: dict[str, Verification] = {}
        self._spent = 0.0

    def check(self, candidates: Sequence[Candidate]) -> dict[str, Verification]:
        """A `Verification` per candidate's digest; only the ones not asked yet are asked."""
        todo = [c for c in candidates if c.digest not in self._answers]
        if todo:
            t0 = time.monotonic()
            left = max(0.0, self.settings.budget - self._spent)
            with _alive("live verification"):
                self._answers.update(verify(todo, replace(self.settings, budget=left)))
            self._spent += time.monotonic() - t0
        return {c.digest: self._answers[c.digest] for c in candidates}
