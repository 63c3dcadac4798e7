"""The HTML report (`--html F`): what it says, that it escapes what the repository holds, that it
loads nothing, and that no secret reaches it; then the page itself in real headless Chromium
(tests/browser.py): its counts, its filters, 5,000 findings, and a screenshot that is not blank.
"""

from __future__ import annotations

import dataclasses
import html
import json
import os
import random
import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any

from scanner.cli import main
from scanner.config import ScanConfig
from scanner.model import (
    CommitRef,
    Confidence,
    Environments,
    Exposure,
    Kind,
    Location,
    NeverRotated,
    Original,
    Report,
    Rule,
    Severity,
    SourceKind,
)
from scanner.output.context import RenderContext, RepoLinks
from scanner.output.formats import BY_NAME, FILE_FORMATS, render
from scanner.output.html import duration, help_html, window
from scanner.output.remediation import rule_help
from scanner.pipeline import scan
from tests import keys
from tests.browser import Browser, colours, need_chromium
from tests.factories import make_finding
from tests.output_fixtures import (
    ALICE,
    BOB,
    RULES,
    WEIRD_PATH,
    commit_id,
    digest,
    failed_report,
    history_report,
    incomplete_report,
    position,
)
from tests.paths import ROOT
from tests.repo_builder import RepoBuilder

LINKS = RepoLinks.of("https://github.com", "octo/app")
SCREENSHOT = ROOT / "docs" / "html-report.png"
UPDATE_SCREENSHOT = os.environ.get("KEYSWEEP_UPDATE_SCREENSHOT") == "1"


def html_of(report: Report, **context: object) -> str:
    return render("html", report, RenderContext(links=LINKS, **context))  # type: ignore[arg-type]


def rows_of(page: str) -> list[dict[str, Any]]:
    """The findings' rows the page's script draws (its JSON data)."""
    found = re.search(r'<script type="application/json" id="keysweep-rows">(.*?)</script>', page, re.S)
    assert found is not None
    rows: list[dict[str, Any]] = json.loads(found.group(1))
    return rows


