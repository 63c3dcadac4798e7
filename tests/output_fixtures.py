"""Reports built directly from the model, shared by the formatter tests.

No key-shaped literal appears here: findings carry only redacted previews (with an ellipsis),
made-up digests and fingerprints.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import scanner
from scanner.model import (
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
    Report,
    Rule,
    ScanInfo,
    Severity,
    SourceKind,
    Stats,
)
from tests.factories import make_finding

RULESET = "sha256:" + hashlib.sha256(b"keysweep test ruleset").hexdigest()[:16]

# A path no sane repository holds: a newline that would start a workflow command, an ESC
# sequence, the legacy `##[` prefix, a bidi override and a byte that is not UTF-8.
WEIRD_PATH_BYTES = b"config/a\n::error::x\x1b[31m##[warning]\xe2\x80\xaeevil\xff.env"
WEIRD_PATH = WEIRD_PATH_BYTES.decode("utf-8", "replace")
WEIRD_COMMIT_AUTHOR = "Mallory\r\n::warning::pwned"


def digest(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def commit_id(label: str) -> str:
    return hashlib.sha1(label.encode()).hexdigest()


def rule(
    rule_id: str,
    name: str,
    provider: str,
    severity: Severity,
    confidence: Confidence,
    *,
    kind: Kind = Kind.SECRET,
    revoke_url: str = "",
    description: str = "",
    remediation: str = "",
    references: tuple[str, ...] = (),
) -> Rule:
    return Rule(
        id=rule_id,
        name=name,
        provider=provider,
        pattern="(?P<secret>x)",
        max_length=200,
        keywords=("x",),
        severity=severity,
        confidence=confidence,
        kind=kind,
        revoke_url=revoke_url,
        description=description,
        remediation=remediation,
        references=references,
    )


RULES = (
    rule(
        "openai.project-key",
        "OpenAI project API key",
        "openai",
        Severity.HIGH,
        Confidence.HIGH,
        revoke_url="https://platform.openai.com/api-keys",
        description="An OpenAI project-scoped secret key, billed to the project's organization.",
        remediation="Create a replacement scoped to the same project, deploy it, then remove the old value.",
        references=("https://platform.openai.com/docs/api-reference/authentication",),
    ),
    rule(
        "anthropic.api-key",
        "Anthropic API key",
        "anthropic",
        Severity.HIGH,
        Confidence.HIGH,
        revoke_url="https://console.anthropic.com/settings/keys",
        description="An Anthropic API key. " + "Long description. " * 80,
    ),
    rule(
        "openai.browser-exposure",
        "OpenAI client allowed in the browser",
        "openai",
        Severity.MEDIUM,
        Confidence.MEDIUM,
        kind=Kind.EXPOSURE,
        description="dangerouslyAllowBrowser is set, so the API key is sent from users' browsers.",
    ),
    rule(
        "mistral.api-key",
        "Mistral API key",
        "mistral",
        Severity.HIGH,
        Confidence.LOW,
        revoke_url="https://console.mistral.ai/api-keys",
    ),
    rule("groq.api-key", "Groq API key", "groq", Severity.HIGH, Confidence.MEDIUM),
)

ALICE = CommitRef(
    commit=commit_id("alice-1"),
    author="Alice Example",
    email="alice@example.com",
    author_time="2024-01-02T10:00:00Z",
    commit_time="2024-01-02T10:05:00Z",
)
BOB = CommitRef(
    commit=commit_id("bob-1"),
    author="Bob Example",
    email="bob@example.com",
    author_time="2024-03-04T08:00:00Z",
    commit_time="2024-03-04T08:00:00Z",
)


def position(line: int, column: int, length: int, byte_offset: int) -> Position:
    return Position(line, column, line, column + length, byte_offset)


def bundle_finding() -> Finding:
    return make_finding(
        kind=Kind.SECRET,
        rule_id="openai.project-key",
        provider="openai",
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        secret_sha256=digest("bundle secret"),
        redacted="sk-proj-…X9aA (164)",
        fingerprint=digest("fp bundle"),
        exposure=Exposure.CLIENT_BUNDLE,
        present_at_head=True,
        present_at_refs=("refs/heads/main",),
        first_seen=ALICE,
        last_seen=BOB,
        remediation_url="https://platform.openai.com/api-keys",
        locations_total=2,
        locations=(
            Location(
                source=SourceKind.BUNDLE,
                path="dist/assets/index-3f2a1c.js",
                position=position(1, 48213, 164, 48212),
                original=Original(path="src/api/client.ts", line=12, column=18),
                client_bundle=True,
                context="apiKey: …",
            ),
            Location(
                source=SourceKind.HISTORY,
                path="src/api/client.ts",
                position=position(12, 18, 164, 377),
                context="OPENAI_API_KEY = …",
                commit=ALICE.commit,
                blob=commit_id("blob client.ts"),
            ),
        ),
    )


def history_finding() -> Finding:
    locations = tuple(
        Location(
            source=SourceKind.HISTORY,
            path=f"services/svc-{index:02d}/settings with space#{index}.py",
            position=position(3 + index, 15, 108, 60 + index),
            commit=commit_id(f"commit {index}"),
            blob=commit_id(f"blob {index}"),
            encoding="base64" if index == 0 else None,
        )
        for index in range(12)
    )
    return make_finding(
        kind=Kind.SECRET,
        rule_id="anthropic.api-key",
        provider="anthropic",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        secret_sha256=digest("history secret"),
        redacted="sk-ant-api03-…QwAA (108)",
        fingerprint=digest("fp history"),
        exposure=Exposure.REPOSITORY,
        also_matched=("generic.anthropic-like",),
        present_at_head=False,
        first_seen=BOB,
        last_seen=BOB,
        remediation_url="https://console.anthropic.com/settings/keys",
        locations_total=17,
        locations=locations,
    )


def exposure_finding() -> Finding:
    return make_finding(
        kind=Kind.EXPOSURE,
        rule_id="openai.browser-exposure",
        provider="openai",
        severity=Severity.MEDIUM,
        confidence=Confidence.MEDIUM,
        secret_sha256=None,
        redacted=None,
        fingerprint=digest("fp exposure"),
        exposure=Exposure.REPOSITORY,
        present_at_head=True,
        legacy_fingerprints=(digest("fp exposure web/src/openai.ts"),),  # its per-path fingerprint
        locations_total=1,
        locations=(
            Location(
                source=SourceKind.WORKTREE,
                path="web/src/openai.ts",
                position=position(7, 3, 29, 140),
            ),
        ),
    )


def local_finding() -> Finding:
    return make_finding(
        kind=Kind.SECRET,
        rule_id="mistral.api-key",
        provider="mistral",
        severity=Severity.LOW,
        confidence=Confidence.LOW,
        secret_sha256=None,
        redacted=None,
        fingerprint=digest("fp local"),
        exposure=Exposure.LOCAL_ONLY,
        remediation_url="https://console.mistral.ai/api-keys",
        locations_total=1,
        locations=(
            Location(
                source=SourceKind.WORKTREE,
                path=".env.local",
                position=Position(2, 17, 2, 49, 30),
            ),
        ),
    )


def key_id_finding() -> Finding:
    """An access key ID with no secret near it: reported low, and the finding says why."""
    return make_finding(
        kind=Kind.SECRET,
        rule_id="aws.access-key-id",
        provider="aws",
        severity=Severity.LOW,
        confidence=Confidence.MEDIUM,
        secret_sha256=digest("key id alone"),
        redacted="ASIA…Q7ZK (20)",
        fingerprint=digest("fp key id"),
        exposure=Exposure.REPOSITORY,
        present_at_head=True,
        present_at_refs=("refs/heads/main",),
        first_seen=BOB,
        last_seen=BOB,
        remediation_url="https://console.aws.amazon.com/iam/home#/security_credentials",
        severity_reason=(
            "An access key ID alone is not a credential: no secret access key within 512 bytes of it"
            " (an ID in a presigned URL, a log line or an ARN is an identifier; it still names the account)."
        ),
        locations_total=1,
        locations=(
            Location(
                source=SourceKind.HISTORY,
                path="qa/dataset.jsonl",
                position=position(7, 188, 20, 4100),
                commit=BOB.commit,
                blob=commit_id("dataset blob"),
            ),
        ),
    )


def weird_finding() -> Finding:
    """A finding whose path, commit author and ref names come from a hostile repository."""
    hostile = CommitRef(
        commit=commit_id("weird"),
        author=WEIRD_COMMIT_AUTHOR,
        email="m@example.com\x1b]0;title\x07",
        author_time="2024-05-06T00:00:00Z",
        commit_time="2024-05-06T00:00:00Z",
    )
    return make_finding(
        kind=Kind.SECRET,
        rule_id="groq.api-key",
        provider="groq",
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        secret_sha256=digest("weird secret"),
        redacted="gsk_…a1B2 (56)",
        fingerprint=digest("fp weird"),
        exposure=Exposure.REPOSITORY,
        present_at_head=True,
        present_at_refs=("refs/heads/\n::error::ref",),
        first_seen=hostile,
        last_seen=hostile,
        moved_from="old\r\n::notice::moved",
        locations_total=2,
        locations=(
            Location(
                source=SourceKind.HISTORY,
                path=WEIRD_PATH,
                path_bytes=base64.b64encode(WEIRD_PATH_BYTES).decode("ascii"),
                position=Position(1, 1, 2, 5, 0),
                commit=hostile.commit,
                blob=commit_id("weird blob"),
            ),
            Location(
                source=SourceKind.HISTORY,
                path="::error file=x::y:z.txt",
                position=position(4, 2, 56, 80),
                commit=hostile.commit,
                blob=commit_id("weird blob 2"),
            ),
        ),
    )


def findings() -> tuple[Finding, ...]:
    """All findings, in the caller's order: severity, first-seen time, rule id, fingerprint."""
    return (
        bundle_finding(),
        history_finding(),
        weird_finding(),
        exposure_finding(),
        local_finding(),
    )


