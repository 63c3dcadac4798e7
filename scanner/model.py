"""Domain values shared by every stage: rules, matches, locations, findings, reports.

Frozen and slotted, so a value handed from one stage to the next cannot change under it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return {"low": 1, "medium": 2, "high": 3}[self.value]


class Kind(StrEnum):
    SECRET = "secret"
    EXPOSURE = "exposure"


class SourceKind(StrEnum):
    """Where a location was found (ARCHITECTURE.md §7 `locations[].source`)."""

    HISTORY = "history"
    WORKTREE = "worktree"
    BUNDLE = "bundle"
    STAGED = "staged"
    DIRECTORY = "directory"
    UNREACHABLE = "unreachable"
    MESSAGE = "message"


class SuppressKind(StrEnum):
    """Why a finding is not counted (ARCHITECTURE.md §1 suppress); the keys of `stats.suppressed`."""

    PRAGMA = "pragma"
    ALLOWLIST = "allowlist"
    BASELINE = "baseline"
    DISABLED_RULE = "disabled-rule"


class BaselineState(StrEnum):
    """A finding against the baseline, as SARIF's `baselineState` says it."""

    NEW = "new"  # not in the baseline: reported
    UNCHANGED = "unchanged"  # in the baseline: kept in the reports, not counted
    UPDATED = "updated"  # in the baseline, but held by more files than then: reported


class Exposure(StrEnum):
    REPOSITORY = "repository"
    CLIENT_BUNDLE = "client-bundle"
    LOCAL_ONLY = "local-only"
    UNREACHABLE = "unreachable"
    FILE = "file"  # a plain-directory scan: no repository to say more


@dataclass(frozen=True, slots=True)
class Rule:
    """One detection rule, loaded from `scanner/rules/*.yml` (ARCHITECTURE.md §3)."""

    id: str
    name: str
    provider: str
    pattern: str
    max_length: int
    keywords: tuple[str, ...]
    severity: Severity
    confidence: Confidence
    kind: Kind = Kind.SECRET
    context: tuple[str, ...] = ()
    context_window: int = 256
    validator: str | None = None
    markers: tuple[str, ...] = ()
    entropy_floor: float = 0.0
    prefix: str = ""
    contexts: tuple[str, ...] = ()
    remediation: str = ""
    revoke_url: str = ""
    references: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    description: str = ""
    example_name: str = "API_TOKEN"  # variable name the rule tests plant examples under (keyword-gated rules)
    # API hostnames that survive minification: near one of them (`host_window` bytes), the key also
    # counts as the value of a generic key property (`apiKey:"…"`, an auth header) — detect/hosts.py
    hosts: tuple[str, ...] = ()
    host_window: int = 16384
    # The context model for keys a prefix does not identify (docs/rules-notes.md "Context"):
    variable: str = ""  # regex of the names (variable, key, env var) that hold this provider's key
    value: str = ""  # regex of the secret itself, when `pattern` is built from `variable` + `value`
    slot_pattern: str = ""  # built by the loader: `value` in a credential slot or a call's argument
    accept: tuple[str, ...] = ()  # evidence that ties a match to the provider: near call import host
    # (`host`: one of `hosts` within `host_window` bytes)
    callees: tuple[str, ...] = ()  # names (substrings, any case) of the provider's calls/constructors
    clients: tuple[str, ...] = ()  # constructor names that name the provider only with its import
    imports: tuple[str, ...] = ()  # the provider's SDK modules (Python, npm, Go)
    # A value that is not a credential by itself unless its companion is near (an AWS key ID):
    companion: str = ""  # regex of the companion secret
    companion_window: int = 0  # bytes either side searched for it
    alone: str = ""  # why a match without its companion is reported at severity low
    # Literals every key of this kind holds (OpenAI's base64 "OpenAI" marker): a value holding one
    # has its structure verified offline, like a passing checksum (a comment calling it fake
    # does not lower it)
    structure: tuple[str, ...] = ()
    # a key that is public by design beside these (a Firebase web config): reported low, with
    # `public_reason`, when at least `public_min` of the `public_with` regexes match within
    # `public_window` bytes either side
    public_with: tuple[str, ...] = ()
    public_min: int = 1
    public_window: int = 0
    public_reason: str = ""
    # an exposure construct counted only in code, never inside a string, template text or comment
    # (an SDK's error message quoting the option: scanner/detect/jslex.py)
    code_only: bool = False
    # Rules whose keys share this rule's shape (Stripe's and Clerk's `sk_live_`): a match that no
    # evidence ties (accept `bare`) names them in also_matched instead of pretending to know
    rivals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """One secret found in one text, located at byte offsets of that text.

    `start`/`end` delimit the span to report: the secret itself, or, for a secret found
    inside an encoding (base64, string escapes), the whole encoded token.
    """

    rule_id: str
    start: int
    end: int
    secret: str | None
    confidence: Confidence
    also_matched: tuple[str, ...] = ()
    encoding: str | None = None
    pragma: bool = False
    exposure_text: str | None = None
    # SHA-256 of the match's line, whitespace-normalized, with the span masked: the identity of a
    # weak secret (§4 Fingerprint), which has no digest to publish
    context: str | None = None
    # the name the secret is assigned to (`apiKey: …`), shown as a redacted context (detect/context.py)
    assigned: str | None = None
    alone: str | None = None  # why this value is not a credential by itself (severity low)
    # the service a key is used with, when the evidence names it: a host in the same string,
    # object or call (a relay's base URL), or the credential's own name (issue 20, detect/slots.py)
    service: str | None = None
    # the secret's structure is verified offline: its rule's checksum passes or a rule marker is in it
    verified: bool = False
    said_fake: str | None = None  # why low: its own comment calls it fake (detect/filters.py)
    public: str | None = None  # why this key is public by design where it sits (severity low)
    # the companion value nearest to it (an AWS key ID's secret access key, within the rule's
    # companion window): held in memory for `--verify` only, never written anywhere, not in repr
    pair: str | None = field(default=None, repr=False)


