"""The job summary: golden files, its sections, links and counts, what it says about skips, failures
and the SARIF file, that data from a hostile repository stays text, and GitHub's 1 MiB."""

from __future__ import annotations

import dataclasses
import re

import pytest

from scanner.model import Severity, SourceKind
from scanner.output.summary import (
    MAX_SUMMARY_BYTES,
    RepoLinks,
    SarifNote,
    SummaryContext,
    render_summary,
)
from tests.output_fixtures import (
    WEIRD_PATH,
    check_golden,
    failed_report,
    history_finding,
    history_report,
    incomplete_report,
    log_safety_problems,
    suppressed_report,
)
from tests.summary_cases import LINKS, cases, pr_context, range_report


@pytest.mark.parametrize("name", sorted(cases()))
def test_matches_golden(name: str) -> None:
    report, context = cases()[name]
    check_golden(f"{name}.summary.md", render_summary(report, context))


def sections(text: str) -> list[str]:
    return re.findall(r"^#{2,3} (.+)$", text, flags=re.MULTILINE)


def table(text: str, heading: str) -> list[list[str]]:
    block = text.split(f"### {heading}\n\n", 1)[1].split("\n\n", 1)[0]
    rows = block.splitlines()[2:]
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows]


def test_sections() -> None:
    report, context = cases()["pull-request"]
    text = render_summary(report, context)
    assert sections(text) == [
        "keysweep: 5 findings in this pull request",
        "What to do first",
        "Findings by provider and severity",
        "Top findings",
        "Coverage",
        "Code scanning",
    ]
    assert "The check fails: findings at or above high (exit 1)." in text
    assert "Scanned: pull request \\#7: base..head 0123456789ab..ba9876543210." in text
    assert sections(render_summary(failed_report(), SummaryContext(exit_code=3))) == [
        "keysweep: the scan failed"
    ]


def test_counts_by_provider_and_severity() -> None:
    text = render_summary(history_report(), SummaryContext())
    rows = table(text, "Findings by provider and severity")
    assert rows == [
        ["openai", "1", "0", "1", "0", "2"],
        ["anthropic", "0", "1", "0", "0", "1"],
        ["groq", "0", "1", "0", "0", "1"],
        ["mistral", "0", "0", "0", "1", "1"],
        ["**Total**", "**1**", "**2**", "**1**", "**1**", "**5**"],
    ]
    report = history_report()
    for provider, *numbers in rows[:-1]:
        found = [f for f in report.findings if f.provider == provider]
        expected = [sum(1 for f in found if f.severity is s) for s in reversed(Severity)]
        assert [int(n) for n in numbers] == [*expected, len(found)]


def test_top_findings_and_links() -> None:
    report = history_report()
    text = render_summary(report, SummaryContext(links=LINKS))
    rows = table(text, "Top findings")
    assert len(rows) == len(report.findings)
    assert all(len(row) == 6 for row in rows)  # no value opened or closed a cell
    assert [row[0] for row in rows] == [f.severity.value for f in report.findings]
    assert rows[0][1] == "`sk-proj-…X9aA (164)`"
    for finding in report.findings:
        if finding.first_seen is not None:
            link = f"https://github.com/octo/app/commit/{finding.first_seen.commit}"
            assert f"[`{finding.first_seen.commit[:12]}`]({link})" in text
    history = report.findings[1]
    location = history.locations[0]
    assert (
        f"https://github.com/octo/app/blob/{location.commit}/services/svc-00/settings%20with%20space%230.py#L3"
        in text
    )
    assert "and 14 more" in text  # 17 locations, 3 shown
    assert "[this run](https://github.com/octo/app/actions/runs/4242)" in text
    assert "exposed for 3 days, removed 2024-03-07, still in history" in rows[1][4]  # its window (issue 24)
    assert "shipped in a client-side bundle" in rows[0][4]
    plain = render_summary(report, SummaryContext())
    assert "https://github.com/octo" not in plain  # no links without the runner's values


