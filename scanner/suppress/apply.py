"""The suppress stage as one pure function: a finished report and a policy in, a report out.

A finding is suppressed as a whole, for one reason, by the first that applies:

1. `disabled-rule`: its rule and every rule that also matched it are disabled in the config;
2. `pragma` / `allowlist`: every one of its locations carries `keysweep:allow` or lies under an
   allowlisted glob (pragma when all are pragmas). A secret that is also anywhere else is reported
   with all its locations: an allowlist cannot hide a key that leaked outside it. A finding with
   more locations than the report lists is never suppressed this way (the unlisted ones are
   unknown). A pragma that the scanned change adds (`Location.pragma_added`) counts only as the
   policy's `added_pragmas` says (by default not for a secret whose structure is verified
   offline); one that does suppress is marked `added`, one that does not is named in
   `Finding.pragma_ignored`;
3. `baseline`: its fingerprint is in the baseline and its exposure has not grown.

Findings of (1) and (2) leave `findings` for `Report.suppressed`; baselined ones stay in `findings`
marked with their suppression (the reports keep them, `--fail-on` skips them). Each is counted by
reason in `stats.suppressed`. Severity overrides apply first, to every finding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from scanner.findings import finding_order
from scanner.model import (
    BaselineEntryRef,
    BaselineState,
    BaselineSummary,
    Finding,
    Location,
    Report,
    SourceKind,
    Suppression,
    SuppressKind,
)
from scanner.suppress.policy import AddedPragmas, AllowEntry, BaselineEntry, Policy, SeverityOverride

PRAGMA_REASON = "inline keysweep:allow"
ADDED_PRAGMA_REASON = "suppressed by a pragma this change adds"
BASELINE_REASON = "acknowledged in the baseline"
# modes whose report covers the whole repository (or directory): stale entries can be told
_WHOLE = frozenset({"history", "tree", "directory"})
# modes whose findings are introductions at new paths, not a census of where a secret is
_PARTIAL = frozenset({"range", "staged"})
_LIVE_SOURCES = frozenset({SourceKind.WORKTREE, SourceKind.STAGED, SourceKind.DIRECTORY, SourceKind.BUNDLE})

LiveMap = Mapping[str, tuple[str, ...]]
"""fingerprint → the files holding the secret at HEAD or in the working tree (see `live_map`)."""


def apply_policy(report: Report, policy: Policy, live: LiveMap | None = None) -> Report:
    """`report` with `policy` applied; a failed report is returned as it is."""
    if report.status == "failed":
        return report
    findings = [_override(f, policy.overrides) for f in report.findings]
    if not policy.suppress:
        findings.sort(key=finding_order)
        return replace(report, findings=tuple(findings))
    live = live or {}
    counts: Counter[str] = Counter(report.stats.suppressed)
    kept: list[Finding] = []
    dropped: list[Finding] = []
    for f in findings:
        why = _rule_or_place(f, policy)
        if why is not None:
            counts[why.kind.value] += 1
            dropped.append(replace(f, suppression=why))
        else:
            kept.append(_refused(f, policy.added_pragmas))
    summary = None
    if policy.baseline is not None:
        entries = policy.baseline.by_fingerprint()
        marked: list[Finding] = []
        grown = 0
        for f in kept:
            entry = baseline_entry(f, entries)
            state = _state(f, entry, report.scan.mode, live) if entry is not None else BaselineState.NEW
            if state is BaselineState.UNCHANGED:
                assert entry is not None
                counts[SuppressKind.BASELINE.value] += 1
                why = Suppression(SuppressKind.BASELINE, entry.reason or BASELINE_REASON)
                marked.append(replace(f, suppression=why, baseline_state=state))
            else:
                grown += state is BaselineState.UPDATED
                marked.append(replace(f, baseline_state=state))
        kept = marked
        found = {fp for f in findings for fp in (f.fingerprint, *f.legacy_fingerprints)}
        checked = report.scan.mode in _WHOLE and report.stats.complete
        stale = tuple(
            BaselineEntryRef(e.fingerprint, e.rule_id, e.redacted, e.paths)
            for e in policy.baseline.entries
            if checked and e.fingerprint not in found
        )
        matched = sum(1 for e in policy.baseline.entries if e.fingerprint in found)
        summary = BaselineSummary(len(policy.baseline.entries), matched, grown, stale, checked)
    kept.sort(key=finding_order)
    dropped.sort(key=finding_order)
    stats = replace(report.stats, suppressed=dict(sorted(counts.items())))
    return replace(report, findings=tuple(kept), suppressed=tuple(dropped), stats=stats, baseline=summary)


def baseline_entry(f: Finding, entries: Mapping[str, BaselineEntry]) -> BaselineEntry | None:
    """The baseline's entry for `f`: by its fingerprint, or, for an exposure finding, by the
    per-path fingerprints it had before exposures were grouped by name (`Finding.legacy_fingerprints`).
    Several such entries (one per path) are one entry: their paths and the files they held at
    HEAD together, the first reason given; so the grouped finding is unchanged when every path it
    holds now was acknowledged, and grown when one was not."""
    own = entries.get(f.fingerprint)
    old = [entries[fp] for fp in f.legacy_fingerprints if fp in entries]
    if not old:
        return own
    parts = ([own] if own is not None else []) + old
    return BaselineEntry(
        fingerprint=f.fingerprint,
        rule_id=f.rule_id,
        redacted=f.redacted,
        first_seen=next((e.first_seen for e in parts if e.first_seen), None),
        paths=tuple(sorted({p for e in parts for p in e.paths})),
        held_at_head=tuple(sorted({p for e in parts for p in e.held_at_head})),
        reason=next((e.reason for e in parts if e.reason), None),
    )


def _override(f: Finding, overrides: Sequence[SeverityOverride]) -> Finding:
    """The last matching override wins (later entries refine earlier ones)."""
    severity = f.severity
    for o in overrides:
        if o.rules and f.rule_id not in o.rules:
            continue
        if o.paths and not (
            _complete(f)
            and f.locations
            and all(any(g.matches(loc.path) for g in o.paths) for loc in f.locations)
        ):
            continue
        severity = o.severity
    return f if severity is f.severity else replace(f, severity=severity)


def _complete(f: Finding) -> bool:
    return f.locations_total <= len(f.locations)


def _rule_or_place(f: Finding, policy: Policy) -> Suppression | None:
    if policy.disabled_rules and {f.rule_id, *f.also_matched} <= policy.disabled_rules:
        return Suppression(SuppressKind.DISABLED_RULE, "rule disabled in the config")
    if not f.locations or not _complete(f):
        return None
    honoured = policy.added_pragmas.honours(f.verified)
    reasons: list[str] = []
    added = False
    for loc in f.locations:
        if loc.pragma and (honoured or not loc.pragma_added):
            added |= loc.pragma_added
            continue
        entry = _allowing(loc, f.rule_id, policy.allow)
        if entry is None:
            return None
        reasons.append(entry.reason)
    if not reasons:
        return Suppression(SuppressKind.PRAGMA, ADDED_PRAGMA_REASON if added else PRAGMA_REASON, added)
    return Suppression(SuppressKind.ALLOWLIST, reasons[0])


def _refused(f: Finding, mode: AddedPragmas) -> Finding:
    """`f`, naming why a pragma the scanned change adds on one of its lines did not suppress it."""
    if mode.honours(f.verified) or not any(loc.pragma_added for loc in f.locations):
        return f
    why = (
        "its structure is verified offline (a checksum or marker passes)"
        if mode is AddedPragmas.UNVERIFIED
        else 'the config sets pragmas.added-by-change = "none"'
    )
    return replace(f, pragma_ignored=why)


def _allowing(loc: Location, rule_id: str, allow: Sequence[AllowEntry]) -> AllowEntry | None:
    for entry in allow:
        if entry.rules and rule_id not in entry.rules:
            continue
        if any(g.matches(loc.path) for g in entry.paths):
            return entry
    return None


def _state(f: Finding, entry: BaselineEntry, mode: str, live: LiveMap) -> BaselineState:
    """UNCHANGED, or UPDATED when the secret is held by more files than when it was baselined."""
    if mode in _PARTIAL:
        if f.moved_from is not None:
            return BaselineState.UNCHANGED  # a move, not a new file holding it
        known = set(entry.paths) | set(entry.held_at_head)
        paths = {loc.path for loc in f.locations}
        return BaselineState.UNCHANGED if paths <= known else BaselineState.UPDATED
    now = live.get(f.fingerprint, live_paths(f))
    return BaselineState.UPDATED if len(now) > len(entry.held_at_head) else BaselineState.UNCHANGED


def live_paths(f: Finding) -> tuple[str, ...]:
    """The files that hold the finding's secret now: working-tree, staged, directory and bundle
    locations, and history locations whose blob HEAD's tree holds at that path (`Location.at_head`:
    the source that found them knew; every location of a tree scan is)."""
    out: set[str] = set()
    for loc in f.locations:
        if loc.source in _LIVE_SOURCES or (loc.source is SourceKind.HISTORY and loc.blob and loc.at_head):
            out.add(loc.path)
    return tuple(sorted(out))


def live_map(report: Report) -> dict[str, tuple[str, ...]]:
    """fingerprint → the files holding each finding's secret now (`live_paths`), suppressed
    findings included: read from the report alone, never from git."""
    return {f.fingerprint: live_paths(f) for f in (*report.findings, *report.suppressed)}
