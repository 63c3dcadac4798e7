"""One line on a secret's exposure window (issue 24), the same in the console, the summary and
SARIF: "in history for 14 months, still at HEAD"; "exposed for 3 days, removed 2024-05-01, still
in history"; with "never rotated" and the environments it is shared across when they apply."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.model import Finding

_TIME = "%Y-%m-%dT%H:%M:%SZ"


def duration(days: int) -> str:
    """Days as a person says them: up to 59 days in days, then months, from two years in years."""
    if days < 60:
        return "1 day" if days == 1 else f"{days} days"
    if days < 730:
        return f"{days * 12 // 365} months"
    return f"{days // 365} years"


def window_line(f: Finding) -> str | None:
    """The finding's window in one line, or None when it has none (an exposure, an undated file)."""
    parts: list[str] = []
    if f.removed is not None and f.first_seen is not None:
        days = max(0, (_time(f.removed.commit_time) - _time(f.first_seen.commit_time)).days)
        parts.append(f"exposed for {duration(days)}, removed {f.removed.commit_time[:10]}, still in history")
    elif f.age_days is not None:
        where = "still at HEAD" if f.present_at_head else "not at HEAD"
        parts.append(f"in history for {duration(f.age_days)}, {where}")
    if f.never_rotated is not None:
        n = f.never_rotated.places_at_head
        parts.append(f"never rotated: {f.never_rotated.reason} ({n} place{'s' if n != 1 else ''} at HEAD)")
    envs = f.environments
    if envs is not None and envs.shared:
        when = "at the same time" if envs.together else "one after another"
        parts.append(f"shared across environments {', '.join(envs.names)} ({when})")
    return "; ".join(parts) or None


def _time(text: str) -> datetime:
    return datetime.strptime(text, _TIME).replace(tzinfo=UTC)
