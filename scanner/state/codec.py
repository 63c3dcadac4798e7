"""The saved state's types, one encoder and one parser per model type (docs/state.md).

Encoders write every field of the frozen dataclasses of scanner/model.py under its own name;
parsers read every field back through `Fields` (type-checked, unknown keys refused) and build the
same dataclasses. Nothing here holds a secret: a Finding carries only its digest (none for a weak
secret), a redacted preview and keyed HMACs.
"""

from __future__ import annotations

from scanner.model import (
    BaselineEntryRef,
    BaselineState,
    BaselineSummary,
    CommitRef,
    Confidence,
    Environments,
    Exposure,
    Finding,
    Kind,
    Location,
    NeverRotated,
    Original,
    Position,
    Provenance,
    Report,
    ScanInfo,
    Severity,
    SourceKind,
    Stats,
    Suppression,
    SuppressKind,
    Verification,
    VerifyStatus,
)
from scanner.state.reader import Fields, Invalid

Json = dict[str, object]

# --- writing ------------------------------------------------------------------------------------


def encode_report(r: Report) -> Json:
    """Everything of a finished report but its rules (the state names their hash instead)."""
    return {
        "status": r.status,
        "error": r.error,
        "scan": _scan(r.scan),
        "stats": _stats(r.stats),
        "findings": [encode_finding(f) for f in r.findings],
        "suppressed": [encode_finding(f) for f in r.suppressed],
        "baseline": _baseline(r.baseline) if r.baseline is not None else None,
    }


def _scan(s: ScanInfo) -> Json:
    return {
        "mode": s.mode,
        "target": s.target,
        "head": s.head,
        "range": s.range,
        "root": s.root,
        "started": s.started,
    }


def _stats(s: Stats) -> Json:
    return {
        "seconds": s.seconds,
        "files": s.files,
        "commits": s.commits,
        "objects": s.objects,
        "blobs": s.blobs,
        "bytes_scanned": s.bytes_scanned,
        "sources": dict(s.sources),
        "suppressed": dict(s.suppressed),
        "skipped": dict(s.skipped),
        "skipped_examples": {k: list(v) for k, v in s.skipped_examples.items()},
        "complete": s.complete,
    }


def _baseline(b: BaselineSummary) -> Json:
    return {
        "entries": b.entries,
        "matched": b.matched,
        "grown": b.grown,
        "stale": [
            {
                "fingerprint": e.fingerprint,
                "rule_id": e.rule_id,
                "redacted": e.redacted,
                "paths": list(e.paths),
            }
            for e in b.stale
        ],
        "stale_checked": b.stale_checked,
    }


def encode_finding(f: Finding) -> Json:
    return {
        "kind": f.kind.value,
        "rule_id": f.rule_id,
        "provider": f.provider,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "secret_sha256": f.secret_sha256,
        "redacted": f.redacted,
        "fingerprint": f.fingerprint,
        "weak_group": f.weak_group,
        "exposure": f.exposure.value,
        "locations": [_location(loc) for loc in f.locations],
        "locations_total": f.locations_total,
        "also_matched": list(f.also_matched),
        "present_at_head": f.present_at_head,
        "present_at_refs": list(f.present_at_refs),
        "first_seen": _commit(f.first_seen) if f.first_seen is not None else None,
        "last_seen": _commit(f.last_seen) if f.last_seen is not None else None,
        "first_seen_truncated": f.first_seen_truncated,
        "moved_from": f.moved_from,
        "remediation_url": f.remediation_url,
        "severity_reason": f.severity_reason,
        "scope": f.scope,
        "suppression": _suppression(f.suppression) if f.suppression is not None else None,
        "baseline_state": f.baseline_state.value if f.baseline_state is not None else None,
        "verified": f.verified,
        "pragma_ignored": f.pragma_ignored,
        "age_days": f.age_days,
        "removed": _commit(f.removed) if f.removed is not None else None,
        "never_rotated": _never_rotated(f.never_rotated) if f.never_rotated is not None else None,
        "environments": _environments(f.environments) if f.environments is not None else None,
        "verification": _verification(f.verification) if f.verification is not None else None,
        "legacy_fingerprints": list(f.legacy_fingerprints),
    }


def _verification(v: Verification) -> Json:
    return {
        "status": v.status.value,
        "reason": v.reason,
        "http_status": v.http_status,
        "checked_at": v.checked_at,
    }


def _never_rotated(n: NeverRotated) -> Json:
    return {"reason": n.reason, "places_at_head": n.places_at_head}


def _environments(e: Environments) -> Json:
    return {"names": list(e.names), "together": e.together}


def _suppression(s: Suppression) -> Json:
    return {"kind": s.kind.value, "reason": s.reason, "added": s.added}


