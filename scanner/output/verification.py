"""What the provider said of a key (`--verify`), in the words every format uses: a live key is
said to be live, a revoked one plainly ("revoked: clean history only if you must"), an unknown
one with its reason. The texts come from keysweep (the runner's reasons), never from the scanned
content; the formats escape them anyway.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from scanner.model import Finding, Verification, VerifyStatus

REVOKED = "revoked: clean history only if you must"


def said(v: Verification) -> str:
    """One line: the status, then what the answer was and when."""
    when = f", checked {v.checked_at}" if v.checked_at else ""
    match v.status:
        case VerifyStatus.LIVE:
            return f"LIVE (HTTP {v.http_status}{when}): revoke it now"
        case VerifyStatus.REVOKED:
            return f"{REVOKED} ({v.reason}{when})"
        case VerifyStatus.UNKNOWN:
            return f"unknown: {v.reason}{when}"


def document(v: Verification) -> dict[str, Any]:
    """The JSON report's and SARIF's `verification` object."""
    return {
        "status": v.status.value,
        "reason": v.reason,
        "http_status": v.http_status,
        "checked_at": v.checked_at,
    }


def tally(findings: Iterable[Finding]) -> str | None:
    """`2 live, 1 revoked, 3 unknown` over the findings that were checked; None: none was."""
    counts = dict.fromkeys(VerifyStatus, 0)
    for f in findings:
        if f.verification is not None:
            counts[f.verification.status] += 1
    if not any(counts.values()):
        return None
    return ", ".join(f"{n} {status.value}" for status, n in counts.items())


def is_revoked(f: Finding) -> bool:
    return f.verification is not None and f.verification.status is VerifyStatus.REVOKED


def is_live(f: Finding) -> bool:
    return f.verification is not None and f.verification.status is VerifyStatus.LIVE