def text_of(page: str) -> str:
    """The page's text, roughly as a reader sees it (tags dropped, entities decoded)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# --- what it says -----------------------------------------------------------------------------------


def test_html_is_a_format_of_the_registry_and_a_cli_option() -> None:
    assert BY_NAME["html"].flag == "--html"
    assert "html" in {f.name for f in FILE_FORMATS}


def test_the_page_states_the_verdict_counts_and_first_steps() -> None:
    page = html_of(history_report(), exit_code=1)
    text = text_of(page)
    assert "keysweep: 5 findings" in text
    assert "The check fails: findings at or above high (exit 1)." in text
    assert 'class="fail"' in page
    # counts by severity and by provider (the openai row: 1 critical, 1 medium, 2 in all)
    assert re.search(r"openai 1 0 1 0 2", text)
    assert re.search(r"Total 1 2 1 1 5", text)
    assert "client-bundle 1" in text and "repository 3" in text
    # what to do first: the critical key, revoked at its provider's page, since its first commit
    first = text[text.index("What to do first") :]
    assert first.index("Revoke the critical OpenAI project API key sk-proj-…X9aA (164)") < first.index(
        "Anthropic"
    )
    assert "https://platform.openai.com/api-keys" in first


def test_a_finding_expands_into_its_locations_commits_origin_and_steps() -> None:
    page = html_of(history_report())
    bundle, history = rows_of(page)[:2]
    # the bundle's source-map origin and the history location's commit and blob, linked on the server
    assert [place[5] for place in bundle["pl"]] == ["src/api/client.ts:12:18", None]
    commit, blob = bundle["pl"][1][4], bundle["pl"][1][1]
    assert commit == f"https://github.com/octo/app/commit/{ALICE.commit}"
    assert blob == f"https://github.com/octo/app/blob/{ALICE.commit}/src/api/client.ts#L12"
    assert (
        bundle["fs"] == [ALICE.commit[:12], commit] and bundle["u"] == "https://platform.openai.com/api-keys"
    )
    # the provider's steps once per rule, which each finding names
    assert page.count('id="help-openai-project-key"') == 1 and bundle["hp"] == "help-openai-project-key"
    assert "Rotate without downtime" in text_of(page)
    # 12 of the history finding's 17 locations listed, and the rest counted
    assert len(history["pl"]) == 12 and history["mp"] == 5


def test_without_links_no_commit_is_a_link() -> None:
    page = render("html", history_report(), RenderContext())
    assert "github.com/octo" not in page
    assert ALICE.commit[:12] in page


def test_repository_text_is_escaped_never_markup() -> None:
    hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    report = history_report()
    bad = dataclasses.replace(
        report.findings[1],
        locations=(
            Location(SourceKind.HISTORY, hostile + WEIRD_PATH, position(1, 1, 10, 0), context=hostile),
        ),
        first_seen=dataclasses.replace(BOB, author=hostile),
        environments=Environments((hostile,)),
    )
    page = html_of(dataclasses.replace(report, findings=(report.findings[0], bad, *report.findings[2:])))
    assert "<img" not in page and "alert(2)</script>" not in page
    assert page.count("<script>") == 1  # the page's own
    assert page.count("</script>") == 2  # the page's own and its data's: no value closes the data early
    row = rows_of(page)[1]
    assert row["pl"][0][0].startswith(hostile) and row["pl"][0][7] == hostile and row["env"] == [hostile]
    assert row["fb"] == hostile
    assert "\x1b" not in json.dumps(row) and "\u202e" not in row["pl"][0][0]  # shown as escapes


def test_the_page_loads_nothing() -> None:
    page = html_of(history_report())
    assert "default-src 'none'" in page
    assert not re.search(r"<(link|iframe|object|embed|img)\b|\bsrc=|@import|url\(", page, re.I)


def test_a_failed_and_an_incomplete_scan_say_so() -> None:
    failed = text_of(html_of(failed_report(), exit_code=3))
    assert "keysweep: the scan failed" in failed and "Nothing was decided about secrets here" in failed
    incomplete = text_of(html_of(incomplete_report()))
    assert "The scan is incomplete" in incomplete


def test_the_exposure_window_in_words() -> None:
    base = history_report().findings[0]
    first = dataclasses.replace(ALICE, commit_time="2024-01-02T10:05:00Z")
    removed = dataclasses.replace(BOB, commit_time="2024-01-05T08:00:00Z")
    assert window(dataclasses.replace(base, first_seen=first, age_days=426, present_at_head=True)) == (
        "in history for 14 months, still at HEAD"
    )
    assert window(dataclasses.replace(base, first_seen=first, removed=removed, present_at_head=False)) == (
        "exposed for 3 days, removed 2024-01-05, still in history"
    )
    assert window(dataclasses.replace(base, first_seen=first, present_at_head=False)) == (
        "in history since 2024-01-02, gone from HEAD"
    )
    assert [duration(d) for d in (1, 13, 20, 400, 800)] == [
        "1 day",
        "13 days",
        "2 weeks",
        "13 months",
        "2 years",
    ]


def test_age_environments_and_never_rotated_are_shown_when_present() -> None:
    windowless = {"age_days": None, "removed": None, "environments": None, "never_rotated": None}
    full = history_report()  # its fixture's findings carry windows: start from none at all
    report = dataclasses.replace(
        full, findings=tuple(dataclasses.replace(f, **windowless) for f in full.findings)
    )
    base = report.findings[0]
    enriched = dataclasses.replace(
        base,
        age_days=400,
        environments=Environments(("development", "production"), together=True),
        never_rotated=NeverRotated("in the code for 400 days: rotate it", 2),
    )
    page = html_of(dataclasses.replace(report, findings=(enriched, *report.findings[1:])))
    row = rows_of(page)[0]
    assert row["a"] == 400 and row["env"] == ["development", "production"]
    assert row["nr"] == "in the code for 400 days: rotate it"
    assert row["n"] == "in history for 13 months, still at HEAD"
    text = text_of(page)
    assert "shared across environments" in text and "never rotated" in text  # counted in the header
    assert "in the code for 400 days: rotate it" in text  # and the first step says why
    plain = html_of(report)  # absent fields: nothing said about them
    assert not {"a", "env", "nr"} & set(rows_of(plain)[0])
    assert "shared across environments" not in text_of(plain) and "never rotated" not in text_of(plain)


def test_rule_help_becomes_lists_links_and_code() -> None:
    rule = keys.rule("openai.project-key")
    body = str(help_html(rule_help(rule).text))
    assert body.startswith("<p>") and "<ol><li><strong>" not in body  # plain text made HTML, no Markdown
    assert body.count("<li>") >= 4
    assert '<a href="https://platform.openai.com/api-keys" rel="noreferrer noopener">' in body
    assert "<code>git filter-repo --replace-text</code>" in body
    assert str(help_html("x\n\nSee <b>`a&b`</b> https://e.example/x?a=1&b=2.")) == (
        "<p>See &lt;b&gt;<code>a&amp;b</code>&lt;/b&gt; "
        '<a href="https://e.example/x?a=1&amp;b=2" rel="noreferrer noopener">https://e.example/x?a=1&amp;b=2</a>.</p>'
    )


# --- no secret, ever: every rule's key planted in a real repository ----------------------------------


def _secret_part(r: Rule, key: str) -> str:
    found = re.search(r.pattern, key)
    return found.group("secret") if found is not None and found.group("secret") else key


def test_no_planted_key_reaches_the_html(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    planted: dict[str, str] = {}
    files: dict[str | bytes, bytes | None] = {}
    for r in keys.rules():
        if r.kind is not Kind.SECRET or not r.examples:
            continue
        key = keys.make_key(r.id, seed=24)
        planted[r.id] = key
        files[f"config/{r.id}.env"] = f"{r.example_name}={key}\n".encode()
    builder.commit(files)
    builder.commit(dict.fromkeys(list(files)[::2]))  # half gone from HEAD, still in history
    report = scan(ScanConfig(target=builder.path, jobs=1, engine="hyperscan"), keys.rules(), keys.matcher())
    assert (
        len({f.rule_id for f in report.active}) >= len(planted) * 9 // 10
    )  # the scan found them (203 of 203)
    page = html_of(report)
    decoded = html.unescape(page)
    for rule_id, key in planted.items():
        secret = _secret_part(keys.rule(rule_id), key)
        prefix = keys.rule(rule_id).prefix
        body = secret[len(prefix) :] if secret.startswith(prefix) else secret
        middle = body[len(body) // 2 - 4 : len(body) // 2 + 4]
        for text in (page, decoded):
            assert secret not in text, rule_id
            assert len(body) < 12 or middle not in text, (rule_id, middle)
    # and the page names what it found, by digest and preview
    shown = next(f for f in report.active if f.kind is Kind.SECRET and f.secret_sha256)
    assert shown.secret_sha256 in page and (shown.redacted or "") in decoded


def test_keysweep_scan_writes_the_html_file(tmp_path: Path) -> None:
    builder = RepoBuilder(tmp_path / "repo")
    builder.commit({".env.production": f"OPENAI_API_KEY={keys.make_key('openai.project-key', 3)}\n".encode()})
    out = tmp_path / "report.html"
    code = main(["scan", str(builder.path), "--html", str(out), "--fail-on", "none"])
    assert code == 0
    page = out.read_text(encoding="utf-8")
    assert "keysweep: 1 finding" in text_of(page) and rows_of(page)[0]["w"] == ".env.production:1"


# --- the page in real headless Chromium --------------------------------------------------------------

PROVIDERS = ("openai", "anthropic", "groq", "mistral", "google", "cohere", "huggingface", "stripe")
SEVERITIES = (Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW)
_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def many_findings(n: int, seed: int = 24) -> Report:
    """A report of `n` findings over `PROVIDERS`, each with its own made-up preview (no key: a
    preview is four random characters), dates over four years, some removed, some shared."""
    rng = random.Random(seed)
    rules = tuple(
        dataclasses.replace(
            RULES[0],
            id=f"{p}.api-key",
            name=f"{p.title()} API key",
            provider=p,
            revoke_url=f"https://{p}.example/keys",
            description=f"A made-up {p} rule for this test.",
        )
        for p in PROVIDERS
    )
    out = []
    for i in range(n):
        provider = PROVIDERS[i % len(PROVIDERS)]
        day = rng.randrange(0, 1400)
        entered = CommitRef(commit_id(f"c{i}"), "Dev Eloper", "dev@example.invalid", _time(day), _time(day))
        at_head = rng.random() < 0.5
        removed = (
            None
            if at_head
            else dataclasses.replace(
                entered, commit=commit_id(f"r{i}"), commit_time=_time(day + rng.randrange(1, 200))
            )
        )
        tail = "".join(rng.choice(_ALNUM) for _ in range(4))
        severity = SEVERITIES[rng.randrange(4)]
        out.append(
            make_finding(
                kind=Kind.SECRET,
                rule_id=f"{provider}.api-key",
                provider=provider,
                severity=severity,
                confidence=Confidence.HIGH,
                secret_sha256=digest(f"secret {i}"),
                redacted=f"{provider[:3]}-…{tail} (51)",
                fingerprint=digest(f"fp {i}"),
                exposure=Exposure.CLIENT_BUNDLE if i % 7 == 0 else Exposure.REPOSITORY,
                locations=tuple(
                    Location(
                        SourceKind.HISTORY,
                        f"services/s{i}/{'.env.production' if k == 0 else 'config/dev.yaml'}",
                        position(3 + k, 1, 51, 40),
                        commit=entered.commit,
                        blob=commit_id(f"b{i}.{k}"),
                        original=Original(f"src/s{i}.ts", 4, 2) if i % 7 == 0 else None,
                        context="OPENAI_API_KEY = …",
                    )
                    for k in range(3)
                ),
                locations_total=3,
                present_at_head=at_head,
                first_seen=entered,
                last_seen=entered,
                removed=removed,
                age_days=1500 - day,
                environments=Environments(("production", "development"), together=True)
                if i % 5 == 0
                else None,
                never_rotated=NeverRotated(f"in the code for {1500 - day} days: rotate it", 1)
                if at_head and day < 1400 - 90
                else None,
            )
        )
    out.sort(
        key=lambda f: (-f.severity.rank, f.first_seen.commit_time if f.first_seen else "", f.fingerprint)
    )
    return dataclasses.replace(history_report(), findings=tuple(out), rules=rules)


def _time(day: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(1_600_000_000 + day * 86400))


SELECT = """(() => {{
  const s = document.getElementById({id!r});
  const t0 = performance.now();
  s.value = {value!r};
  s.dispatchEvent(new Event("change"));
  document.body.getBoundingClientRect();  // layout done
  const rows = Array.from(document.querySelectorAll("#rows > details"));
  const seen = rows.filter(r => r.offsetParent !== null);
  return {{ms: performance.now() - t0, visible: seen.length, providers: [...new Set(seen.map(r => r.dataset.provider))],
          shown: document.getElementById("shown").textContent}};
}})()"""


def test_in_chromium_the_page_holds_the_counts_and_loads_nothing(tmp_path: Path) -> None:
    exe = need_chromium()
    path = tmp_path / "report.html"
    path.write_text(html_of(history_report(), exit_code=1), encoding="utf-8")
    with Browser(exe) as browser:
        browser.open(path)
        text = browser.evaluate("document.body.innerText")
        assert browser.requested() == [path.resolve().as_uri()]  # nothing but the page itself
        errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"]
        assert errors == []
    assert "keysweep: 5 findings" in text
    assert "The check fails: findings at or above high (exit 1)." in text
    assert re.search(r"openai\s+1\s+0\s+1\s+0\s+2", text)
    assert "5 of 5 shown" in text


def test_in_chromium_filtering_by_provider_hides_the_other_rows(tmp_path: Path) -> None:
    exe = need_chromium()
    path = tmp_path / "report.html"
    path.write_text(html_of(history_report()), encoding="utf-8")
    with Browser(exe) as browser:
        browser.open(path)
        result = browser.evaluate(SELECT.format(id="f-provider", value="openai"))
        assert result["providers"] == ["openai"] and result["visible"] == 2
        assert result["shown"] == "2 of 5 shown"
        back = browser.evaluate(SELECT.format(id="f-provider", value=""))
        assert back["visible"] == 5
        # a finding opened shows its locations, origin, commits and its provider's steps
        opened = browser.evaluate(
            """(() => { const d = document.querySelector('#rows > details'); d.open = true;
            return new Promise(r => setTimeout(() => r(d.innerText), 100)); })()"""
        )
        assert "from src/api/client.ts:12:18" in opened and ALICE.commit[:12] in opened
        assert "Rotate without downtime" in opened and "https://platform.openai.com/api-keys" in opened


def test_in_chromium_5000_findings_load_and_filter_in_under_2_seconds(tmp_path: Path) -> None:
    exe = need_chromium()
    report = many_findings(5000)
    started = time.monotonic()
    page = html_of(report)
    rendered = time.monotonic() - started
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    expected = sum(1 for f in report.findings if f.provider == "groq")
    with Browser(exe) as browser:
        loaded = browser.open(path)
        started = time.monotonic()
        result = browser.evaluate(SELECT.format(id="f-provider", value="groq"))
        filtered = time.monotonic() - started
        head = browser.evaluate(SELECT.format(id="f-head", value="yes"))
        head_count = int(head["shown"].split(" ")[0].replace(",", ""))
        all_listed = browser.evaluate(
            """(() => { const more = document.getElementById('more');
            while (!more.hidden) { more.click(); }
            return document.querySelectorAll('#rows > details').length; })()"""
        )
    print(
        f"5,000 findings: rendered {rendered:.2f} s, {len(page) / 1e6:.1f} MB, loaded {loaded:.2f} s, "
        f"filtered {filtered:.3f} s ({result['ms']:.0f} ms in the page)"
    )
    assert result["providers"] == ["groq"] and result["visible"] == min(expected, 200)  # a page of them
    assert result["shown"] == f"{expected:,} of 5,000 shown"
    assert (
        head["shown"]
        == f"{sum(1 for f in report.findings if f.provider == 'groq' and f.present_at_head):,} of 5,000 shown"
    )
    assert all_listed == head_count
    assert loaded < 2.0, f"loading took {loaded:.2f} s"
    assert filtered < 2.0, f"filtering took {filtered:.2f} s"


def screenshot(exe: str, path: Path) -> bytes:
    """The README's screenshot: a report of 16 fake findings, its first finding opened."""
    report = many_findings(16, seed=7)
    path.write_text(html_of(report, exit_code=1), encoding="utf-8")
    with Browser(exe, width=1280, height=2400) as browser:
        browser.open(path)
        browser.evaluate(
            """(() => { document.querySelector('#rows > details').open = true;
            return new Promise(r => setTimeout(r, 100)); })()"""
        )
        return browser.screenshot()


