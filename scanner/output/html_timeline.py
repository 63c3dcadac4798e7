"""The HTML report's timeline: when each key entered history and, when known, when it left HEAD,
as SVG geometry computed here (numbers and short labels), drawn by the template.

Two views of the same dates: one lane per key for the first `MAX_LANES` keys in the report's order
(most severe first), and a month-by-month histogram of keys entering and leaving for all of them,
so that a report of thousands of keys still has a readable timeline of bounded size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from scanner.model import Finding, Kind

MAX_LANES = 40
WIDTH = 960
LABEL = 230  # the lanes' label column
RIGHT = 20
LANE = 18
LABEL_CHARS = 34  # what fits the label column at 11px
HIST = 70  # the histogram's height each side of its axis
_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)  # tick spacing candidates, in months
_MAX_TICKS = 8


@dataclass(frozen=True, slots=True)
class Lane:
    y: float
    x1: float
    x2: float
    label: str
    severity: str
    state: str  # head (still at HEAD) | removed | gone (gone from HEAD, left when unknown) | unknown
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    entered: float  # heights
    left: float
    title: str


@dataclass(frozen=True, slots=True)
class Timeline:
    keys: int  # keys with a first_seen date
    start: str
    end: str
    lanes: tuple[Lane, ...]
    ticks: tuple[Tick, ...]
    bars: tuple[Bar, ...]
    lanes_height: float
    hist_top: float  # where the histogram's axis is
    height: float
    width: int = WIDTH
    left: int = LABEL
    right: int = WIDTH - RIGHT
    hist: int = HIST


def _when(time: str) -> datetime | None:
    try:
        return datetime.strptime(time[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _span(finding: Finding) -> tuple[datetime, datetime | None, str] | None:
    """(entered, left or None, state) of a dated key."""
    seen = finding.first_seen
    start = _when(seen.commit_time) if seen is not None else None
    if start is None:
        return None
    if finding.removed is not None and (left := _when(finding.removed.commit_time)) is not None:
        return start, max(left, start), "removed"
    if finding.present_at_head is True:
        return start, None, "head"
    if finding.present_at_head is False:
        last = finding.last_seen
        end = _when(last.commit_time) if last is not None else None
        return start, max(end, start) if end is not None else start, "gone"
    return start, start, "unknown"


def _months(start: datetime, end: datetime) -> list[datetime]:
    out, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        out.append(datetime(year, month, 1, tzinfo=UTC))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def timeline(findings: Sequence[Finding]) -> Timeline:
    """The timeline of `findings`' keys (secrets with a first_seen date; exposures are no keys)."""
    spans = [(f, s) for f in findings if f.kind is Kind.SECRET and (s := _span(f)) is not None]
    if not spans:
        return Timeline(0, "", "", (), (), (), 0.0, 0.0, 0.0)
    start = min(s[0] for _, s in spans)
    end = max(max(s[0], s[1] or s[0]) for _, s in spans)
    for f, s in spans:  # the scan's time, when an age says it
        if f.age_days is not None:
            end = max(end, s[0] + timedelta(days=f.age_days))
    months = _months(start, end)
    lo = months[0]
    hi = _next_month(months[-1])
    scale = (WIDTH - RIGHT - LABEL) / max((hi - lo).total_seconds(), 1.0)

    def x(t: datetime) -> float:
        return round(LABEL + (t - lo).total_seconds() * scale, 1)

    lanes = []
    for index, (finding, (entered, left, state)) in enumerate(spans[:MAX_LANES]):
        x2 = x(left) if left is not None else x(end)
        lanes.append(
            Lane(
                y=index * LANE + LANE / 2,
                x1=x(entered),
                x2=max(x2, x(entered)),
                label=_label(f"{finding.provider} {finding.redacted or ''}"),
                severity=finding.severity.value,
                state=state,
                title=_title(finding, entered, left, state),
            )
        )
    lanes_height = len(lanes) * LANE
    hist_top = lanes_height + 30 + HIST
    entries = Counter((s[0].year, s[0].month) for _, s in spans)
    gone = Counter((s[1].year, s[1].month) for _, s in spans if s[2] == "removed" and s[1] is not None)
    peak = max([*entries.values(), *gone.values(), 1])
    bars = []
    for month in months:
        key = (month.year, month.month)
        if key not in entries and key not in gone:
            continue
        x1, x2 = x(month), x(_next_month(month))
        bars.append(
            Bar(
                x=x1,
                width=max(round(x2 - x1 - 1, 1), 1.0),
                entered=round(HIST * entries[key] / peak, 1),
                left=round(HIST * gone[key] / peak, 1),
                title=f"{month:%Y-%m}: {entries[key]} entered, {gone[key]} removed",
            )
        )
    return Timeline(
        keys=len(spans),
        start=f"{start:%Y-%m-%d}",
        end=f"{end:%Y-%m-%d}",
        lanes=tuple(lanes),
        ticks=_ticks(months, x),
        bars=tuple(bars),
        lanes_height=lanes_height,
        hist_top=hist_top,
        height=hist_top + HIST + 24,
    )


def _label(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _next_month(month: datetime) -> datetime:
    return datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)


def _ticks(months: list[datetime], x: Callable[[datetime], float]) -> tuple[Tick, ...]:
    step = next((s for s in _STEPS if len(months) / s <= _MAX_TICKS), _STEPS[-1])
    marks = [m for m in months if (m.year * 12 + m.month - 1) % step == 0] or months[:1]
    return tuple(Tick(x(m), f"{m:%Y}" if step >= 12 else f"{m:%Y-%m}") for m in marks)


def _title(finding: Finding, entered: datetime, left: datetime | None, state: str) -> str:
    text = f"{finding.redacted or finding.rule_id}: entered {entered:%Y-%m-%d}"
    if state == "removed" and left is not None:
        return f"{text}, removed {left:%Y-%m-%d}"
    if state == "head":
        return f"{text}, still at HEAD"
    if state == "gone" and left is not None:
        return f"{text}, last seen {left:%Y-%m-%d}, gone from HEAD"
    return text