def _commit(c: CommitRef) -> Json:
    return {
        "commit": c.commit,
        "author": c.author,
        "email": c.email,
        "author_time": c.author_time,
        "commit_time": c.commit_time,
        "generation": c.generation,
    }


def _location(loc: Location) -> Json:
    p = loc.position
    return {
        "source": loc.source.value,
        "path": loc.path,
        "path_bytes": loc.path_bytes,
        "position": {
            "line": p.line,
            "column": p.column,
            "end_line": p.end_line,
            "end_column": p.end_column,
            "byte_offset": p.byte_offset,
        },
        "encoding": loc.encoding,
        "commit": loc.commit,
        "blob": loc.blob,
        "original": (
            {"path": loc.original.path, "line": loc.original.line, "column": loc.original.column}
            if loc.original is not None
            else None
        ),
        "commit_time": loc.commit_time,
        "pragma": loc.pragma,
        "pragma_added": loc.pragma_added,
        "client_bundle": loc.client_bundle,
        "context": loc.context,
        "at_head": loc.at_head,
        "environment": loc.environment,
    }


# --- reading ------------------------------------------------------------------------------------


def parse_report(o: Fields) -> Report:
    """The report of a state, without its rules (the caller supplies the ones its hash names)."""
    report = Report(
        status=_status(o),
        error=o.opt_text("error"),
        scan=_parse_scan(o.obj("scan")),
        stats=_parse_stats(o.obj("stats")),
        findings=o.objects("findings", parse_finding),
        suppressed=o.objects("suppressed", parse_finding),
        baseline=o.opt("baseline", _parse_baseline),
        ruleset="",
        rules=(),
    )
    o.done()
    return report


def _status(o: Fields) -> str:
    status = o.text("status")
    if status not in ("ok", "incomplete", "failed"):
        raise Invalid(f"{o.where}.status: {status!r} is not one of ok, incomplete, failed")
    return status


def _parse_scan(o: Fields) -> ScanInfo:
    s = ScanInfo(
        mode=o.text("mode"),
        target=o.text("target"),
        head=o.opt_text("head"),
        range=o.opt_text("range"),
        root=o.opt_text("root"),
        started=o.opt_text("started"),
    )
    o.done()
    return s


def _parse_stats(o: Fields) -> Stats:
    examples = o.obj("skipped_examples")
    s = Stats(
        seconds=o.number("seconds"),
        files=o.count("files"),
        commits=o.count("commits"),
        objects=o.count("objects"),
        blobs=o.count("blobs"),
        bytes_scanned=o.count("bytes_scanned"),
        sources=o.counts("sources"),
        suppressed=o.counts("suppressed"),
        skipped=o.counts("skipped"),
        skipped_examples={k: examples.strs(k) for k in examples.names()},
        complete=o.flag("complete"),
    )
    examples.done()
    o.done()
    return s


def _parse_baseline(o: Fields) -> BaselineSummary:
    b = BaselineSummary(
        entries=o.count("entries"),
        matched=o.count("matched"),
        grown=o.count("grown"),
        stale=o.objects("stale", _parse_entry),
        stale_checked=o.flag("stale_checked"),
    )
    o.done()
    return b


def _parse_entry(o: Fields) -> BaselineEntryRef:
    e = BaselineEntryRef(
        fingerprint=o.text("fingerprint"),
        rule_id=o.text("rule_id"),
        redacted=o.opt_text("redacted"),
        paths=o.strs("paths"),
    )
    o.done()
    return e


def parse_finding(o: Fields) -> Finding:
    f = Finding(
        kind=o.enum("kind", Kind),
        rule_id=o.text("rule_id"),
        provider=o.text("provider"),
        severity=o.enum("severity", Severity),
        confidence=o.enum("confidence", Confidence),
        secret_sha256=_digest(o, "secret_sha256"),
        redacted=o.opt_text("redacted"),
        fingerprint=o.text("fingerprint"),
        weak_group=_digest(o, "weak_group"),
        exposure=o.enum("exposure", Exposure),
        locations=o.objects("locations", _parse_location),
        locations_total=o.count("locations_total"),
        also_matched=o.strs("also_matched"),
        present_at_head=o.opt_flag("present_at_head"),
        present_at_refs=o.strs("present_at_refs"),
        first_seen=o.opt("first_seen", _parse_commit),
        last_seen=o.opt("last_seen", _parse_commit),
        first_seen_truncated=o.flag("first_seen_truncated"),
        moved_from=o.opt_text("moved_from"),
        remediation_url=o.text("remediation_url"),
        severity_reason=o.opt_text("severity_reason"),
        scope=o.opt_text("scope"),
        suppression=o.opt("suppression", _parse_suppression),
        baseline_state=o.opt_enum("baseline_state", BaselineState),
        verified=o.flag("verified"),
        pragma_ignored=o.opt_text("pragma_ignored"),
        age_days=o.opt_integer("age_days"),
        removed=o.opt("removed", _parse_commit),
        never_rotated=o.opt("never_rotated", _parse_never_rotated),
        environments=o.opt("environments", _parse_environments),
        verification=o.opt("verification", _parse_verification),
        legacy_fingerprints=o.strs("legacy_fingerprints") if o.has("legacy_fingerprints") else (),
    )
    o.done()
    if f.locations_total < len(f.locations):
        raise Invalid(f"{o.where}.locations_total: fewer than the locations listed")
    return f


