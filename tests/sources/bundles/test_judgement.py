"""Issue 21 items 2 and 4–8: the client-versus-server and public-versus-secret judgements, each
on the smallest input that shows it (the real builds are in tests/sources/bundles/test_roots.py and
tests/sources/bundles/test_turbopack.py). Keys are made at run time (tests/keys.py). The functions issue 21 added
are imported where they are used, so that each test fails alone on the code before it."""

from __future__ import annotations

import functools
import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import pygit2
import pytest

from scanner.cli import main
from scanner.detect.context import assigned_to
from scanner.detect.engine import Matcher
from scanner.findings import Hit, build_findings
from scanner.model import (
    CommitRef,
    Confidence,
    Exposure,
    Location,
    Match,
    Position,
    Provenance,
    SourceKind,
)
from scanner.rules import load_rules
from tests.bundle_apps import commit_all, run
from tests.keys import make_key

OPT_IN = "dangerously" + "AllowBrowser"  # kept apart: this file ships no construct
HEADER = "anthropic-dangerous-" + "direct-browser-access"


@functools.cache
def matcher() -> Matcher:
    return Matcher(load_rules(), "python")


def _rules_found(text: str) -> list[tuple[str, str | None]]:
    return [(m.rule_id, m.public) for m in matcher().scan(text.encode())]


# --- item 2: where a scan root sits in its project --------------------------------------------------


def test_root_context_places_a_build_folder_in_its_project(tmp_path: Path) -> None:
    from scanner.sources.bundles import root_context

    app = tmp_path / "work" / "app"
    (app / "dist" / "assets").mkdir(parents=True)
    (app / ".next" / "static").mkdir(parents=True)
    assert root_context(app) == b""  # no marker anywhere: the root is as it is
    assert root_context(app / "dist") == b"dist"  # no marker: the root's own build-output name
    assert root_context(app / "dist" / "assets") == b"dist/assets"
    assert root_context(app / ".next") == b".next"
    assert root_context(app / ".next" / "static") == b".next/static"
    (tmp_path / "home" / "public" / "project").mkdir(parents=True)
    assert root_context(tmp_path / "home" / "public" / "project") == b""  # not under a build folder
    (app / "package.json").write_text("{}\n")
    (app / "src" / "deep").mkdir(parents=True)
    assert root_context(app / "src" / "deep") == b"src/deep"  # the project says where it is
    assert root_context(app / "dist" / "assets") == b"dist/assets"


@pytest.mark.parametrize("git", [False, True], ids=["no-git", "git"])
def test_a_map_and_server_chunks_are_judged_from_the_build_folder_as_from_the_project(
    tmp_path: Path, git: bool
) -> None:
    key = make_key("openai.project-key", 2141)
    app = tmp_path / "app"
    files = {
        "dist/assets/index.js.map": json.dumps(
            {
                "version": 3,
                "sources": ["../../src/a.js"],
                "sourcesContent": [f'const k = "{key}";\n'],
                "mappings": "",
            }
        ),
        ".next/server/chunks/ssr/page.js": f'module.exports={{k:"{key}"}};\n',
    }
    for rel, text in files.items():
        (app / rel).parent.mkdir(parents=True, exist_ok=True)
        (app / rel).write_text(text)
    if git:
        pygit2.init_repository(str(app), initial_head="main")
        (app / ".gitignore").write_text("dist/\n.next/\n")
        commit_all(app)
    for target, path in ((app / "dist", "assets/index.js.map"), (app, "dist/assets/index.js.map")):
        _code, report = run(str(target))
        (f,) = [f for f in report["findings"] if f["kind"] == "secret"]
        assert (f["exposure"], f["severity"]) == ("client-bundle", "critical"), target
        first = f["locations"][0]
        base = app if git else target
        assert first["path"] == os.path.relpath(app / "dist" / path.removeprefix("dist/"), base)
        assert first["client_bundle"] == "build-output"
        assert first["original"]["path"] == os.path.relpath(app / "src" / "a.js", base)
    _code, report = run(str(app / ".next"))
    (f,) = [f for f in report["findings"] if f["kind"] == "secret"]
    assert f["exposure"] != "client-bundle" and "client_bundle" not in f["locations"][0]


# --- item 3: bundlers' source URLs -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "root", "project", "want"),
    [
        ("turbopack:///[project]/app/components/Chat.tsx", "", "", "app/components/Chat.tsx"),
        ("turbopack:///[project]/app/components/Chat.tsx", "", "..", "../app/components/Chat.tsx"),
        (
            "turbopack:///[turbopack]/browser/runtime.ts",
            "",
            "",
            "turbopack:///[turbopack]/browser/runtime.ts",
        ),
        ("webpack://my-app/./src/a.ts", "", "site", "site/src/a.ts"),
        ("webpack:///./src/a.ts", "", "", "src/a.ts"),
        ("webpack:///webpack/bootstrap", "", "", "webpack/bootstrap"),
        ("src/index.js", "/__parcel_source_root/", "", "src/index.js"),
        ("../../src/main.ts", "", "", "src/main.ts"),  # Vite, Rollup, esbuild, Bun: from the map
        ("../../../src/main.ts", "", "", "../../../src/main.ts"),  # climbs out: as written
        ("../../src/main.ts", "", "..", "../src/main.ts"),
        ("https://cdn.example/x.js", "", "", "https://cdn.example/x.js"),
    ],
)
def test_source_urls_of_the_bundlers(name: str, root: str, project: str, want: str) -> None:
    from scanner.sources.maps import source_path

    map_path = "assets/index.js.map" if project == ".." else "dist/assets/index.js.map"
    assert source_path(name, root, map_path, project) == want


