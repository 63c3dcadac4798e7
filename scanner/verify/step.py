"""What the enrich step hands the runner: the distinct secrets of a report's findings.

The report keeps only digests; the secret values are the scan's matches, held in memory by the
step that calls this (`values`: digest -> secret, from `model.secret_id(match)` and
`match.secret`). Only a finding's own (naming) rule is ever used: a key that merely shares
another provider's shape (`also_matched`) is never sent to that provider.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from scanner.model import Exposure, Finding, Kind
from scanner.verify.runner import Candidate


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