@pytest.mark.parametrize(
    ("server", "repository"),
    [
        ("javascript:alert(1)", "octo/app"),
        ("https://github.com", "octo/app)(x"),
        ("https://github.com/<x>", "octo/app"),
        ("", "octo/app"),
        ("https://github.com", None),
    ],
)
def test_links_only_from_what_the_runner_sets(server: str, repository: str | None) -> None:
    assert RepoLinks.of(server, repository) is None


def test_what_to_do_first() -> None:
    text = render_summary(history_report(), SummaryContext(links=LINKS))
    block = text.split("### What to do first\n\n")[1].split("\n\n")[0]
    steps = block.splitlines()
    assert len(steps) == 4
    assert steps[0].startswith(
        "1. **Revoke** the critical OpenAI project API key `sk-proj-…X9aA (164)` at <https://platform.openai.com/api-keys> now"
    )
    assert "shipped in a client-side bundle" in steps[0]
    assert steps[3].startswith("4. Then, for every finding: rotate without downtime")
    clean = render_summary(dataclasses.replace(history_report(), findings=()), SummaryContext(exit_code=0))
    assert "Nothing: no secret was found in the history." in clean
    assert "### Top findings" not in clean


def test_incomplete_and_skips_said_plainly() -> None:
    text = render_summary(incomplete_report(), SummaryContext())
    assert "> **The scan is incomplete**" in text and "Do not read this as a clean result." in text
    assert "- Not read: 2 `missing-object`" in text
    assert "- Not read: 1 `symlink` (for example `link\\n::error::to`)." in text
    complete = render_summary(history_report(), SummaryContext())
    assert "incomplete" not in complete and "- Nothing was left unread." in complete


def test_failed_says_so() -> None:
    text = render_summary(failed_report(), cases()["failed"][1])
    assert (
        "> **The scan failed**: range main..feature reaches a shallow boundary; use fetch-depth: 0." in text
    )
    assert "The scan failed (exit 3)." in text
    assert "Do not upload it" in text and "### Top findings" not in text


def test_suppressed_counts() -> None:
    text = render_summary(history_report(), SummaryContext())
    assert "- Suppressed, not counted above: 2 `baseline`, 1 `pragma`." in text
    none = dataclasses.replace(
        history_report(), stats=dataclasses.replace(history_report().stats, suppressed={})
    )
    assert "- Nothing was suppressed." in render_summary(none, SummaryContext())


def test_baselined_findings_are_acknowledged_not_counted() -> None:
    report = suppressed_report()
    baselined = [f for f in report.findings if f.suppression is not None]
    assert baselined and len(report.findings) == 3
    text = render_summary(report, SummaryContext())
    assert text.startswith("## keysweep: 2 findings in the history\n")
    assert all(f.redacted not in text for f in baselined if f.redacted)
    assert "| **Total** | **1** | **1** | **0** | **0** | **2** |" in text
    assert (
        "- Suppressed, not counted above: 1 `allowlist`, 1 `baseline`, 1 `disabled-rule`, 1 `pragma`." in text
    )
    assert "- Baseline: 3 entries, 2 found, 1 held by more files than when baselined" in text
    assert "1 stale (no longer found)." in text


def test_sarif_and_tree() -> None:
    text = render_summary(*cases()["pull-request"])
    assert (
        "- SARIF file `keysweep.sarif`, category `keysweep/tree`, status `ok`: the checked-out commit's tree, with 5 findings (1 critical, 2 high, 1 medium, 1 low)"
        in text
    )
    assert "- Annotated on the changed files: 5 findings" in text
    assert "(https://github.com/octo/app/security/code-scanning?query=is%3Aopen+tool%3Akeysweep)" in text
    cut = pr_context(
        sarif=SarifNote(
            "k.sarif", "keysweep/tree", "ok", 25_000, 5_000, "GitHub accepts at most 25,000 results per run"
        )
    )
    text = render_summary(range_report(), cut)
    assert (
        "- It holds the 25,000 most severe of 30,000 results: GitHub accepts at most 25,000 results per run."
        in text
    )
    local = SummaryContext(sarif=SarifNote("r.sarif", "keysweep/range", "ok", 5, upload=False))
    assert "never upload it over a complete state" in render_summary(range_report(), local)