def secret_id(m: Match) -> str:
    """The one identity of what a match holds (ARCHITECTURE.md §4): the SHA-256 of the secret, or
    for an exposure the SHA-256 of its rule id and whitespace-normalized text. Sources compare
    texts by it, the history cache stores it, findings group by it; the digest of a weak secret
    is never written to a report (scanner/findings.py)."""
    if m.secret is not None:
        material = m.secret
    else:
        material = "\x00" + m.rule_id + "\x00" + " ".join((m.exposure_text or "").split())
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line/column (UTF-16 code units) of a span, plus its byte offset."""

    line: int
    column: int
    end_line: int
    end_column: int
    byte_offset: int


@dataclass(frozen=True, slots=True)
class CommitRef:
    """A commit as reported in `first_seen` / `last_seen`."""

    commit: str
    author: str
    email: str
    author_time: str
    commit_time: str
    generation: int = (
        0  # in the commit graph (range: depth in the range); orders first_seen (§4), not written
    )


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where a secret's history starts and ends, and where it still is (ARCHITECTURE.md §4)."""

    first_seen: CommitRef | None = None
    last_seen: CommitRef | None = None
    present_at_head: bool | None = None
    present_at_refs: tuple[str, ...] = ()
    first_seen_truncated: bool = False
    moved_from: str | None = None


@dataclass(frozen=True, slots=True)
class Original:
    """Where a hit in generated code comes from, through a source map."""

    path: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Location:
    source: SourceKind
    path: str
    position: Position
    path_bytes: str | None = None
    encoding: str | None = None
    commit: str | None = None
    blob: str | None = None
    original: Original | None = None
    commit_time: int | None = None
    pragma: bool = False  # the line carries `keysweep:allow` (suppress decides what that means)
    # the pragma is one the scanned change adds (range, staged): its line, or the pragma on it, is new
    pragma_added: bool = False
    client_bundle: bool = False  # client output: shipped to browsers (source `bundle`: not tracked)
    context: str | None = None  # the name the secret is assigned to (`apiKey: …`) or the construct
    # a history location whose blob HEAD's tree holds at this path: the file holds it now (never
    # written to a report; the suppress stage's baseline reads it)
    at_head: bool = False
    # the environment a GitHub workflow's job names for this line (`environment:`, the one read from
    # content: scanner/enrich/workflows.py); None: the path decides (scanner/environments.py)
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    kind: Kind
    rule_id: str
    provider: str
    severity: Severity
    confidence: Confidence
    secret_sha256: str | None
    redacted: str | None
    fingerprint: str
    exposure: Exposure
    locations: tuple[Location, ...]
    locations_total: int
    also_matched: tuple[str, ...] = ()
    present_at_head: bool | None = None
    present_at_refs: tuple[str, ...] = ()
    first_seen: CommitRef | None = None
    last_seen: CommitRef | None = None
    first_seen_truncated: bool = False
    moved_from: str | None = None
    remediation_url: str = ""
    severity_reason: str | None = None  # why it is below its rule's severity (a key ID alone)
    scope: str | None = None
    suppression: Suppression | None = None
    baseline_state: BaselineState | None = None  # set when the scan compared with a baseline
    verified: bool = False  # structure verified offline (a checksum or rule marker passed)
    pragma_ignored: str | None = None  # why a pragma the scanned change adds did not suppress it
    # a weak secret's group under the organisation's key (an HMAC of the value, §4 Fingerprint): the
    # same value has the same group in every run under that key; None without one. Only the saved
    # state (scanner/state/) writes it, so that a merge can fold the same weak value across runs
    weak_group: str | None = None
    # the exposure window (issue 24, scanner/enrich/window.py): days from first_seen's commit time to
    # the scan's start (ScanInfo.started); the first commit on HEAD's first-parent line that no
    # longer holds it (None while at HEAD); why it must be rotated; the environments it sits in
    age_days: int | None = None
    removed: CommitRef | None = None
    never_rotated: NeverRotated | None = None
    environments: Environments | None = None
    # what the provider said of the key (`--verify`, scanner/enrich/verification.py); None: not asked
    verification: Verification | None = None
    # an exposure finding's fingerprints under the identity used before exposures were grouped by
    # name (rule, path, text: one per path and spelling), the primary location's first: baselines
    # and code-scanning alerts made before still match (scanner/suppress/apply.py, output/sarif.py)
    legacy_fingerprints: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NeverRotated:
    """A secret still at HEAD, first seen longer ago than `max-key-age` days: rotate it."""

    reason: str  # "in the code for 412 days: rotate it"
    places_at_head: int  # how many files at HEAD hold it: the blast radius of one leak


