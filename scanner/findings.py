"""Identity and provenance: matches at locations become findings (ARCHITECTURE.md §4).

A finding is one secret, wherever it sits: its digest, a redacted preview and a keyed
fingerprint identify it; the secret itself never leaves this module's inputs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from scanner.defaults import DEFAULT_FINGERPRINT_KEY
from scanner.detect.filters import shannon
from scanner.errors import UsageError
from scanner.model import (
    CommitRef,
    Confidence,
    Exposure,
    Finding,
    Kind,
    Location,
    Match,
    Provenance,
    Rule,
    Severity,
    SourceKind,
    Verification,
    VerifyStatus,
    secret_id,
)

MAX_LOCATIONS = 100
WEAK_LENGTH = 20
WEAK_ENTROPY = 3.0
CREDENTIAL_FLOOR = Severity.HIGH


@dataclass(frozen=True, slots=True)
class Hit:
    """One match at one location, before hits of the same secret are grouped."""

    match: Match
    location: Location
    exposure: Exposure
    provenance: Provenance = field(default_factory=Provenance)


def is_weak(secret: str, rule: Rule) -> bool:
    """Short or low-entropy secrets (URL passwords): an unsalted digest could be reversed."""
    return len(secret) < WEAK_LENGTH or rule.validator == "db-url" or shannon(secret) < WEAK_ENTROPY


def redact(secret: str, rule: Rule) -> str | None:
    """Fixed prefix + last four characters + length; nothing for secrets under 20 characters."""
    if len(secret) < WEAK_LENGTH:
        return None
    prefix = rule.prefix if secret.startswith(rule.prefix) else ""
    return f"{prefix}…{secret[-4:]} ({len(secret)})"


_HASHED_NAME = re.compile(r"([.-])[0-9a-f]{6,}(?=\.)|([.-])[A-Za-z0-9_-]{8,}(?=\.(?:js|css|mjs|map)$)")


def strip_content_hash(path: str) -> str:
    """`main.3f2a1c.js` → `main.js`, so a rebuilt bundle keeps its identity."""
    return _HASHED_NAME.sub("", path)


def fingerprint(key: bytes, material: str) -> str:
    return hmac.new(key, material.encode("utf-8"), hashlib.sha256).hexdigest()


def effective_severity(rule: Rule, exposure: Exposure) -> Severity:
    match exposure:
        case Exposure.CLIENT_BUNDLE:
            return Severity.CRITICAL
        case Exposure.LOCAL_ONLY:
            return Severity.LOW
        case Exposure.FILE:  # a plain directory: the rule's own severity (§4)
            return rule.severity
        case Exposure.REPOSITORY | Exposure.UNREACHABLE:
            if rule.kind is Kind.SECRET and rule.severity.rank < CREDENTIAL_FLOOR.rank:
                return CREDENTIAL_FLOOR
            return rule.severity


# the exposure a finding reports: the most public place any of its locations is in
_EXPOSURE_ORDER = {
    Exposure.CLIENT_BUNDLE: 0,
    Exposure.REPOSITORY: 1,
    Exposure.UNREACHABLE: 2,
    Exposure.LOCAL_ONLY: 3,
    Exposure.FILE: 4,
}


def _location_key(h: Hit, first: CommitRef | None) -> tuple[int, int, int, int, str, int, str, str, str]:
    loc = h.location
    is_first = first is not None and loc.commit == first.commit
    return (
        0 if loc.client_bundle or loc.source is SourceKind.BUNDLE else 1,  # client bundle first (§4)
        0 if h.provenance.present_at_head else 1,
        0 if is_first else 1,
        -(loc.commit_time or 0),
        loc.path,
        loc.position.byte_offset,  # ties: a weak secret's fingerprint comes from the first one
        # a total order: two commits of one rebase share a commit time, and the hits arrive in an
        # order that varies between runs (the report, the kept locations and a weak secret's
        # fingerprint must not)
        loc.commit or "",
        loc.blob or "",
        loc.source.value,
    )


# §4: an exposure is identified by what it exposes. The exposed name is the first identifier of
# the matched text, as written (`NEXT_PUBLIC_OPENAI_API_KEY`, `dangerouslyAllowBrowser`,
# `GENERATE_SOURCEMAP`): env names and JS options are case-sensitive, so the case is kept; quotes,
# spacing and the value (`true`, `!0`) are not part of it. HTTP header names are case-insensitive:
# lower-cased. A source-map setting is named by its option (`productionBrowserSourceMaps`,
# `sourcemap`, `devtool`, Angular's `sourceMap` inside its `"production"` block).
_TOKEN = re.compile(r"[A-Za-z_$][A-Za-z0-9_$-]*")
_NAME_IN: dict[str, re.Pattern[str]] = {
    "browser.production-source-maps": re.compile(
        r"(?<![A-Za-z0-9_$])(?:productionBrowserSourceMaps|productionSourceMap|sourcemap|sourceMap|devtool)"
        r"(?![A-Za-z0-9_$])"
    ),
}
_CASELESS = frozenset({"browser.anthropic-direct-access"})


def exposed_name(rule_id: str, text: str | None) -> str:
    """The name an exposure finding is about (§4): one finding per rule and name, all its places."""
    text = text or ""
    found = (_NAME_IN.get(rule_id) or _TOKEN).search(text) or _TOKEN.search(text)
    name = found.group(0) if found else " ".join(text.split())
    return name.lower() if rule_id in _CASELESS else name


def legacy_exposure_fingerprint(key: bytes, rule_id: str, path: str, sid: str) -> str:
    """An exposure's fingerprint before exposures were grouped by name (rule, path with content
    hashes stripped, the matched text's id): still matched, so baselines and alerts made then hold."""
    return fingerprint(key, f"{rule_id}\0{strip_content_hash(path)}\0{sid}")