STARTED = "2026-01-02T03:04:05Z"  # the history report's scan start: its findings' ages count to it
REMOVAL = CommitRef(
    commit=commit_id("removal"),
    author="Bob Example",
    email="bob@example.com",
    author_time="2024-03-07T09:00:00Z",
    commit_time="2024-03-07T09:00:00Z",
)


def with_windows(found: tuple[Finding, ...]) -> tuple[Finding, ...]:
    """The findings with their exposure windows as a sweep started at STARTED gives them (issue
    24): the history secret removed 3 days after it came; the hostile one still at HEAD, never
    rotated and shared across two environments."""
    out = []
    for f in found:
        if f.fingerprint == digest("fp history"):
            f = dataclasses.replace(f, age_days=668, removed=REMOVAL)
        elif f.fingerprint == digest("fp weird"):
            f = dataclasses.replace(
                f,
                age_days=606,
                never_rotated=NeverRotated("in the code for 606 days: rotate it", 2),
                environments=Environments(("development", "production"), together=True),
            )
        out.append(f)
    return tuple(out)


def history_report() -> Report:
    """A complete full sweep with findings of every severity."""
    return Report(
        status="ok",
        scan=ScanInfo(mode="history", target="/work/repo", head=commit_id("head"), started=STARTED),
        stats=Stats(
            seconds=1.23456,
            files=42,
            commits=17,
            objects=310,
            blobs=120,
            bytes_scanned=1_048_576,
            sources={"history": 120, "worktree": 3, "bundle": 1},
            suppressed={"baseline": 2, "pragma": 1},
        ),
        findings=with_windows(findings()),
        ruleset=RULESET,
        rules=RULES,
    )


