"""The console report: grouping, content, colour switch and escaping of hostile data."""

from __future__ import annotations

import dataclasses
import re

from hypothesis import given
from hypothesis import strategies as st

from scanner.model import Location, Position, SourceKind
from scanner.output.console import render_console
from scanner.output.escape import escape_text, guard_lines
from tests.output_fixtures import (
    SGR,
    check_golden,
    failed_report,
    history_report,
    incomplete_report,
    log_safety_problems,
    reports,
)


def test_matches_golden() -> None:
    for name, report in reports().items():
        check_golden(f"{name}.console.txt", render_console(report, color=False))


def test_colour_only_when_asked() -> None:
    plain = render_console(history_report(), color=False)
    coloured = render_console(history_report(), color=True)
    assert "\x1b" not in plain
    assert SGR.search(coloured)
    assert SGR.sub("", coloured) == plain
    # every ESC in coloured output belongs to one of our SGR sequences
    assert "\x1b" not in SGR.sub("", coloured)


def test_every_report_is_log_safe() -> None:
    for report in reports().values():
        assert log_safety_problems(render_console(report, color=False)) == []
        assert log_safety_problems(render_console(report, color=True), allow_sgr=True) == []


def test_hostile_path_renders_on_one_escaped_line() -> None:
    text = render_console(history_report(), color=False)
    lines = [line for line in text.splitlines() if "config/a" in line]
    assert len(lines) == 1
    assert "config/a\\n::error::x\\x1b[31m##\\x5bwarning]\\u202eevil\ufffd.env:1:1" in lines[0]
    assert "Mallory\\r\\n::warning::pwned <m@example.com\\x1b]0;title\\x07>" in text
    assert "refs/heads/\\n::error::ref" in text
    # a path that itself starts with "::" on a continuation line is defused
    continuation = next(line for line in text.splitlines() if "error file=x" in line)
    assert continuation.lstrip().startswith("\\x3a:error file=x")


def test_grouped_by_provider_then_severity() -> None:
    text = render_console(history_report(), color=False)
    providers = [line for line in text.splitlines() if re.fullmatch(r"[a-z]+", line)]
    assert providers == ["openai", "anthropic", "groq", "mistral"]
    openai = text[text.index("openai\n") : text.index("anthropic\n")]
    assert openai.index("CRITICAL") < openai.index("MEDIUM")
    severities = re.findall(r"^  (CRITICAL|HIGH|MEDIUM|LOW) ", text, flags=re.MULTILINE)
    assert severities == ["CRITICAL", "MEDIUM", "HIGH", "HIGH", "LOW"]


def test_finding_block() -> None:
    text = render_console(history_report(), color=False)
    block = text[text.index("  CRITICAL") : text.index("  MEDIUM")]
    assert "OpenAI project API key (openai.project-key)" in block
    assert "sk-proj-…X9aA (164)" in block
    assert "fingerprint 1c3fd55fd2db" in block
    assert "shipped in a client-side bundle, readable by anyone who loads the page; present at HEAD" in block
    assert (
        "dist/assets/index-3f2a1c.js:1:48213 (bundle, build output, not tracked) from src/api/client.ts:12:18"
        "  apiKey: …" in block
    )
    assert "src/api/client.ts:12:18 (history, 0432bc90bd)" in block
    assert "first seen 0432bc90bd 2024-01-02T10:05:00Z by Alice Example <alice@example.com>" in block
    # one finding of its provider's list: the steps stay under it, once
    revoke = block.index("1. revoke the key now, at https://platform.openai.com/api-keys")
    rotate = block.index("2. rotate without downtime")
    move = block.index("3. move it out of the code")
    clean = block.index("4. clean history last")
    assert revoke < rotate < move < clean
    assert block.count("revoke") == 1 and block.count("clean history") == 1  # each step once
    assert "What to do for" not in text


def test_steps_are_stated_once_per_provider() -> None:
    """Sixty findings of one provider: the four steps once, after them, each finding a one-line
    pointer; a rule with another revoke page and the exposure, one finding each, keep their own
    steps under them."""
    report = history_report()
    key = report.findings[0]
    many = tuple(dataclasses.replace(key, fingerprint=f"{i:064x}") for i in range(60))
    other = dataclasses.replace(
        key, rule_id="openai.admin-key", remediation_url="https://example.invalid/admin"
    )
    exposure = next(f for f in report.findings if f.kind.value == "exposure")
    text = render_console(dataclasses.replace(report, findings=(*many, other, exposure)), color=False)
    assert text.count("rotate without downtime") == 2  # the project keys' list and the admin key's
    assert text.count("1. revoke the key now, at https://platform.openai.com/api-keys") == 1
    assert text.count('to do      revoke it first; steps below: "What to do for openai keys"') == 60
    assert text.count("What to do for openai keys:") == 1
    assert text.count("1. revoke the key now, at https://example.invalid/admin") == 1
    assert text.count("1. keep keys server-side") == 1 and "What to do for openai exposures" not in text
    assert len(text.splitlines()) < 60 * 9  # under every finding, the steps made it 60 * 11
    steps = text[text.index("  What to do for openai keys:") :]
    assert steps.index("2. rotate") < steps.index("3. move") < steps.index("4. clean history")


