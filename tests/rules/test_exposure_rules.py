"""Exposure rules (scanner/rules/browser.yml): each fires on its construct in `.env*`, configs,
CI workflows, web code and minified bundles — once, by its own rule, on both engines — and stays
silent on its negative examples, among them the keys providers intend to be public. End to end,
a construct is reported where it ships and not where it is only quoted (Python, Markdown).

Constructs are expanded from the rules' templates at run time, so this file holds none.
"""

from __future__ import annotations

import functools
import io
import json
import random
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pygit2
import pytest

from scanner.cli import main
from scanner.detect.engine import Matcher
from scanner.model import Kind, Rule
from scanner.rules import load_rules
from scanner.rules.templates import expand

ENGINES = ("hyperscan", "python")
EXPOSURE = [r for r in load_rules() if r.kind is Kind.EXPOSURE]
NAMES = "browser.public-env-secret"  # its examples are variable names; the others are constructs


@functools.cache
def matcher(engine: str) -> Matcher:
    return Matcher(load_rules(), engine)


def example(r: Rule, i: int) -> str:
    return expand(r.examples[i], random.Random(f"{r.id}#{i}"))


def negative(r: Rule, i: int) -> str:
    return expand(r.negative_examples[i], random.Random(f"{r.id}!{i}"))


# --- where a construct sits: (file name, text with {x} for it) ---------------------------------

Plant = Callable[[str], tuple[str, str]]


def _name_plants() -> dict[str, Plant]:
    return {
        "env": lambda x: (".env.production", f"# build settings\nNODE_ENV=production\n{x}=replace-me\n"),
        "web": lambda x: ("src/lib/ai.ts", f"export const key = process.env.{x} ?? '';\n"),
        "web-vite": lambda x: ("src/main.js", f"const key = import.meta.env.{x};\n"),
        "web-svelte": lambda x: ("src/lib/ai.ts", f"import {{ {x} }} from '$env/static/public';\n"),
        "config": lambda x: ("app.json", json.dumps({"expo": {"extra": {x: "replace-me"}}}) + "\n"),
        "ci": lambda x: (
            ".github/workflows/build.yml",
            f"jobs:\n  build:\n    env:\n      {x}: ${{{{ secrets.KEY }}}}\n    steps:\n      - run: npm run build\n",
        ),
        "bundle": lambda x: (
            "dist/assets/index-Bx3k9aZq.js",
            f'(()=>{{var e=process.env.{x}||"";console.log(e)}})();',
        ),
    }


def _construct_plants() -> dict[str, Plant]:
    return {
        "env": lambda x: (".env.production", f"# build settings\n{x}\n"),
        "web": lambda x: ("src/lib/ai.ts", f"export const client = new Client({{\n  apiKey,\n  {x},\n}});\n"),
        "config": lambda x: (
            "next.config.mjs",
            f"export default {{\n  reactStrictMode: true,\n  {x},\n}};\n",
        ),
        "build": lambda x: (
            "vite.config.ts",
            f"export default defineConfig({{\n  plugins: [react()],\n  build: {{ {x} }},\n}});\n",
        ),
        "config-json": lambda x: (
            "package.json",
            json.dumps({"scripts": {"build": f"{x} react-scripts build"}}) + "\n",
        ),
        "ci": lambda x: (".github/workflows/build.yml", f"jobs:\n  build:\n    env:\n      {x}\n"),
        "bundle": lambda x: (
            "dist/assets/index-Bx3k9aZq.js",
            f"(()=>{{var e=new t({{apiKey:n,{x}}});e.run()}})();",
        ),
    }


def _kinds(plant: str) -> str:
    return plant.split("-")[0]


def plants_for(r: Rule) -> dict[str, Plant]:
    every = _name_plants() if r.id == NAMES else _construct_plants()
    return {k: p for k, p in every.items() if _kinds(k) in r.contexts}


CASES = [
    pytest.param(r.id, i, plant, id=f"{r.id}#{i}-{plant}")
    for r in EXPOSURE
    for i in range(len(r.examples))
    for plant in plants_for(r)
]


def test_every_exposure_rule_is_planted() -> None:
    assert {r.id for r in EXPOSURE} == {
        "browser.public-env-secret",
        "browser.sdk-browser-opt-in",
        "browser.anthropic-direct-access",
        "browser.production-source-maps",
        "browser.cra-source-maps",
    }
    for r in EXPOSURE:
        assert r.examples and r.negative_examples and r.contexts and r.remediation and r.references
        assert set(plants_for(r)), r.id


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("rule_id", "index", "plant"), CASES)
def test_example_found_once_by_its_rule(rule_id: str, index: int, plant: str, engine: str) -> None:
    r = next(x for x in EXPOSURE if x.id == rule_id)
    value = example(r, index)
    _, text = plants_for(r)[plant](value)
    data = text.encode()
    found = [m for m in matcher(engine).scan(data) if m.secret is None]
    assert [(m.rule_id, m.also_matched) for m in found] == [(rule_id, ())]
    m = found[0]
    matched = data[m.start : m.end].decode()
    assert m.exposure_text == matched
    # the construct as written (quotes, JSON escapes and a header pair's separator aside)
    bare, want = matched.replace("\\", "").strip("\"'`"), value.strip("\"'`")
    assert bare in want or want in bare, (matched, value)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("rule_id", "index"),
    [pytest.param(r.id, i, id=f"{r.id}!{i}") for r in EXPOSURE for i in range(len(r.negative_examples))],
)
def test_negative_example_is_silent(rule_id: str, index: int, engine: str) -> None:
    r = next(x for x in EXPOSURE if x.id == rule_id)
    value = negative(r, index)
    for plant in plants_for(r).values():
        _, text = plant(value)
        found = [m.rule_id for m in matcher(engine).scan(text.encode())]
        assert found == [], (text, found)