def test_hostile_data_stays_text() -> None:
    text = render_summary(history_report(), SummaryContext(links=LINKS))
    assert log_safety_problems(text) == []
    assert WEIRD_PATH not in text
    assert "`config/a\\n::error::x\\x1b[31m##\\x5bwarning]\\u202eevil\ufffd.env:1:1`" in text
    assert "<script" not in text and "<img" not in text
    tags = {m.group() for m in re.finditer(r"(?<!\\)<(?:br>|https://|sub>|/sub>|[^ ]{0,8})", text)}
    assert tags == {"<br>", "<https://", "<sub>", "</sub>"}  # every unescaped "<" is the template's own


def test_under_githubs_size_limit() -> None:
    assert MAX_SUMMARY_BYTES < 1024 * 1024
    base = history_finding()
    findings = tuple(
        dataclasses.replace(
            base,
            fingerprint=f"{i:064x}",
            locations=tuple(
                dataclasses.replace(loc, path=f"deep/{'x' * 3000}/{i}/{j}.env")
                for j, loc in enumerate(base.locations)
            ),
        )
        for i in range(2_000)
    )
    report = dataclasses.replace(history_report(), findings=findings)
    text = render_summary(report, SummaryContext(top=2_000))
    assert len(text.encode()) <= MAX_SUMMARY_BYTES
    rows = table(text, "Top findings")
    assert 0 < len(rows) < 2_000
    assert (
        f"{2_000 - len(rows):,} more findings are not in this table (GitHub shows at most 1,000,000 bytes of a step summary)"
        in text
    )
    small = render_summary(report, SummaryContext(top=2_000, max_bytes=20_000))
    assert len(small.encode()) <= 20_000 and "### Coverage" in small
    default = render_summary(report)
    assert len(table(default, "Top findings")) <= 50
    assert "1,950 more findings are not in this table: the SARIF file and the JSON report" in default


def test_a_commit_message_location_links_the_commit_not_a_file() -> None:
    """A key in a commit message sits at `commit:<id>`, which no tree holds: `blob/<id>/commit%3A…`
    is a 404. The commit's page shows the message; a tag's message gets no link."""
    base = history_finding()
    commit = base.locations[0].commit
    assert commit is not None
    at = dataclasses.replace(base.locations[0], blob=None, encoding=None, path_bytes=None)
    message = dataclasses.replace(at, source=SourceKind.MESSAGE, path=f"commit:{commit}")
    dangling = dataclasses.replace(at, source=SourceKind.UNREACHABLE, path=f"commit:{commit}")
    tag = dataclasses.replace(at, source=SourceKind.MESSAGE, path="tag:v1.0")
    finding = dataclasses.replace(base, locations=(message, dangling, tag), locations_total=3)
    report = dataclasses.replace(history_report(), findings=(finding,))
    text = render_summary(report, SummaryContext(links=LINKS))
    assert "commit%3A" not in text and "/blob/" not in text
    assert f"[`commit:{commit}:3:15`](https://github.com/octo/app/commit/{commit})" in text
    assert "`tag:v1.0:3:15`" in text and "tag%3A" not in text


def test_the_same_place_from_several_commits_shows_the_commit() -> None:
    """A file that kept a key through edits: one path:line twice, told apart by the
    short commit (issue 24); a place listed once stays as it was."""
    base = history_finding()
    at = dataclasses.replace(base.locations[0], encoding=None)
    commits = ("a1" * 20, "b2" * 20, "c3" * 20)
    same = tuple(dataclasses.replace(at, commit=c) for c in commits)
    alone = dataclasses.replace(at, path="config/other.py", commit="d4" * 20)
    finding = dataclasses.replace(base, locations=(alone, *same[:2]), locations_total=3)
    text = render_summary(dataclasses.replace(history_report(), findings=(finding,)), SummaryContext())
    place = f"{at.path}:{at.position.line}:{at.position.column}"
    for c in commits[:2]:
        assert f"`{place} @ {c[:12]}`" in text
    assert f"`config/other.py:{at.position.line}:{at.position.column}`" in text