@dataclass(frozen=True, slots=True)
class Environments:
    """The environments a secret's locations name (scanner/environments.py); `shared` when two or
    more; `together` whether they held it at the same time (else one after another; None: one)."""

    names: tuple[str, ...]
    together: bool | None = None

    @property
    def shared(self) -> bool:
        return len(self.names) > 1


@dataclass(frozen=True, slots=True)
class Suppression:
    """Why a finding is not counted, and the reason a person gave for it."""

    kind: SuppressKind
    reason: str
    added: bool = False  # a pragma the scanned change adds (range, staged): its author's own approval


@dataclass(frozen=True, slots=True)
class BaselineEntryRef:
    """A baseline entry as the reports name it (a stale one: its secret was not found)."""

    fingerprint: str
    rule_id: str
    redacted: str | None
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BaselineSummary:
    """What the scan made of the baseline it was given."""

    entries: int
    matched: int
    grown: int  # findings in the baseline now held by more files: reported again
    stale: tuple[BaselineEntryRef, ...]  # entries whose secret the scan did not find
    stale_checked: bool  # false for range and staged scans, which see only part of the repository


@dataclass(frozen=True, slots=True)
class Skip:
    """One thing the scan did not read, and why (a fixed set of reasons)."""

    reason: str
    example: str


@dataclass(frozen=True, slots=True)
class Stats:
    seconds: float
    files: int = 0
    commits: int = 0
    objects: int = 0
    blobs: int = 0
    bytes_scanned: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    suppressed: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    complete: bool = True


@dataclass(frozen=True, slots=True)
class ScanInfo:
    mode: str
    target: str
    head: str | None = None
    range: str | None = None
    # the absolute directory the report's paths are relative to (the repository's working tree, or
    # the scanned directory): SARIF's %SRCROOT%, whatever form `target` was given in
    root: str | None = None
    # when the scan started (ISO 8601 UTC, whole seconds): the time the findings' ages are counted to
    started: str | None = None


@dataclass(frozen=True, slots=True)
class Report:
    status: str
    scan: ScanInfo
    stats: Stats
    findings: tuple[Finding, ...]
    ruleset: str
    rules: tuple[Rule, ...]
    error: str | None = None
    suppressed: tuple[Finding, ...] = ()  # pragma, allowlist and disabled-rule findings, with their reason
    baseline: BaselineSummary | None = None
    # the findings that count (`findings` less the baselined ones), computed once, here: every format
    # and the gate read this rather than filtering `findings` again
    active: tuple[Finding, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "active", tuple(f for f in self.findings if f.suppression is None))

    @property
    def incomplete(self) -> bool:
        """The scan ran but left something unread (`skips.INCOMPLETE_REASONS`); a failed one is
        failed, not incomplete. The one test of it for the gate and every format."""
        return self.status == "incomplete" or (self.status == "ok" and not self.stats.complete)


class VerifyStatus(StrEnum):
    """What the provider said of a key (issue 25): usable now, refused as invalid, or not known."""

    LIVE = "live"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Verification:
    """The answer of one read-only check of a distinct secret (scanner/verify/). `reason` says
    why an answer is unknown (timeout, network unreachable, 429, no verifier...); `http_status`
    and `checked_at` (ISO 8601, UTC) are None when no answer came / no request was sent."""

    status: VerifyStatus
    reason: str
    http_status: int | None = None
    checked_at: str | None = None