def test_more_locations_are_counted() -> None:
    text = render_console(history_report(), color=False)
    block = text[text.index("  HIGH     Anthropic") :]
    assert block.count("services/svc-") == 5
    assert "+12 more" in block


def test_refs_are_a_few_and_a_count() -> None:
    """A secret on every branch of a big repository: 10,002 refs made one 190 KB line."""
    report = history_report()
    refs = tuple(f"refs/heads/feature/branch-{i:05d}" for i in range(10_002))
    finding = dataclasses.replace(report.findings[0], present_at_refs=refs)
    text = render_console(dataclasses.replace(report, findings=(finding,)), color=False)
    (line,) = [line for line in text.splitlines() if "refs/heads/" in line]
    assert len(line) < 400, len(line)
    assert line.count("refs/heads/feature/branch-") == 5
    assert "and 9,997 more (10,002 refs; the JSON report lists them)" in line
    few = dataclasses.replace(finding, present_at_refs=refs[:5])
    text = render_console(dataclasses.replace(report, findings=(few,)), color=False)
    assert "branch-00004" in text and "more (" not in text


def test_short_secret_and_exposure() -> None:
    text = render_console(history_report(), color=False)
    assert "(short secret, not shown)" in text
    assert "in a local file that is not committed" in text
    assert "exposes a key to clients" in text


def test_summary_of_complete_report() -> None:
    text = render_console(history_report(), color=False)
    assert "Summary: 5 findings; 1 critical, 2 high, 1 medium, 1 low; 3 suppressed; 0 skipped" in text
    assert "suppressed: baseline 2, pragma 1" in text
    assert "INCOMPLETE" not in text


def test_incomplete_report_warns() -> None:
    text = render_console(incomplete_report(), color=False)
    assert "Summary: 3 findings; 0 critical, 0 high, 1 medium, 2 low; 0 suppressed; 4 skipped" in text
    assert "WARNING: the scan is INCOMPLETE" in text
    assert "skipped symlink: 1 (e.g. link\\n::error::to)" in text
    assert "skipped missing-object: 2" in text
    stats = dataclasses.replace(incomplete_report().stats, complete=True)
    report = dataclasses.replace(incomplete_report(), status="ok", stats=stats)
    assert "INCOMPLETE" not in render_console(report, color=False)


def test_failed_report_says_so() -> None:
    text = render_console(failed_report(), color=False)
    assert "ERROR: the scan failed: range main..feature reaches a shallow boundary" in text
    assert "range main..feature" in text.splitlines()[0]


def test_escape_text_and_guard() -> None:
    assert escape_text("a\\b") == "a\\\\b"
    assert escape_text("\x00\x7f\x85\u2028\ud800") == "\\x00\\x7f\\x85\\u2028\\ud800"
    assert escape_text("日本語 é") == "日本語 é"
    assert escape_text("x##[y") == "x##\\x5by"
    assert guard_lines("ok\n  ::cmd::x\n\u3000::y::z") == "ok\n  \\x3a:cmd::x\n\u3000\\x3a:y::z"


NASTY = st.sampled_from(
    ["\n", "\r", ":", "#", "[", "\x1b", "\x85", "\u2028", "\u202e", "\udcff", " ", "\u3000", "\\"]
)


@given(st.text(st.one_of(st.characters(exclude_categories=()), NASTY), max_size=40))
def test_any_path_stays_on_its_line(path: str) -> None:
    report = history_report()
    location = Location(SourceKind.WORKTREE, path, Position(1, 1, 1, 2, 0))
    finding = dataclasses.replace(report.findings[4], locations=(location,), moved_from=path)
    text = render_console(dataclasses.replace(report, findings=(finding,)), color=False)
    assert log_safety_problems(text) == []
    assert (
        len(text.splitlines())
        == len(
            render_console(
                dataclasses.replace(report, findings=(report.findings[4],)), color=False
            ).splitlines()
        )
        + 1
    )