# --- item 4: an option is an option only in code -------------------------------------------------


@pytest.mark.parametrize(
    ("text", "in_code"),
    [
        ("const c=new OpenAI({apiKey:k,X:!0})", True),
        ('throw new E("set it\\nnew OpenAI({ apiKey, X: true });\\n")', False),
        ("throw new E(`set it\nnew OpenAI({ apiKey, X: true });\n`)", False),
        ("var s=`a${x}b`;const c={X:!0}", True),
        ("var s=`a${x}b ${y} X: true`", False),
        ("var s=`a${ {X:!0} }`", True),
        ("// X: true\n", False),
        ("/* x */ /* X: true */", False),
        ("a=b/2;c={X:!0}/1", True),
        ("a=/[\"']/g;c={X:!0}", True),
        ("<p>Don't do this</p>\n<script>new OpenAI({X: true})</script>", True),
    ],
)
def test_the_lexer_tells_code_from_prose(text: str, in_code: bool) -> None:
    from scanner.detect.jslex import code_offsets

    data = text.encode()
    at = data.index(b"X")
    assert (at in code_offsets(data, [at])) is in_code


def test_sdk_error_text_is_no_opt_in_but_the_option_is() -> None:
    prose = (
        "throw new OpenAIError(\"It looks like you're running in a browser-like environment.\\n\\n"
        f'you can set the `{OPT_IN}` option to `true`, e.g.,\\n\\nnew OpenAI({{ apiKey, {OPT_IN}: true }});\\n");\n'
    )
    assert _rules_found(prose) == []
    assert _rules_found(f"const client = new OpenAI({{ apiKey, {OPT_IN}: true }});\n") == [
        ("browser.sdk-browser-opt-in", None)
    ]


# --- item 5: Firebase web configs --------------------------------------------------------------------


def _firebase(key: str, sep: str = ": ", q: str = '"') -> str:
    return (
        "const firebaseConfig = {\n"
        f"  apiKey{sep}{q}{key}{q},\n"
        f"  authDomain{sep}{q}demo-4821.firebaseapp.com{q},\n"
        f"  projectId{sep}{q}demo-4821{q},\n"
        f"  messagingSenderId{sep}{q}418204117623{q},\n"
        f"  appId{sep}{q}1:418204117623:web:5a0c2f4e9b1d7c3e{q},\n"
        "};\n"
    )


def test_a_firebase_config_key_is_low_with_a_current_reason() -> None:
    key = make_key("google.api-key", 2151)
    ((rule, reason),) = _rules_found(_firebase(key))
    assert rule == "google.api-key" and reason is not None
    assert "public by design for Firebase" in reason and "referrers" in reason and "Gemini" in reason
    env = (
        f"NEXT_PUBLIC_FIREBASE_API_KEY={key}\n"
        "NEXT_PUBLIC_FIREBASE_AUTH_DOMAIN=demo-4821.firebaseapp.com\n"
        "NEXT_PUBLIC_FIREBASE_MESSAGING_SENDER_ID=418204117623\n"
    )
    assert _rules_found(env) == [("google.api-key", reason)]
    minified = _firebase(key).replace("\n", "").replace(": ", ":")
    assert _rules_found(minified) == [("google.api-key", reason)]


def test_a_bare_google_key_stays_a_finding_even_beside_a_config() -> None:
    key, other = make_key("google.api-key", 2152), make_key("google.api-key", 2153)
    assert _rules_found(f'const mapsKey = "{key}";\n') == [("google.api-key", None)]
    # minified next to a config, but not one of its fields
    beside = f'var m="{other}";' + _firebase(key).replace("\n", "")
    found = {m.secret: m.public for m in matcher().scan(beside.encode())}
    assert found[other] is None and found[key] is not None


def test_a_firebase_finding_is_reported_low_with_its_reason(tmp_path: Path) -> None:
    key = make_key("google.api-key", 2154)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "firebase.js").write_text(_firebase(key))
    code, report = run(str(tmp_path), "--fail-on", "medium")
    (f,) = report["findings"]
    assert (f["severity"], f["rule_id"]) == ("low", "google.api-key")
    assert "Gemini" in f["severity_reason"]
    assert code == 0


# --- item 7: names, values, server code -------------------------------------------------------------