def incomplete_report() -> Report:
    """A tree scan that could not read everything."""
    return Report(
        status="incomplete",
        scan=ScanInfo(mode="tree", target="/work/repo", head=commit_id("head")),
        stats=Stats(
            seconds=0.5,
            files=10,
            blobs=10,
            bytes_scanned=4096,
            sources={"directory": 10},
            skipped={"missing-object": 2, "symlink": 1, "too-large": 1},
            skipped_examples={
                "missing-object": (commit_id("missing 1"), commit_id("missing 2")),
                "symlink": ("link\n::error::to",),
                "too-large": ("vendor/huge.bin",),
            },
            complete=False,
        ),
        findings=(exposure_finding(), local_finding(), key_id_finding()),
        ruleset=RULESET,
        rules=RULES,
    )


def failed_report() -> Report:
    """A run that could not scan (exit 3)."""
    return Report(
        status="failed",
        scan=ScanInfo(mode="range", target="/work/repo", range="main..feature"),
        stats=Stats(seconds=0.01, complete=False),
        findings=(),
        ruleset=RULESET,
        rules=RULES,
        error="range main..feature reaches a shallow boundary; use fetch-depth: 0",
    )


def pragma_finding() -> Finding:
    return make_finding(
        kind=Kind.SECRET,
        rule_id="openai.project-key",
        provider="openai",
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        secret_sha256=digest("pragma secret"),
        redacted="sk-proj-…Pq7Z (164)",
        fingerprint=digest("fp pragma"),
        exposure=Exposure.REPOSITORY,
        present_at_head=True,
        first_seen=ALICE,
        last_seen=ALICE,
        locations_total=1,
        locations=(
            Location(
                source=SourceKind.HISTORY,
                path="tests/fixtures/sample.env",
                position=position(1, 16, 164, 15),
                commit=ALICE.commit,
                blob=commit_id("blob sample.env"),
                pragma=True,
            ),
        ),
    )


