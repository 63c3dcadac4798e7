"""The baseline file: a sorted, reviewable JSON list of acknowledged secrets, by fingerprint.

```json
{
  "version": 1,
  "tool": "keysweep",
  "key_id": "…",
  "entries": [
    {"fingerprint": "…", "rule_id": "openai.project-key", "redacted": "sk-proj-…AbCd (164)",
     "first_seen": "<commit>", "paths": ["config/.env"], "held_at_head": ["config/.env"],
     "reason": "revoked 2024-05, kept in the fixture"}
  ]
}
```

Entries are sorted by rule id, then fingerprint; nothing in an entry depends on a line number,
a time or the order of a scan, so rewriting an unchanged baseline gives the same bytes, and a
diff of the file is the review. The secret is never in it: fingerprints are HMACs of its digest
(weak secrets: of the rule and masked line, ARCHITECTURE.md §4); `redacted` is the report's
preview. `key_id` names the fingerprint key (a digest of it), so a baseline made under another
organisation key is refused instead of silently matching nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from scanner.errors import BaselineError
from scanner.model import Finding
from scanner.suppress.apply import LiveMap, baseline_entry, live_paths
from scanner.suppress.policy import Baseline, BaselineEntry

BASELINE_VERSION = 1
_ENTRY_KEYS = ("fingerprint", "rule_id", "redacted", "first_seen", "paths", "held_at_head", "reason")
_REQUIRED = frozenset(_ENTRY_KEYS) - {"reason"}
_TOP_KEYS = frozenset({"version", "tool", "key_id", "entries"})


def key_id(key: bytes) -> str:
    """A public name for a fingerprint key (it cannot be turned back into the key)."""
    return hmac.new(key, b"keysweep baseline key id", hashlib.sha256).hexdigest()[:16]


def _order(e: BaselineEntry) -> tuple[str, str]:
    return (e.rule_id, e.fingerprint)


def render_baseline(baseline: Baseline) -> str:
    """The file's text: fixed key order, entries sorted, two-space indent, final newline."""
    doc = {
        "version": BASELINE_VERSION,
        "tool": "keysweep",
        "key_id": baseline.key_id,
        "entries": [_entry_doc(e) for e in sorted(baseline.entries, key=_order)],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _entry_doc(e: BaselineEntry) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "fingerprint": e.fingerprint,
        "rule_id": e.rule_id,
        "redacted": e.redacted,
        "first_seen": e.first_seen,
        "paths": list(e.paths),
        "held_at_head": list(e.held_at_head),
    }
    if e.reason is not None:
        doc["reason"] = e.reason
    return doc


