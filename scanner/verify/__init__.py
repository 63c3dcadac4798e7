"""Opt-in live verification (issue 25): is a found key usable right now?

`verify(candidates, settings) -> {digest: Verification}` is the whole interface an enrich step
needs. The requests come only from the bundled rules' `verify:` blocks
(scanner/rules/verifiers.py): read-only, free, to the provider's own API host.
"""

from __future__ import annotations

from scanner.verify.runner import Candidate, VerifySettings, judge, verify

__all__ = ["Candidate", "VerifySettings", "judge", "verify"]