def suppressed_report() -> Report:
    """The history report through the suppress stage: a baselined secret, one the baseline knew
    but that is now in more files, an allowlisted exposure, a pragma, a disabled rule and a
    stale baseline entry."""
    from scanner.suppress.apply import apply_policy
    from scanner.suppress.globs import compile_glob
    from scanner.suppress.policy import AllowEntry, Baseline, BaselineEntry, Policy

    def entry(fp: str, rule_id: str, paths: tuple[str, ...], reason: str | None = None) -> BaselineEntry:
        return BaselineEntry(fp, rule_id, "…", BOB.commit, paths, (), reason)

    baseline = Baseline(
        (
            entry(
                digest("fp history"), "anthropic.api-key", ("services/svc-00/settings.py",), "revoked 2024-03"
            ),
            entry(digest("fp bundle"), "openai.project-key", ("src/api/client.ts",)),
            entry(digest("fp gone"), "groq.api-key", ("old/config.yaml",)),
        ),
        key_id="test-key-id",
    )
    policy = Policy(
        allow=(AllowEntry((compile_glob("web/**"),), "demo app; the key there is a placeholder"),),
        disabled_rules=frozenset({"mistral.api-key"}),
        baseline=baseline,
    )
    report = dataclasses.replace(
        history_report(),
        stats=dataclasses.replace(history_report().stats, suppressed={}),
        findings=(*findings(), pragma_finding()),
    )
    return apply_policy(report, policy)


def reports() -> dict[str, Report]:
    """Every fixture report by name (the golden files are named after these)."""
    return {
        "history": history_report(),
        "incomplete": incomplete_report(),
        "failed": failed_report(),
        "suppressed": suppressed_report(),
    }


# --- golden files ------------------------------------------------------------------------------

GOLDEN = Path(__file__).parent / "golden"
SCHEMAS = Path(__file__).parent / "schemas"
VERSION_PLACEHOLDER = "@@VERSION@@"
UPDATE_GOLDEN = os.environ.get("KEYSWEEP_UPDATE_GOLDEN") == "1"
"""Set KEYSWEEP_UPDATE_GOLDEN=1 to rewrite the golden files from the current output."""


def scrub_version(text: str) -> str:
    """`text` with keysweep's version replaced by a placeholder, so releases don't churn goldens."""
    return text.replace(scanner.__version__, VERSION_PLACEHOLDER)


def check_golden(name: str, text: str) -> None:
    """Compare `text` (after scrubbing) with `tests/golden/<name>`, or rewrite it when updating."""
    path = GOLDEN / name
    scrubbed = scrub_version(text)
    if UPDATE_GOLDEN:
        path.write_text(scrubbed, encoding="utf-8", newline="")
        return
    assert path.exists(), f"missing golden file {path}; run with KEYSWEEP_UPDATE_GOLDEN=1"
    expected = path.read_text(encoding="utf-8")
    assert scrubbed == expected, f"{name} differs from its golden file (KEYSWEEP_UPDATE_GOLDEN=1 to accept)"


def load_schema(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return document


@functools.cache
def _sarif_validator() -> Any:
    import jsonschema  # type: ignore[import-untyped]

    schema = load_schema("sarif-schema-2.1.0.json")
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema)


def sarif_schema_errors(document: Any) -> list[str]:
    """Where `document` breaks the SARIF 2.1.0 schema (empty when it is valid)."""
    return [f"{list(e.absolute_path)}: {e.message}" for e in _sarif_validator().iter_errors(document)]


def log_safety_problems(text: str, *, allow_sgr: bool = False) -> list[str]:
    """Why `text` would be unsafe in a terminal or a GitHub Actions log (empty when safe)."""
    problems = []
    body = SGR.sub("", text) if allow_sgr else text
    for number, line in enumerate(body.split("\n"), 1):
        if line.lstrip().startswith("::"):
            problems.append(f"line {number} starts a workflow command: {line!r}")
        if "##[" in line:
            problems.append(f"line {number} holds a legacy workflow command: {line!r}")
        for char in line:
            if unicodedata.category(char) in {"Cc", "Cf", "Cs", "Zl", "Zp"}:
                problems.append(f"line {number} holds control character U+{ord(char):04X}: {line!r}")
                break
    return problems


SGR = re.compile(r"\x1b\[[0-9;]*m")
