"""Live verification as an enrich step (issue 25, `--verify`): is each found key usable now?

It runs last, over the sources' results, because they are what holds the secret values
(`Match.secret`; a report never does). It builds the findings the report will hold from the same
hits (`hits.reported_hits`, `findings.build_findings`), so it asks about exactly those secrets,
each under its finding's own rule — never a weak secret (no digest is published), an exposure,
or a `local-only` one (the runner answers those without a request) — and records the answers
by digest on each result (`SourceResult.verifications`), which `pipeline.build_report` attaches
to the findings. It runs before the suppress stage: a secret later allowlisted or baselined is
asked about too (a baselined key that still works is worth knowing).

AWS (`pairs`): a key ID is checked with the secret access key beside it in the same text — the
nearest `aws.secret-access-key` match within the key ID's companion window, or else the nearest
companion value the detector found there (`Match.pair`: a console's credentials CSV, `aws
configure set …`, a Secret's next base64 value). The value stays in memory: the report, the
cache and the saved state only ever hold digests. A key ID with no secret beside it is never
checked (the runner says why).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from scanner.enrich.hits import reported_hits
from scanner.enrich.reads import Sourced
from scanner.findings import build_findings
from scanner.model import Match, Position, Rule
from scanner.sources.base import SourceResult, secret_id

if TYPE_CHECKING:
    from scanner.verify.step import Paired


def _rank(a: Match, at: Position, b: Match, bt: Position) -> tuple[int, int, int]:
    """How near `b` is to `a`: line breaks between them, 1 when `b` comes first (an ID is
    written before its secret), then bytes between — the same order as the detector's
    companion (`Matcher._companion_near`)."""
    if b.end <= a.start:
        return (at.line - bt.end_line, 1, a.start - b.end)
    return (bt.line - at.end_line, 0, b.start - a.end)


def pairs_of(results: Sequence[SourceResult], rules: Mapping[str, Rule]) -> dict[str, Paired]:
    """Each key ID's secrets (by the key ID's digest): in every text holding it, the nearest
    secret-access-key match within its companion window, else the detector's companion value."""
    from scanner.verify.step import PAIRED_WITH, Paired

    found: dict[str, list[str]] = {}
    choices: dict[str, int] = {}
    for res in results:
        for text in res.founds:
            for m, at in text.hits:
                partner, rule = PAIRED_WITH.get(m.rule_id), rules.get(m.rule_id)
                if partner is None or rule is None or m.secret is None:
                    continue
                ranked = (
                    (_rank(m, at, n, nt), n.secret)
                    for n, nt in text.hits
                    if n.rule_id == partner
                    and n.secret is not None
                    and (n.end <= m.start or n.start >= m.end)
                )
                near = sorted(r for r in ranked if r[0][2] <= rule.companion_window)
                secret = near[0][1] if near else m.pair
                if secret is None:
                    continue
                digest = secret_id(m)
                held = found.setdefault(digest, [])
                if secret not in held:
                    held.append(secret)
                choices[digest] = max(choices.get(digest, 1), len({v for _, v in near}))
    return {d: Paired(tuple(v), choices[d]) for d, v in found.items()}


class LiveVerification:
    name = "verification"

    def __call__(self, found: Sequence[Sourced]) -> list[Sourced]:
        asked = next((s.reads.verify for s in found if s.reads.verify is not None), None)
        if asked is None:
            return list(found)
        from scanner.verify.step import candidates, fold  # only with --verify: the runner loads asyncio

        verifier, rules = asked
        rule_map = {r.id: r for r in rules}
        results = [s.result for s in found]
        hits = reported_hits(results, rule_map)
        values = {secret_id(h.match): h.match.secret for h in hits if h.match.secret is not None}
        findings = build_findings(hits, rule_map)
        pairs = pairs_of(results, rule_map)
        answers = fold(findings, pairs, verifier.check(candidates(findings, values, pairs)))
        out: list[Sourced] = []
        for s in found:
            held = {secret_id(m) for f in s.result.founds for m, _pos in f.hits}
            mine = {d: v for d, v in answers.items() if d in held}
            out.append(Sourced(replace(s.result, verifications=mine), s.reads))
        return out