# --- end to end ------------------------------------------------------------------------------------


def _run(root: Path, *argv: str) -> dict[str, object]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        main(["scan", str(root), "--json", "-", "--jobs", "1", *argv])
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


def _repo(root: Path, files: dict[str, str]) -> Path:
    repo = pygit2.init_repository(str(root), initial_head="main")
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    repo.index.add_all()
    repo.index.write()
    sig = pygit2.Signature("Ada Builder", "ada@example.invalid", 1_600_000_000, 0)
    repo.create_commit("HEAD", sig, sig, "app", repo.index.write_tree(), [])
    return root


def _exposures(report: dict[str, object]) -> dict[tuple[str, str], dict[str, object]]:
    findings = report["findings"]
    assert isinstance(findings, list)
    return {(f["rule_id"], f["locations"][0]["path"]): f for f in findings if f["kind"] == "exposure"}


def test_reported_where_it_ships_not_where_it_is_quoted(tmp_path: Path) -> None:
    rule = next(r for r in EXPOSURE if r.id == NAMES)
    name = example(rule, 0)
    opt_in = example(next(r for r in EXPOSURE if r.id == "browser.sdk-browser-opt-in"), 0)
    files = {
        ".env.example": f"{name}=\n",
        "src/ai.ts": f"const client = new OpenAI({{ apiKey: process.env.{name}, {opt_in} }});\n",
        "docs/setup.md": f"Never set `{name}`; never pass `{opt_in}`.\n",
        "tools/check.py": f'FORBIDDEN = ["{name}", "{opt_in}"]\n',
    }
    report = _run(_repo(tmp_path / "r", files))
    got = _exposures(report)
    # one finding per rule and exposed name, with every place it ships (§4)
    assert {k: [loc["path"] for loc in f["locations"]] for k, f in got.items()} == {  # type: ignore[attr-defined]
        (NAMES, ".env.example"): [".env.example", "src/ai.ts"],
        ("browser.sdk-browser-opt-in", "src/ai.ts"): ["src/ai.ts"],
    }
    f = got[(NAMES, ".env.example")]
    assert (f["severity"], f["confidence"], f["exposure"], f["redacted"], f["secret_sha256"]) == (
        "high",
        "medium",
        "repository",
        None,
        None,
    )
    loc = f["locations"][1]  # type: ignore[index]
    assert loc["context"] == name and (loc["line"], loc["column"]) == (
        1,
        1 + len("const client = new OpenAI({ apiKey: process.env."),
    )


def test_public_by_design_keys_stay_silent(tmp_path: Path) -> None:
    """A Next.js template's env file, config and client code for Firebase, Maps, Supabase,
    Stripe, Clerk, Sentry, PostHog and Algolia: no exposure finding at all."""
    rule = next(r for r in EXPOSURE if r.id == NAMES)
    names = [negative(rule, i) for i in range(len(rule.negative_examples))]
    files = {
        ".env.local.example": "".join(f"{n}=replace-me\n" for n in names),
        "src/lib/config.ts": "".join(f"export const v{i} = process.env.{n};\n" for i, n in enumerate(names)),
        "next.config.mjs": "export default { env: {\n"
        + "".join(f"  {n}: process.env.{n},\n" for n in names)
        + "} };\n",
        ".github/workflows/deploy.yml": "jobs:\n  d:\n    env:\n" + "".join(f"      {n}: x\n" for n in names),
    }
    report = _run(_repo(tmp_path / "t", files))
    assert report["findings"] == []


def test_exposure_in_a_client_bundle_is_critical(tmp_path: Path) -> None:
    opt_in = expand("dangerouslyAllowBrowser{alnum:0}:!0", random.Random(0))
    header = expand('"anthropic-dangerous-{alnum:0}direct-browser-access":"true"', random.Random(0))
    bundle = f"(()=>{{var e=new t({{apiKey:n,{opt_in}}});fetch(u,{{headers:{{{header}}}}})}})();\n"
    root = _repo(tmp_path / "b", {"README.md": "app\n", ".gitignore": "dist/\n"})
    (root / "dist" / "assets").mkdir(parents=True)
    (root / "dist" / "assets" / "index-Bx3k9aZq.js").write_text(bundle)
    got = _exposures(_run(root))
    for rid in ("browser.sdk-browser-opt-in", "browser.anthropic-direct-access"):
        f = got[(rid, "dist/assets/index-Bx3k9aZq.js")]
        assert (f["severity"], f["exposure"]) == ("critical", "client-bundle")
        assert f["locations"][0]["client_bundle"] == "build-output"  # type: ignore[index]


def test_a_rebuilt_bundle_keeps_the_exposure_identity(tmp_path: Path) -> None:
    """Exposure findings strip content hashes from bundle names (§4 Fingerprint)."""
    opt_in = expand("dangerouslyAllowBrowser{alnum:0}:!0", random.Random(0))
    prints = []
    for i, name in enumerate(("main.3f2a1c9b.js", "main.8d7e6f50.js")):
        root = _repo(tmp_path / f"v{i}", {".gitignore": "build/\n", "a.txt": "a\n"})
        (root / "build" / "static" / "js").mkdir(parents=True)
        (root / "build" / "static" / "js" / name).write_text(f"!function(){{new t({{{opt_in}}})}}();\n")
        (f,) = _exposures(_run(root)).values()
        prints.append(f["fingerprint"])
    assert prints[0] == prints[1]
