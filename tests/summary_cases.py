"""The job summary's cases, rendered by the summary tests and saved in states by the state tests."""

from __future__ import annotations

import dataclasses

from scanner.model import Report, Severity
from scanner.output.summary import (
    RepoLinks,
    SarifNote,
    SummaryContext,
)
from tests.output_fixtures import (
    failed_report,
    history_report,
    incomplete_report,
    suppressed_report,
)

LINKS = RepoLinks.of("https://github.com", "octo/app", "4242")


def pr_context(**changes: object) -> SummaryContext:
    tree = dataclasses.replace(history_report(), scan=dataclasses.replace(history_report().scan, mode="tree"))
    context = SummaryContext(
        scope="pull request #7: base..head 0123456789ab..ba9876543210",
        subject="this pull request",
        fail_on=Severity.HIGH,
        exit_code=1,
        links=LINKS,
        tree=tree,
        sarif=SarifNote("keysweep.sarif", "keysweep/tree", "ok", results=5),
        annotations=5,
    )
    return dataclasses.replace(context, **changes)  # type: ignore[arg-type]


def range_report() -> Report:
    base = history_report()
    return dataclasses.replace(base, scan=dataclasses.replace(base.scan, mode="range", range="a..b"))


def cases() -> dict[str, tuple[Report, SummaryContext]]:
    return {
        "pull-request": (range_report(), pr_context()),
        "history": (
            history_report(),
            SummaryContext(
                exit_code=1, links=LINKS, sarif=SarifNote("keysweep.sarif", "keysweep/history", "ok", 5)
            ),
        ),
        "incomplete": (incomplete_report(), SummaryContext(exit_code=0, fail_on=Severity.CRITICAL)),
        "suppressed": (suppressed_report(), SummaryContext(exit_code=1)),
        "failed": (
            failed_report(),
            SummaryContext(exit_code=3, sarif=SarifNote("keysweep.sarif", "keysweep/tree", "failed", 0)),
        ),
    }
