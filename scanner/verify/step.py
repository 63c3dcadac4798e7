"""What the enrich step hands the runner: the distinct secrets of a report's findings.

The report keeps only digests; the secret values are the scan's matches, held in memory by the
step that calls this (`values`: digest -> secret, from `model.secret_id(match)` and
`match.secret`). Only a finding's own (naming) rule is ever used: a key that merely shares
another provider's shape (`also_matched`) is never sent to that provider.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace

from scanner import watchdog
from scanner.model import Exposure, Finding, Kind, Verification
from scanner.verify.runner import Candidate, VerifySettings, verify


def candidates(
    findings: Iterable[Finding], values: Mapping[str, str], pairs: Mapping[str, str] | None = None
) -> list[Candidate]:
    """One candidate per distinct secret finding whose value is in `values`; `pairs` gives an
    AWS key ID's secret access key by the key ID's digest. Exposures and weak secrets (no
    published digest) are not candidates."""
    out: dict[str, Candidate] = {}
    for f in findings:
        digest = f.secret_sha256
        if f.kind is not Kind.SECRET or digest is None or digest in out or digest not in values:
            continue
        local = f.exposure is Exposure.LOCAL_ONLY
        out[digest] = Candidate(digest, values[digest], f.rule_id, local, (pairs or {}).get(digest, ""))
    return list(out.values())


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
