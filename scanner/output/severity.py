"""The one table from keysweep severity to SARIF `level` and GitHub `security-severity`.

GitHub reads `security-severity` as a score: above 9.0 is critical, 7.0–8.9 high, 4.0–6.9
medium, 0.1–3.9 low (github.md §1.1). It does not say where exactly 9.0 falls, so critical uses
9.5. Every formatter that needs a level imports it from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from scanner.model import Severity

SarifLevel = Literal["error", "warning", "note"]


@dataclass(frozen=True, slots=True)
class SeverityLevel:
    """How one severity is told to SARIF consumers."""

    level: SarifLevel
    """SARIF `result.level` and `defaultConfiguration.level`."""
    security_severity: str
    """GitHub's `properties.security-severity`: a decimal score, written as a string."""


def severity_level(severity: Severity) -> SeverityLevel:
    """The SARIF level and security-severity score of `severity` (exhaustive over the enum)."""
    match severity:
        case Severity.CRITICAL:
            return SeverityLevel("error", "9.5")
        case Severity.HIGH:
            return SeverityLevel("error", "8.0")
        case Severity.MEDIUM:
            return SeverityLevel("warning", "5.5")
        case Severity.LOW:
            return SeverityLevel("note", "2.0")
        case _:
            assert_never(severity)


SEVERITY_LEVELS: dict[Severity, SeverityLevel] = {s: severity_level(s) for s in Severity}
"""The same table as a mapping, for readers that want to list it (docs, tests)."""