def _identity(h: Hit, rule: Rule, key: bytes, run_key: bytes) -> tuple[str, str | None, str | None]:
    """(grouping key, secret digest or None, fingerprint), all from the one secret id (model.secret_id).

    An exposure is identified by its rule and exposed name, no path (§4). A weak secret is one
    finding per value, grouped in memory by an HMAC under `run_key` (random per run, never
    written, §4); its fingerprint (None here) comes from the finding's first location once the
    locations are ordered (`weak_fingerprint`)."""
    m = h.match
    if rule.kind is Kind.EXPOSURE or m.secret is None:
        material = f"exposure\0{rule.id}\0{exposed_name(rule.id, m.exposure_text)}"
        return "x:" + material, None, fingerprint(key, material)
    sid = secret_id(m)
    if is_weak(m.secret, rule):
        return "w:" + fingerprint(run_key, m.secret), None, None
    return "s:" + sid, sid, fingerprint(key, sid)


def weak_fingerprint(key: bytes, rule_id: str, context: str | None) -> str:
    """§4: the rule id and the masked, normalized line of the first location — no path and no
    line number (renames and line moves keep it), nothing that reverses to the value."""
    return fingerprint(key, f"weak\0{rule_id}\0{context or ''}")


def weak_group_key(org_key: bytes) -> bytes:
    """The key that groups weak secrets, derived from the organisation's secret key (§4): apart
    from the fingerprint key, so a group and a fingerprint never share an HMAC key."""
    return hmac.new(org_key, b"keysweep/weak-group/v1", hashlib.sha256).digest()


def weak_key_id(group_key: bytes) -> str:
    """Names a grouping key without revealing it: states with the same id can merge their groups."""
    return hmac.new(group_key, b"keysweep/weak-group/key-id", hashlib.sha256).hexdigest()[:16]


def resolve_group_key(secret: str | None, config_key: bytes) -> bytes | None:
    """The grouping key of weak secrets: from the organisation's `secret` (KEYSWEEP_FINGERPRINT_KEY,
    a CI secret) if given, else from the config's own fingerprint key; None (a per-run key) when
    there is only the documented default, which is public."""
    if secret is not None:
        if len(secret) < 16:
            raise UsageError("KEYSWEEP_FINGERPRINT_KEY must be at least 16 characters (a random secret)")
        return weak_group_key(secret.encode("utf-8", "surrogateescape"))
    return None if config_key == DEFAULT_FINGERPRINT_KEY else weak_group_key(config_key)


def build_findings(
    hits: Iterable[Hit],
    rules: Mapping[str, Rule],
    key: bytes = DEFAULT_FINGERPRINT_KEY,
    group_key: bytes | None = None,
) -> list[Finding]:
    """Group hits by secret and order findings and locations deterministically (§4 Orderings).

    Weak secrets are grouped by an HMAC of the value under `group_key` (`weak_group_key` of the
    organisation's key), which each finding keeps as `weak_group`; without one, under a random
    per-run key that is never written, and `weak_group` stays None."""
    import secrets

    run_key = group_key or secrets.token_bytes(32)
    groups: dict[str, list[Hit]] = {}
    meta: dict[str, tuple[str | None, str | None]] = {}
    for h in hits:
        gk, digest, fp = _identity(h, rules[h.match.rule_id], key, run_key)
        groups.setdefault(gk, []).append(h)
        meta.setdefault(gk, (digest, fp))
    findings = [_finding(hs, rules, key, *meta[gk]) for gk, hs in groups.items()]
    findings = [
        replace(f, legacy_fingerprints=_legacy(f, hs, key)) if gk.startswith("x:") else f
        for (gk, hs), f in zip(groups.items(), findings, strict=True)
    ]
    if group_key is not None:
        findings = [
            replace(f, weak_group=gk[2:]) if gk.startswith("w:") else f
            for gk, f in zip(groups, findings, strict=True)
        ]
    findings.sort(key=finding_order)
    return findings


def _legacy(f: Finding, hs: Sequence[Hit], key: bytes) -> tuple[str, ...]:
    """The exposure's fingerprints under the per-path identity, its primary location's first."""
    prints = [
        (h.location, legacy_exposure_fingerprint(key, h.match.rule_id, h.location.path, secret_id(h.match)))
        for h in hs
    ]
    primary = next((fp for loc, fp in prints if f.locations and loc == f.locations[0]), None)
    rest = sorted({fp for _, fp in prints} - {primary})
    return (primary, *rest) if primary is not None else tuple(rest)


