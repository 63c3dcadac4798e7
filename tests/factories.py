"""The one way a test builds a `Finding` by hand (the scanner builds them in findings.py).

`make_finding` fills every field a finding must have with a plain default (a high, confident
secret of `openai.project-key` in the repository, digests made up from the rule id, no key-shaped
value anywhere), so a test names only what it is about; `Finding`'s own defaults cover the rest.
"""

from __future__ import annotations

import hashlib
from typing import Any

from scanner.model import Confidence, Exposure, Finding, Kind, Location, Severity


def made_up_digest(text: str) -> str:
    """A SHA-256 hex digest of `text`: the shape of a secret's digest or a fingerprint."""
    return hashlib.sha256(text.encode()).hexdigest()


def make_finding(
    rule_id: str = "openai.project-key", *, locations: tuple[Location, ...] = (), **fields: Any
) -> Finding:
    """A Finding of `rule_id` at `locations`; `fields` set any other field of `Finding`."""
    values: dict[str, Any] = {
        "kind": Kind.SECRET,
        "provider": rule_id.split(".")[0],
        "severity": Severity.HIGH,
        "confidence": Confidence.HIGH,
        "secret_sha256": made_up_digest(f"secret of {rule_id}"),
        "redacted": "x…",
        "fingerprint": made_up_digest(f"fingerprint of {rule_id}"),
        "exposure": Exposure.REPOSITORY,
        "locations_total": len(locations),
    }
    values.update(fields)
    return Finding(rule_id=rule_id, locations=locations, **values)