def test_in_chromium_a_screenshot_is_not_blank(tmp_path: Path) -> None:
    exe = need_chromium()
    png = screenshot(exe, tmp_path / "report.html")
    assert colours(png, enough=17) > 16  # not one colour: text, badges, the timeline's lines
    if UPDATE_SCREENSHOT:
        SCREENSHOT.write_bytes(png)


def test_the_readme_shows_the_committed_screenshot() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/html-report.png" in readme
    assert colours(SCREENSHOT.read_bytes(), enough=17) > 16


def _png(width: int, height: int, pixel: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def test_a_blank_screenshot_would_be_caught() -> None:
    assert colours(_png(64, 32, b"\xff\xff\xff")) == 1
    assert colours(_png(64, 32, b"\x10\x20\x30")) == 1


def test_the_header_colour_is_the_gates_result() -> None:
    assert '<header class="fail">' in html_of(history_report(), exit_code=1)
    assert '<header class="pass">' in html_of(history_report(), exit_code=0)
    assert '<header class="fail">' in html_of(history_report())  # no exit code: the threshold decides
    assert '<header class="neutral">' in html_of(incomplete_report(), exit_code=0)  # not a clean result
    assert '<header class="error">' in html_of(failed_report(), exit_code=3)


def test_a_report_without_findings_or_dates() -> None:
    empty = dataclasses.replace(history_report(), findings=())
    text = text_of(html_of(empty, exit_code=0))
    assert "keysweep: 0 findings" in text and "Nothing: no secret was found" in text
    assert "Timeline" not in text and 'id="keysweep-rows"' not in html_of(empty)  # no table to draw
    undated = dataclasses.replace(
        history_report(),
        findings=tuple(dataclasses.replace(f, first_seen=None) for f in history_report().findings),
    )
    assert "Timeline" not in text_of(html_of(undated)) and len(rows_of(html_of(undated))) == 5