def _parse_never_rotated(o: Fields) -> NeverRotated:
    n = NeverRotated(reason=o.text("reason"), places_at_head=o.count("places_at_head"))
    o.done()
    return n


def _parse_environments(o: Fields) -> Environments:
    e = Environments(names=o.strs("names"), together=o.opt_flag("together"))
    o.done()
    return e


def _digest(o: Fields, key: str) -> str | None:
    """A SHA-256 or HMAC-SHA-256 in hex (or null): nothing else may hide in these fields."""
    v = o.opt_text(key)
    if v is not None and (len(v) != 64 or v.strip("0123456789abcdef")):
        raise Invalid(f"{o.where}.{key}: not a hex digest")
    return v


def _parse_verification(o: Fields) -> Verification:
    v = Verification(
        status=o.enum("status", VerifyStatus),
        reason=o.text("reason"),
        http_status=o.opt_integer("http_status"),
        checked_at=o.opt_text("checked_at"),
    )
    o.done()
    return v


def _parse_suppression(o: Fields) -> Suppression:
    s = Suppression(kind=o.enum("kind", SuppressKind), reason=o.text("reason"), added=o.flag("added"))
    o.done()
    return s


def _parse_commit(o: Fields) -> CommitRef:
    c = CommitRef(
        commit=o.text("commit"),
        author=o.text("author"),
        email=o.text("email"),
        author_time=o.text("author_time"),
        commit_time=o.text("commit_time"),
        generation=o.integer("generation"),
    )
    o.done()
    return c


def _parse_location(o: Fields) -> Location:
    loc = Location(
        source=o.enum("source", SourceKind),
        path=o.text("path"),
        path_bytes=o.opt_text("path_bytes"),
        position=_parse_position(o.obj("position")),
        encoding=o.opt_text("encoding"),
        commit=o.opt_text("commit"),
        blob=o.opt_text("blob"),
        original=o.opt("original", _parse_original),
        commit_time=o.opt_integer("commit_time"),
        pragma=o.flag("pragma"),
        pragma_added=o.flag("pragma_added"),
        client_bundle=o.flag("client_bundle"),
        context=o.opt_text("context"),
        at_head=o.flag("at_head"),
        environment=o.opt_text("environment") if o.has("environment") else None,
    )
    o.done()
    return loc


def _parse_position(o: Fields) -> Position:
    p = Position(
        line=o.count("line"),
        column=o.count("column"),
        end_line=o.count("end_line"),
        end_column=o.count("end_column"),
        byte_offset=o.count("byte_offset"),
    )
    o.done()
    return p


def _parse_original(o: Fields) -> Original:
    r = Original(path=o.text("path"), line=o.count("line"), column=o.count("column"))
    o.done()
    return r


# --- provenance (the history cache keeps it per secret digest: scanner/sources/history/cache.py) ----------------


def encode_provenance(p: Provenance) -> Json:
    return {
        "first_seen": _commit(p.first_seen) if p.first_seen is not None else None,
        "last_seen": _commit(p.last_seen) if p.last_seen is not None else None,
        "present_at_head": p.present_at_head,
        "present_at_refs": list(p.present_at_refs),
        "first_seen_truncated": p.first_seen_truncated,
        "moved_from": p.moved_from,
    }


def parse_provenance(o: Fields) -> Provenance:
    p = Provenance(
        first_seen=o.opt("first_seen", _parse_commit),
        last_seen=o.opt("last_seen", _parse_commit),
        present_at_head=o.opt_flag("present_at_head"),
        present_at_refs=o.strs("present_at_refs"),
        first_seen_truncated=o.flag("first_seen_truncated"),
        moved_from=o.opt_text("moved_from"),
    )
    o.done()
    return p


def encode_original(r: Original | None) -> Json | None:
    return {"path": r.path, "line": r.line, "column": r.column} if r is not None else None


def parse_original(o: Fields) -> Original:
    return _parse_original(o)
