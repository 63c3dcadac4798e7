"""Keyword-gated keys in minified bundles (scanner/detect/hosts.py): where the provider's name was
minified away, the key as a generic property's value (`apiKey:"…"`, `Authorization:"Bearer …"`)
is found when the provider's API host survives within the rule's bounded window, and only then.
"""

from __future__ import annotations

import functools
import io
import json
import random
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pygit2
import pytest

from scanner.cli import main
from scanner.detect.engine import Matcher
from scanner.detect.hosts import secret_group
from scanner.model import Rule
from scanner.rules import load_rules
from scanner.rules.templates import expand
from tests import bundlers

ENGINES = ("hyperscan", "python")
# a shared prefix (Stripe's and Clerk's sk_live_) is found without a host too: test_shared_prefix.py
SHARED = {x for r in load_rules() if "bare" in r.accept for x in (r.id, *r.rivals)}
HOSTED = [r for r in load_rules() if r.hosts and r.id not in SHARED]
FILLER = "var z=" + json.dumps([f"item-{i:05d}" for i in range(400)]) + ";"  # ~5 KB of other code


@functools.cache
def matcher(engine: str) -> Matcher:
    return Matcher(load_rules(), engine)


def key_of(r: Rule) -> str:
    return expand(r.examples[0], random.Random(f"{r.id}#hosts"))


FORMS = {
    "apiKey": 'new t({{apiKey:"{key}",baseURL:u}})',
    "template": "new t({{apiKey:`{key}`}})",
    "bearer": 'fetch(u,{{method:"POST",headers:{{Authorization:"Bearer {key}"}}}})',
    "header": 'fetch(u,{{headers:{{"x-api-key":"{key}"}}}})',
}


def bundle(host: str, use: str, gap: str = FILLER) -> str:
    return f'(()=>{{var u="https://{host}/v1/chat";{gap}{use};}})();'


def test_hosts_are_listed_for_the_prefix_less_rules() -> None:
    assert {"mistral.api-key", "cohere.api-key", "deepgram.api-key", "assemblyai.api-key"} <= {
        r.id for r in HOSTED
    }
    # rules whose context model accepts host evidence find these forms with their slot pattern
    forms = [r for r in HOSTED if "host" not in r.accept]
    assert len(matcher("python").rules) == len(load_rules()) + len(forms)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("rule", HOSTED, ids=lambda r: r.id)
def test_found_near_its_host(rule: Rule, form: str, engine: str) -> None:
    key = key_of(rule)
    host = rule.hosts[0].lstrip(".")
    if rule.hosts[0].startswith("."):
        host = "my-resource" + rule.hosts[0]
    text = bundle(host, FORMS[form].format(key=key)).encode()
    found = [m for m in matcher(engine).scan(text) if m.secret is not None]
    assert [(m.rule_id, m.secret) for m in found] == [(rule.id, key)]
    assert text[found[0].start : found[0].end] == key.encode()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule", HOSTED, ids=lambda r: r.id)
def test_silent_without_its_host_or_beyond_the_window(rule: Rule, engine: str) -> None:
    key = key_of(rule)
    use = FORMS["apiKey"].format(key=key)
    elsewhere = bundle("api.example.invalid", use).encode()
    # the credential-slot detector may report the value as an unknown credential; no provider may
    generic = "generic.credential"
    assert [m.rule_id for m in matcher(engine).scan(elsewhere) if m.secret and m.rule_id != generic] == []
    far = bundle(rule.hosts[0].lstrip("."), use, gap=FILLER * (rule.host_window // len(FILLER) + 2)).encode()
    assert [m.rule_id for m in matcher(engine).scan(far) if m.secret and m.rule_id != generic] == []


def test_secret_group_is_balanced() -> None:
    assert secret_group(r"x(?P<secret>a(b|[)(])c)(?!d)") == r"(?P<secret>a(b|[)(])c)"
    assert secret_group(r"(?P<secret>[\])]{3})z") == r"(?P<secret>[\])]{3})"
    assert secret_group("no group") is None


@pytest.mark.skipif(not bundlers.ESBUILD.exists(), reason="npm ci has not installed esbuild")
def test_mistral_key_in_a_real_bundle(tmp_path: Path) -> None:
    """esbuild folds `"Bearer " + key` into one literal; the name is gone, the host remains."""
    rule = next(r for r in HOSTED if r.id == "mistral.api-key")
    key = key_of(rule)
    root = tmp_path / "m"
    pygit2.init_repository(str(root), initial_head="main")
    bundlers.write(
        root,
        {
            "src/main.js": (
                "const BASE = 'https://api.mistral.ai/v1';\n"
                "export async function chat(text) {\n"
                "  const r = await fetch(BASE + '/chat/completions', {\n"
                "    method: 'POST',\n"
                "    headers: { Authorization: 'Bearer ' + process.env.MISTRAL_KEY, 'Content-Type': 'application/json' },\n"
                "    body: JSON.stringify({ model: 'mistral-small', messages: [{ role: 'user', content: text }] }),\n"
                "  });\n"
                "  return r.json();\n"
                "}\n"
                "chat(document.title);\n"
            ),
            ".gitignore": "dist/\n",
        },
    )
    repo = pygit2.Repository(str(root))
    repo.index.add_all()
    repo.index.write()
    sig = pygit2.Signature("Ada Builder", "ada@example.invalid", 1_600_000_000, 0)
    repo.create_commit("HEAD", sig, sig, "app", repo.index.write_tree(), [])
    out = bundlers.esbuild(root / "src" / "main.js", root / "dist", {"process.env.MISTRAL_KEY": key})
    assert f'"Bearer {key}"'.encode() in out.read_bytes() and b"mistral_" not in out.read_bytes().lower()
    buf = io.StringIO()
    with redirect_stdout(buf), redirect_stderr(io.StringIO()):
        main(["scan", str(root), "--json", "-", "--jobs", "1"])
    (f,) = [f for f in json.loads(buf.getvalue())["findings"] if f["kind"] == "secret"]
    assert (f["rule_id"], f["severity"], f["exposure"]) == ("mistral.api-key", "critical", "client-bundle")
    loc = f["locations"][0]
    assert loc["context"] == "Authorization: Bearer …"
    assert (
        loc["line"],
        loc["column"],
        loc["end_line"],
        loc["end_column"],
        loc["byte_offset"],
    ) == bundlers.position(out.read_bytes(), key)