def parse_baseline(text: str, where: str) -> Baseline:
    """The baseline in `text` (read from `where`, named in errors)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise BaselineError(f"{where}:{e.lineno}:{e.colno}: not JSON: {e.msg}") from None
    except RecursionError:  # a hostile file costs its own error, never an internal one
        raise BaselineError(f"{where}: not JSON: nested too deeply") from None
    if not isinstance(doc, dict):
        raise BaselineError(f"{where}: a baseline is a JSON object with 'entries'")
    unknown = set(doc) - _TOP_KEYS
    if unknown:
        raise BaselineError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    if doc.get("version") != BASELINE_VERSION:
        raise BaselineError(f"{where}: 'version' must be {BASELINE_VERSION}, not {doc.get('version')!r}")
    kid = doc.get("key_id")
    if not isinstance(kid, str) or not kid:
        raise BaselineError(f"{where}: 'key_id' must be a string")
    raw = doc.get("entries")
    if not isinstance(raw, list):
        raise BaselineError(f"{where}: 'entries' must be a list")
    entries: list[BaselineEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        entry = _entry(item, f"{where}: entries[{i}]")
        if entry.fingerprint in seen:
            raise BaselineError(f"{where}: entries[{i}]: duplicate fingerprint {entry.fingerprint}")
        seen.add(entry.fingerprint)
        entries.append(entry)
    return Baseline(tuple(entries), kid)


def _entry(item: Any, where: str) -> BaselineEntry:
    if not isinstance(item, dict):
        raise BaselineError(f"{where}: an entry is an object")
    unknown = set(item) - set(_ENTRY_KEYS)
    if unknown:
        raise BaselineError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    missing = _REQUIRED - set(item)
    if missing:
        raise BaselineError(f"{where}: missing {sorted(missing)[0]!r}")

    def text(key: str, nullable: bool) -> str | None:
        v = item.get(key)
        if v is None and nullable:
            return None
        if not isinstance(v, str) or not v:
            raise BaselineError(f"{where}: {key!r} must be a non-empty string")
        return v

    def paths(key: str) -> tuple[str, ...]:
        v = item[key]
        if not isinstance(v, list) or not all(isinstance(p, str) for p in v):
            raise BaselineError(f"{where}: {key!r} must be a list of paths")
        return tuple(v)

    fp = text("fingerprint", False)
    rule_id = text("rule_id", False)
    assert fp is not None and rule_id is not None
    return BaselineEntry(
        fingerprint=fp,
        rule_id=rule_id,
        redacted=text("redacted", True),
        first_seen=text("first_seen", True),
        paths=paths("paths"),
        held_at_head=paths("held_at_head"),
        reason=text("reason", True),
    )


def entry_for(f: Finding, mode: str, live: LiveMap, reason: str | None = None) -> BaselineEntry:
    return BaselineEntry(
        fingerprint=f.fingerprint,
        rule_id=f.rule_id,
        redacted=f.redacted,
        first_seen=f.first_seen.commit if f.first_seen else None,
        paths=tuple(sorted({loc.path for loc in f.locations})),
        held_at_head=live.get(f.fingerprint, live_paths(f)),
        reason=reason,
    )


def create_baseline(
    findings: Iterable[Finding], mode: str, live: LiveMap, key: bytes, reason: str | None = None
) -> Baseline:
    """A baseline of every finding of a scan (suppressed ones excluded by the caller)."""
    entries = {f.fingerprint: entry_for(f, mode, live, reason) for f in findings}
    return Baseline(tuple(sorted(entries.values(), key=_order)), key_id(key))


@dataclass(frozen=True, slots=True)
class UpdateResult:
    baseline: Baseline
    added: tuple[BaselineEntry, ...]
    refreshed: tuple[BaselineEntry, ...]
    stale: tuple[BaselineEntry, ...]  # kept unless pruned
    pruned: bool


def update_baseline(
    old: Baseline,
    findings: Iterable[Finding],
    mode: str,
    live: LiveMap,
    reason: str | None = None,
    prune: bool = False,
) -> UpdateResult:
    """`old` with new secrets added and changed entries refreshed; reasons are kept, and an
    entry whose secret was not found is stale (kept, or dropped with `prune`). Entries made before
    exposures were grouped by name (one per path) become the grouped finding's one entry, under its
    fingerprint (`suppress.apply.baseline_entry`): refreshed, not stale."""
    found = list(findings)
    current = {f.fingerprint: f for f in found}
    by_old = {fp: f.fingerprint for f in found for fp in f.legacy_fingerprints}
    entries = old.by_fingerprint()
    out: list[BaselineEntry] = []
    added: list[BaselineEntry] = []
    refreshed: list[BaselineEntry] = []
    stale: list[BaselineEntry] = []
    done: set[str] = set()
    for e in old.entries:
        fp = e.fingerprint if e.fingerprint in current else by_old.get(e.fingerprint)
        if fp is None:
            stale.append(e)
            if not prune:
                out.append(e)
            continue
        if fp in done:
            continue  # a second per-path entry of one grouped exposure: folded into the first
        done.add(fp)
        f = current[fp]
        known = baseline_entry(f, entries) if fp != e.fingerprint else e
        assert known is not None
        fresh = replace(entry_for(f, mode, live), reason=known.reason)
        if fresh.first_seen is None and known.first_seen is not None:
            fresh = replace(fresh, first_seen=known.first_seen)  # a scan that could not date it
        if fresh != e:
            refreshed.append(fresh)
        out.append(fresh)
    for f in found:
        if f.fingerprint in done:
            continue
        entry = entry_for(f, mode, live, reason)
        added.append(entry)
        out.append(entry)
    out.sort(key=_order)
    return UpdateResult(
        Baseline(tuple(out), old.key_id),
        tuple(sorted(added, key=_order)),
        tuple(sorted(refreshed, key=_order)),
        tuple(stale),
        prune,
    )