def _exposures(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["rule_id"], f["locations"][0]["path"]) for f in report["findings"] if f["kind"] == "exposure"}


def test_public_env_names_that_are_urls_or_flags_are_not_secrets(tmp_path: Path) -> None:
    (tmp_path / ".env.production").write_text(
        "NEXT_PUBLIC_OPENAI_BASE_URL=https://api.openai.com/v1\n"
        "NEXT_PUBLIC_USE_OPENAI=true\n"
        "NEXT_PUBLIC_ANTHROPIC_API_KEY=https://proxy.example.invalid/anthropic\n"
        "VITE_OPENAI_API_KEY=false\n"
    )
    (tmp_path / ".env.example").write_text("NEXT_PUBLIC_OPENAI_API_KEY=\n")
    _code, report = run(str(tmp_path))
    assert _exposures(report) == {("browser.public-env-secret", ".env.example")}


@pytest.mark.parametrize(
    "path",
    [
        *("app/api/chat/route.ts", "src/app/api/chat/route.ts", "pages/api/chat.ts", "app/chat/route.ts"),
        *("src/server/anthropic.ts", "src/lib/ai.server.ts", "src/routes/api/+server.ts"),
    ],
)
def test_a_header_set_in_server_code_is_no_exposure(tmp_path: Path, path: str) -> None:
    code = (
        'await fetch("https://api.anthropic.com/v1/messages", {\n'
        f'  headers: {{ "x-api-key": process.env.ANTHROPIC_API_KEY, "{HEADER}": "true" }},\n'
        "});\n"
    )
    (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / path).write_text(code)
    (tmp_path / "src" / "components").mkdir(parents=True, exist_ok=True)
    (tmp_path / "src" / "components" / "Chat.tsx").write_text(code)
    _code, report = run(str(tmp_path))
    assert _exposures(report) == {("browser.anthropic-direct-access", "src/components/Chat.tsx")}


# --- item 8 -------------------------------------------------------------------------------------------


def test_a_calls_earlier_argument_is_not_the_name_a_key_is_assigned_to() -> None:
    data = b'createClient("acme-chat-demo", "KEY")'
    assert assigned_to(data, data.index(b"KEY")) is None
    data = b'headers.set("x-api-key", "KEY")'
    assert assigned_to(data, data.index(b"KEY")) == "x-api-key, …"


def test_a_bundle_only_finding_is_not_dated_by_a_commit_that_holds_none_of_its_locations() -> None:
    rule = next(r for r in load_rules() if r.id == "browser.sdk-browser-opt-in")
    m = Match(rule_id=rule.id, start=0, end=10, secret=None, confidence=Confidence.HIGH, exposure_text=OPT_IN)
    when = "2020-01-01T00:00:00Z"
    seen = CommitRef(
        commit="a" * 40, author="Ada", email="ada@example.invalid", author_time=when, commit_time=when
    )

    loc = Location(
        source=SourceKind.BUNDLE,
        path="dist/assets/index.js.map",
        position=Position(1, 1, 1, 11, 0),
        client_bundle=True,
    )
    (f,) = build_findings(
        [Hit(match=m, location=loc, exposure=Exposure.CLIENT_BUNDLE, provenance=Provenance(first_seen=seen))],
        {rule.id: rule},
    )
    assert f.first_seen is None


def test_srcroot_is_absolute_when_the_target_is_relative(tmp_path: Path) -> None:
    key = make_key("openai.project-key", 2155)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "config.js").write_text(f'export const apiKey = "{key}";\n')
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
            main(["scan", "app", "--sarif", "out.sarif", "--jobs", "1", "--fail-on", "none"])
    finally:
        os.chdir(cwd)
    sarif = json.loads((tmp_path / "out.sarif").read_text())
    root = sarif["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root == (tmp_path / "app").resolve().as_uri() + "/"


def test_a_firebase_key_is_told_to_be_restricted_not_revoked(tmp_path: Path) -> None:
    key = make_key("google.api-key", 2156)
    (tmp_path / "site" / "src").mkdir(parents=True)
    (tmp_path / "site" / "src" / "firebase.js").write_text(_firebase(key))
    out, err = io.StringIO(), io.StringIO()
    summary, sarif_file = tmp_path / "summary.md", tmp_path / "out.sarif"
    argv = [
        "scan",
        str(tmp_path / "site"),
        "--jobs",
        "1",
        "--summary",
        str(summary),
        "--sarif",
        str(sarif_file),
    ]
    with redirect_stdout(out), redirect_stderr(err):
        main(argv)
    console = out.getvalue() + err.getvalue()
    assert "public by design, not a leak" in console and "revoke the key now" not in console
    message = json.loads(sarif_file.read_text())["runs"][0]["results"][0]["message"]["text"]
    assert "public by design" in message and not message.startswith("Leaked")
    text = summary.read_text()
    assert "**Restrict**" in text and "**Revoke**" not in text
    assert key not in console + message + text