_UNCOMMITTED = frozenset({SourceKind.BUNDLE, SourceKind.DIRECTORY})


def _finding(
    hs: Sequence[Hit], rules: Mapping[str, Rule], key: bytes, digest: str | None, fp: str | None
) -> Finding:
    # the rule that names a secret: the one most hits agree on, ties by rule id
    counts: dict[str, int] = {}
    for h in hs:
        counts[h.match.rule_id] = counts.get(h.match.rule_id, 0) + 1
    rule_id = min(counts, key=lambda r: (-counts[r], r))
    rule = rules[rule_id]
    also = sorted({a for h in hs for a in (*h.match.also_matched, h.match.rule_id)} - {rule_id})
    exposure = min((h.exposure for h in hs), key=_EXPOSURE_ORDER.__getitem__)
    severity = max((effective_severity(rule, h.exposure) for h in hs), key=lambda s: s.rank)
    reason = None
    # not a credential by itself, called fake by its own comment, or public by design where it sits
    # (a Firebase config), everywhere (detect says why)
    reasons = [h.match.alone or h.match.said_fake or h.match.public for h in hs]
    if all(reasons):
        severity, reason = Severity.LOW, next(r for r in reasons if r)
    confidence = max((h.match.confidence for h in hs), key=lambda c: c.rank)
    # a commit dates a finding only through a location a commit holds: a bundle read from disk
    # (or a plain directory's file) shares its text's id with committed files, not their history
    firsts = [
        h.provenance.first_seen
        for h in hs
        if h.provenance.first_seen is not None and h.location.source not in _UNCOMMITTED
    ]
    first = min(firsts, key=lambda c: (c.generation, c.commit_time, c.commit)) if firsts else None
    lasts = [h.provenance.last_seen for h in hs if h.provenance.last_seen is not None]
    last = max(lasts, key=lambda c: (c.commit_time, c.generation, c.commit)) if lasts else None
    ordered = sorted(hs, key=lambda h: _location_key(h, first))
    if fp is None:
        fp = weak_fingerprint(key, rule_id, ordered[0].match.context)
    seen: set[tuple[object, ...]] = set()
    locations: list[Location] = []
    for h in ordered:
        loc = h.location
        k = (loc.source, loc.path, loc.blob, loc.position, loc.commit, loc.pragma, loc.pragma_added)
        if k not in seen:
            seen.add(k)
            locations.append(loc)
    heads = [h.provenance.present_at_head for h in hs if h.provenance.present_at_head is not None]
    secret = next((h.match.secret for h in hs if h.match.secret is not None), None)
    return Finding(
        kind=rule.kind,
        rule_id=rule_id,
        provider=next((h.match.service for h in hs if h.match.service), rule.provider),
        severity=severity,
        confidence=confidence,
        secret_sha256=digest,
        redacted=redact(secret, rule) if secret is not None else None,
        fingerprint=fp,
        exposure=exposure,
        locations=tuple(locations[:MAX_LOCATIONS]),
        locations_total=len(locations),
        also_matched=tuple(also),
        present_at_head=any(heads) if heads else None,
        present_at_refs=tuple(sorted({r for h in hs for r in h.provenance.present_at_refs})),
        first_seen=first,
        last_seen=last,
        first_seen_truncated=first is None and any(h.provenance.first_seen_truncated for h in hs),
        moved_from=next((h.provenance.moved_from for h in hs if h.provenance.moved_from), None),
        remediation_url=rule.revoke_url,
        severity_reason=reason,
        verified=any(h.match.verified for h in hs),
    )


def finding_order(f: Finding) -> tuple[int, int, str, str, str]:
    """§4 Orderings: severity, a key the provider said is live first (`--verify`), first-seen
    time, rule id, fingerprint."""
    live = f.verification is not None and f.verification.status is VerifyStatus.LIVE
    return (
        -f.severity.rank,
        0 if live else 1,
        f.first_seen.commit_time if f.first_seen else "",
        f.rule_id,
        f.fingerprint,
    )


def verified_finding(f: Finding, answer: Verification | None) -> Finding:
    """`f` with what the provider said of its key: a live key is critical, and says why; a
    revoked or unknown one keeps its severity."""
    if answer is None:
        return f
    if answer.status is not VerifyStatus.LIVE:
        return replace(f, verification=answer)
    why = f"live: {answer.reason}; revoke it now"
    return replace(f, verification=answer, severity=Severity.CRITICAL, severity_reason=why)


def counts_for_fail(findings: Iterable[Finding], threshold: Severity | None) -> int:
    """Findings at or above `threshold` with confidence ≥ medium, moves and suppressed (baselined)
    findings excluded (§4, §7)."""
    if threshold is None:
        return 0
    return sum(
        1
        for f in findings
        if f.severity.rank >= threshold.rank
        and f.confidence.rank >= Confidence.MEDIUM.rank
        and not f.moved_from
        and f.suppression is None
    )
