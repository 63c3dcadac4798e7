"""What a format needs beyond the report: one frozen `RenderContext` for every format of the
registry (`scanner/output/formats.py`), filled in by the entry point with what only it knows.

A format reads the fields it needs and ignores the rest, so an entry point builds one context for
a run and hands it to every format it writes; a new format that needs a new fact adds a field here
(with a default that keeps every other caller's output the same).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

import scanner
from scanner.model import Report, Severity

MAX_SUMMARY_BYTES = 1_000_000
"""Under GitHub's 1 MiB (1,048,576 bytes) per step summary, with room to spare."""
TOP_FINDINGS = 50
DEFAULT_LISTED = "The step's log and the job summary list them all."
_HEX = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SERVER = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:/[A-Za-z0-9._~-]+)*")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


@dataclass(frozen=True, slots=True)
class RepoLinks:
    """Links into the repository on its server (`GITHUB_SERVER_URL`, `GITHUB_REPOSITORY`)."""

    server_url: str
    repository: str
    run_id: str | None = None

    @classmethod
    def of(
        cls, server_url: str | None, repository: str | None, run_id: str | None = None
    ) -> RepoLinks | None:
        """Links, or None when a value is absent or not what the runner sets (no link is better
        than a link built from something else)."""
        server = (server_url or "").rstrip("/")
        if not _SERVER.fullmatch(server) or not _REPOSITORY.fullmatch(repository or ""):
            return None
        run = run_id if run_id and run_id.isdigit() else None
        return cls(server, repository or "", run)

    @property
    def base(self) -> str:
        return f"{self.server_url}/{self.repository}"

    def commit(self, sha: str) -> str | None:
        return f"{self.base}/commit/{sha}" if _HEX.fullmatch(sha) else None

    def blob(self, sha: str, path: str, line: int) -> str | None:
        if not _HEX.fullmatch(sha):
            return None
        return f"{self.base}/blob/{sha}/{quote(path.encode('utf-8', 'surrogateescape'))}#L{max(line, 1)}"

    @property
    def code_scanning(self) -> str:
        return f"{self.base}/security/code-scanning?query=is%3Aopen+tool%3Akeysweep"

    @property
    def run(self) -> str | None:
        return f"{self.base}/actions/runs/{self.run_id}" if self.run_id else None


@dataclass(frozen=True, slots=True)
class SarifNote:
    """The SARIF file the run wrote, as the summary tells it."""

    path: str
    category: str
    status: str
    results: int
    omitted: int = 0
    limit: str | None = None
    upload: bool = True
    """False for a category that is never uploaded (`keysweep/range`, `keysweep/staged`)."""


@dataclass(frozen=True, slots=True)
class RenderContext:
    """What only the entry point knows about the run, for every format."""

    version: str = scanner.__version__
    """The tool version the outputs name."""
    color: bool = False
    """console: ANSI colour (a terminal that wants it)."""
    category: str | None = None
    """SARIF: the run's category (`keysweep/tree`); None: the one the report's mode writes."""
    fail_on: Severity | None = Severity.HIGH
    """The gate's threshold, as the summary's verdict names it."""
    exit_code: int | None = None
    """The run's exit code, when it is known (the summary's verdict)."""
    scope: str | None = None
    """What the report scanned and why, in one line (the action's plan)."""
    subject: str | None = None
    """What the findings are "in": "this pull request", "the history"; from the mode if absent."""
    links: RepoLinks | None = None
    tree: Report | None = None
    """The checked-out commit's scan beside a range (the summary's tree counts, the annotations'
    lines), when the SARIF file holds it rather than the report."""
    sarif: SarifNote | None = None
    """The SARIF file the run wrote, for the summary."""
    annotations: int | None = None
    """How many findings were annotated on the pull request's files (the summary)."""
    where_listed: str = DEFAULT_LISTED
    """annotations: the sentence that says where findings left unannotated are listed."""
    max_bytes: int = MAX_SUMMARY_BYTES
    top: int = TOP_FINDINGS


SummaryContext = RenderContext
"""The job summary's name for the context (the summary was the first format that needed one)."""
