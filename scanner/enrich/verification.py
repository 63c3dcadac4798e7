"""Live verification as an enrich step (issue 25, `--verify`): is each found key usable now?

It runs last, over the sources' results, because they are what holds the secret values
(`Match.secret`; a report never does). It builds the findings the report will hold from the same
hits (`hits.reported_hits`, `findings.build_findings`), so it asks about exactly those secrets,
each under its finding's own rule — never a weak secret (no digest is published), an exposure,
or a `local-only` one (the runner answers those without a request) — and records the answers
by digest on each result (`SourceResult.verifications`), which `pipeline.build_report` attaches
to the findings. It runs before the suppress stage: a secret later allowlisted or baselined is
asked about too (a baselined key that still works is worth knowing).

AWS: detect finds a key ID's secret access key beside it only to judge the key ID's severity, and
keeps no value of it, so no pair is passed and a key ID is `unknown` (the runner says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from scanner.enrich.hits import reported_hits
from scanner.enrich.reads import Sourced
from scanner.findings import build_findings
from scanner.sources.base import secret_id


class LiveVerification:
    name = "verification"

    def __call__(self, found: Sequence[Sourced]) -> list[Sourced]:
        asked = next((s.reads.verify for s in found if s.reads.verify is not None), None)
        if asked is None:
            return list(found)
        from scanner.verify.step import candidates  # only with --verify: the runner loads asyncio

        verifier, rules = asked
        rule_map = {r.id: r for r in rules}
        hits = reported_hits([s.result for s in found], rule_map)
        values = {secret_id(h.match): h.match.secret for h in hits if h.match.secret is not None}
        answers = verifier.check(candidates(build_findings(hits, rule_map), values))
        out: list[Sourced] = []
        for s in found:
            held = {secret_id(m) for f in s.result.founds for m, _pos in f.hits}
            mine = {d: v for d, v in answers.items() if d in held}
            out.append(Sourced(replace(s.result, verifications=mine), s.reads))
        return out
