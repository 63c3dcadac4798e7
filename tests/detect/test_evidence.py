"""The context model: prefix-less keys handed to their provider's client (docs/rules-notes.md).

Every rule with a slot pattern is planted in call and options-object forms in Python, JS/TS and
Go built from its own data (callees, clients, imports, hosts), and must be found once by itself;
the same shapes under non-credential names, or with no evidence, stay silent. Keys are built at
run time from the rules' templates.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import re

import pytest

from scanner.detect.engine import Matcher
from scanner.detect.evidence import enclosing_calls, foreign
from scanner.detect.filters import KNOWN_PUBLIC, SAID_FAKE, is_known_public
from scanner.detect.prefilter import HyperscanPrefilter, hyperscan
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Location, Position, Rule, Severity, SourceKind
from scanner.rules import RuleError, load_file
from scanner.rules.templates import expand
from tests.keys import rules

ENGINES = ("hyperscan", "python")
CONTEXT_RULES = [r for r in rules() if r.slot_pattern]
GENERIC = "generic.credential"  # the credential-slot detector: reports what no provider rule claims


@pytest.fixture(scope="module")
def matchers() -> dict[str, Matcher]:
    return {e: Matcher(rules(), e) for e in ENGINES}


def _key(r: Rule, seed: int = 0) -> str:
    return expand(r.examples[0], random.Random(f"{r.id}~{seed}"))


def _call(r: Rule) -> str:
    """A constructor that names the provider: `Mistral`, `Cohere`, …"""
    return r.callees[0].capitalize() if r.callees else r.clients[0]


def _pkg(r: Rule) -> str:
    return re.sub(r"[^a-z0-9]", "", r.callees[0]) if r.callees else r.clients[0].lower()


def _py_import(r: Rule) -> str:
    mods = [m for m in r.imports if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", m)]
    return f"import {mods[0]}\n" if mods else ""


def forms(r: Rule, name: str, key: str) -> dict[str, str]:
    """The call and options-object forms, with the credential under `name`."""
    call, pkg = _call(r), _pkg(r)
    out = {
        "py-kwarg": f"{_py_import(r)}\nclient = {call}({name}={json.dumps(key)}, timeout=30)\n",
        "py-multiline": f"client = {call}(\n    base_url=BASE,\n    {name}='{key}',\n)\n",
        "js-options": f'import {{ {call} }} from "{pkg}";\nconst c = new {call}({{ {name}: "{key}" }});\n',
        "js-minified": f'var a=new {call}({{{name}:"{key}",maxRetries:2}});',
        "ts-options": f'const client: {call} = new {call}({{\n  {name}: "{key}",\n  timeout: 3e4,\n}});\n',
        "go-options": f'client := {pkg}.NewClient(option.With{name[0].upper() + name[1:]}("{key}"))\n',
        "go-struct": f'client := {pkg}.NewClient({pkg}.Config{{{name[0].upper() + name[1:]}: "{key}"}})\n',
    }
    return out


POSITIONAL = {
    "py-positional": "client = {call}({q}{key}{q})\n",
    "js-positional": "const c = {call}({q}{key}{q});\n",
    "go-positional": "c := {pkg}.NewClient({q}{key}{q})\n",
}

CASES = [pytest.param(r.id, f, id=f"{r.id}-{f}") for r in CONTEXT_RULES for f in forms(r, "apiKey", "k")]
POS_CASES = [pytest.param(r.id, f, id=f"{r.id}-{f}") for r in CONTEXT_RULES for f in POSITIONAL]


def _only(found: list[object], r: Rule, key: str) -> None:
    summary = [(m.rule_id, m.also_matched) for m in found]  # type: ignore[attr-defined]
    assert [(m.rule_id, m.secret, m.also_matched) for m in found] == [(r.id, key, ())], summary  # type: ignore[attr-defined]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("rule_id", "form"), CASES)
def test_key_passed_to_the_client_is_found(
    rule_id: str, form: str, engine: str, matchers: dict[str, Matcher]
) -> None:
    r = next(x for x in CONTEXT_RULES if x.id == rule_id)
    key = _key(r)
    name = {"py-kwarg": "api_key", "py-multiline": "api_key", "go-struct": "APIKey"}.get(form, "apiKey")
    if form == "go-options":
        name = "APIKey"
    text = forms(r, name, key)[form]
    _only(matchers[engine].scan(text.encode()), r, key)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("rule_id", "form"), POS_CASES)
def test_key_as_positional_argument_of_the_client(
    rule_id: str, form: str, engine: str, matchers: dict[str, Matcher]
) -> None:
    r = next(x for x in CONTEXT_RULES if x.id == rule_id)
    key = _key(r)
    text = POSITIONAL[form].format(call=_call(r), pkg=_pkg(r), key=key, q='"')
    _only(matchers[engine].scan(text.encode()), r, key)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["requestId", "checksum", "traceId", "request_id", "etag"])
@pytest.mark.parametrize("rule", CONTEXT_RULES, ids=lambda r: r.id)
def test_same_shapes_under_other_names_are_silent(
    rule: Rule, name: str, engine: str, matchers: dict[str, Matcher]
) -> None:
    key = _key(rule)
    for form, text in forms(rule, name, key).items():
        if form == "go-options":
            continue  # option.WithRequestId(…) is not a credential setter either, checked below
        found = [m for m in matchers[engine].scan(text.encode()) if m.secret == key]
        assert found == [], (form, [m.rule_id for m in found])
    text = f'{_py_import(rule)}\nh = hashlib.md5("{key}")\nlog.info("{key}")\n'
    assert [m.rule_id for m in matchers[engine].scan(text.encode()) if m.secret == key] == []


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule", CONTEXT_RULES, ids=lambda r: r.id)
def test_a_credential_slot_without_evidence_is_silent(
    rule: Rule, engine: str, matchers: dict[str, Matcher]
) -> None:
    key = _key(rule)
    for text in (
        f'client = SomeClient(api_key="{key}")\n',
        f'const c = new Other({{ apiKey: "{key}" }});\n',
        f'API_KEY = "{key}"\n',
        f'headers = {{"Authorization": "Bearer {key}"}}\n',
    ):
        found = matchers[engine].scan(text.encode())
        assert [m.rule_id for m in found if m.secret == key and m.rule_id != GENERIC] == [], text


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule", [r for r in CONTEXT_RULES if "host" in r.accept], ids=lambda r: r.id)
def test_the_api_host_ties_a_raw_request(rule: Rule, engine: str, matchers: dict[str, Matcher]) -> None:
    key = _key(rule)
    text = (
        f'r = requests.post(\n    "https://{rule.hosts[0].lstrip(".")}/v1/chat",\n'
        f'    headers={{"Authorization": "Bearer {key}", "Content-Type": "application/json"}},\n)\n'
    )
    _only(matchers[engine].scan(text.encode()), rule, key)
    pad = "# padding\n" * (rule.host_window // 10 + 50)
    far = f'BASE = "https://{rule.hosts[0]}/v1"\n' + pad + f'token = "{key}"\n'
    found = matchers[engine].scan(far.encode())
    assert [m for m in found if m.secret == key and m.rule_id != GENERIC] == [], "beyond the host window"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("rule", [r for r in CONTEXT_RULES if "import" in r.accept], ids=lambda r: r.id)
def test_the_sdk_import_ties_a_credential_slot(rule: Rule, engine: str, matchers: dict[str, Matcher]) -> None:
    key = _key(rule)
    for mod in rule.imports:
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", mod):
            text = f"import os\nfrom {mod} import something\n\nsettings.api_key = '{key}'\n"
        elif mod.startswith("github.com/"):
            text = f'package main\n\nimport (\n\t"{mod}/client"\n)\n\nvar cfg = Config{{Token: "{key}"}}\n'
        else:
            text = f'import {{ Thing }} from "{mod}";\nconst config = {{ apiKey: "{key}" }};\n'
        _only(matchers[engine].scan(text.encode()), rule, key)
    # an import that is only a string elsewhere does not count
    text = f"x = 'uses {rule.imports[0]} for nothing'\nsettings.api_key = '{key}'\n"
    found = matchers[engine].scan(text.encode())
    assert [m for m in found if m.secret == key and m.rule_id != GENERIC] == []


def test_every_keyword_gated_rule_has_a_context_model() -> None:
    """Keyword-gated prefix-less rules accept call forms, except the LiteLLM master key (a proxy
    setting, not handed to any SDK client)."""
    gated = {r.id for r in rules() if r.example_name != "API_TOKEN" and not r.context}
    without = gated - {r.id for r in CONTEXT_RULES}
    assert without == {"litellm.master-key"}


def test_prefilter_compiles_every_builtin_pattern() -> None:
    """A pattern hyperscan cannot take would fall back to keyword windows, which miss evidence
    far from the keyword: every built-in pattern, slot and shared expression must compile."""
    if hyperscan is None:
        pytest.skip("hyperscan not installed")
    for expr, rid, _ in HyperscanPrefilter._expressions(rules()):
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=[expr], ids=[rid], flags=[hyperscan.HS_FLAG_PREFILTER])


def test_enclosing_calls() -> None:
    text = b'x = cohere.ClientV2(timeout=3, api_key="VALUE")'
    assert enclosing_calls(text, text.index(b"VALUE")) == [(b"cohere.ClientV2", True)]
    text = b'new Mistral({ apiKey: "VALUE" })'
    assert enclosing_calls(text, text.index(b"VALUE")) == [(b"Mistral", False)]
    text = b'c := cohere.NewClient(option.WithToken("VALUE"))'
    assert enclosing_calls(text, text.index(b"VALUE")) == [
        (b"option.WithToken", True),
        (b"cohere.NewClient", False),
    ]
    text = b'f(a); g(b); apiKey = "VALUE"'
    assert enclosing_calls(text, text.index(b"VALUE")) == []


def test_callee_names_the_provider_at_a_word_start(matchers: dict[str, Matcher]) -> None:
    fal = next(r for r in CONTEXT_RULES if r.id == "fal.api-key")
    key = _key(fal)
    assert [
        m.rule_id for m in matchers["python"].scan(f'fal.config({{ credentials: "{key}" }})'.encode())
    ] == ["fal.api-key"]
    for callee in ("fallback", "Default", "nonfatal"):
        text = f'{callee}({{ credentials: "{key}" }})'.encode()
        assert [m.rule_id for m in matchers["python"].scan(text) if m.rule_id != GENERIC] == [], callee


# --- the loader ---------------------------------------------------------------------------------

RULE = """\
provider: demo
rules:
  - id: demo.key
    name: Demo key
    variable: 'demo'
    value: '[a-f0-9]{{32}}'
    max_length: 32
    keywords: [demo]
    severity: high
    confidence: medium
    examples: ['{{hex:32}}']
{extra}"""


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    accept: [vibes]\n", "unknown evidence"),
        ("    accept: [call]\n", "needs 'callees' or 'clients'"),
        ("    accept: [host]\n", "needs 'hosts'"),
        ("    accept: [call]\n    callees: [other]\n", "holds none of the keywords"),
        ("    accept: [call]\n    clients: [Client]\n", "accept 'import'"),
    ],
)
def test_loader_checks_the_context_model(tmp_path: object, extra: str, message: str) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "demo.yml"
    p.write_text(RULE.format(extra=extra), encoding="utf-8")
    with pytest.raises(RuleError, match=message):
        load_file(p)


def test_loader_builds_named_and_slot_patterns(tmp_path: object) -> None:
    from pathlib import Path

    p = Path(str(tmp_path)) / "demo.yml"
    p.write_text(
        RULE.format(extra="    accept: [call, host]\n    callees: [demo]\n    hosts: [api.demo.io]\n")
    )
    (r,) = load_file(p)
    assert r.pattern.startswith("(?i:demo)") and "(?P<secret>[a-f0-9]{32})" in r.pattern
    assert "(?P<pos>" in r.slot_pattern and r.accept == ("call", "host")


# --- harmless values ------------------------------------------------------------------------------

# The Supabase CLI signs its local stack's demo JWTs with this published development secret
# (supabase/cli, `supabase start`); the JWTs are rebuilt here, never stored.
SUPABASE_DEV_SECRET = b"super-secret-jwt-token-with-at-least-32-characters-long"


def _b64url(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _demo_jwt(role: str, iss: str = "supabase-demo") -> str:
    head = _b64url({"alg": "HS256", "typ": "JWT"})
    body = _b64url({"iss": iss, "role": role, "exp": 1983812996})
    sig = hmac.new(SUPABASE_DEV_SECRET, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


@pytest.mark.parametrize("engine", ENGINES)
def test_supabase_demo_jwts_are_not_reported(engine: str, matchers: dict[str, Matcher]) -> None:
    for role in ("service_role", "anon"):
        jwt = _demo_jwt(role)
        assert is_known_public(jwt)
        text = f"SUPABASE_SERVICE_ROLE_KEY={jwt}\nSUPABASE_URL=http://127.0.0.1:54321\n"
        assert matchers[engine].scan(text.encode()) == []
    # a project's own service-role JWT (another signature) is still a leak
    real = _demo_jwt("service_role", iss="supabase")
    other = expand("{supabase_service_jwt}", random.Random(3))
    assert not is_known_public(real) and not is_known_public(other)
    found = matchers[engine].scan(f"SUPABASE_SERVICE_ROLE_KEY={other}\n".encode())
    assert [m.rule_id for m in found] == ["supabase.service-role-key"]


def test_known_public_values_are_digests_only() -> None:
    assert KNOWN_PUBLIC and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in KNOWN_PUBLIC)


# --- an AWS access key ID alone --------------------------------------------------------------------


def _hits(text: str, engine: Matcher) -> list[Hit]:
    pos = Position(1, 1, 1, 2, 0)
    loc = Location(SourceKind.DIRECTORY, "f.txt", pos)
    return [Hit(m, loc, Exposure.REPOSITORY) for m in engine.scan(text.encode())]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_access_key_id_alone_is_low_and_says_why(engine: str, matchers: dict[str, Matcher]) -> None:
    r = random.Random(11)
    akid, secret = expand("ASIA{base32:16}", r), expand("{b64:40}", r)
    url = (
        f"https://bucket.s3.amazonaws.com/report.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
        f"{akid}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-Expires=900"
        f"&X-Amz-Signature={expand('{hex:64}', r)}&X-Amz-SignedHeaders=host"
    )
    (m,) = matchers[engine].scan(url.encode())
    assert m.rule_id == "aws.access-key-id" and m.alone and "not a credential" in m.alone
    rules_by_id = {x.id: x for x in rules()}
    (f,) = build_findings(_hits(url, matchers[engine]), rules_by_id)
    assert f.severity is Severity.LOW and f.severity_reason == m.alone
    pair = f"[default]\naws_access_key_id = {akid}\naws_secret_access_key = {secret}\n"
    found = {m.rule_id: m for m in matchers[engine].scan(pair.encode())}
    assert found["aws.access-key-id"].alone is None
    sev = {f.rule_id: f.severity for f in build_findings(_hits(pair, matchers[engine]), rules_by_id)}
    assert sev["aws.access-key-id"] is Severity.CRITICAL
    assert all(f.severity_reason is None for f in build_findings(_hits(pair, matchers[engine]), rules_by_id))
    git_sha = expand("{hex:40}", r)  # a 40-hex commit id near the ID is not its secret
    (m,) = matchers[engine].scan(f"AWS_ACCESS_KEY_ID={akid}\ncommit {git_sha}\n".encode())
    assert m.alone


# --- OpenAI marker shapes -----------------------------------------------------------------------

MARKER_SHAPES = [
    ("sk-proj-{b64url:74}T3BlbkFJ{b64url:74}", "openai.project-key"),
    ("sk-proj-{b64url:30}T3BlbkFJ{b64url:95}", "openai.project-key"),
    ("sk-svcacct-{b64url:12}T3BlbkFJ{b64url:12}", "openai.service-account-key"),
    ("sk-admin-{b64url:100}T3BlbkFJ{b64url:100}", "openai.admin-key"),
    ("sk-None-{b64url:33}T3BlbkFJ{b64url:41}", "openai.none-key"),
    ("sk-{b64url:20}T3BlbkFJ{b64url:20}", "openai.legacy-key"),
    ("sk-{alnum:32}T3BlbkFJ{alnum:32}", "openai.legacy-key"),
    ("sk-{lower:5}-{b64url:50}T3BlbkFJ{b64url:50}", "openai.legacy-key"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("template", "rule_id"), MARKER_SHAPES)
def test_every_openai_marker_shape_is_found_and_named(
    template: str, rule_id: str, engine: str, matchers: dict[str, Matcher]
) -> None:
    key = expand(template, random.Random(template))
    for text in (f"OPENAI_API_KEY={key}\n", f'const o = new OpenAI({{apiKey:"{key}"}});', f"k: '{key}'\n"):
        found = matchers[engine].scan(text.encode())
        assert [(m.rule_id, m.secret, m.also_matched) for m in found] == [(rule_id, key, ())], text[:20]


@pytest.mark.parametrize("engine", ENGINES)
def test_marker_lookalikes_are_silent(engine: str, matchers: dict[str, Matcher]) -> None:
    r = random.Random(5)
    for t in (
        "{b64:40}T3BlbkFJ{b64:40}",
        "sk_proj_{b64url:40}T3BlbkFJ{b64url:40}",
        "sk-{alnum:4}T3BlbkFJ{alnum:4}",
    ):
        value = expand(t, r)
        assert matchers[engine].scan(f"token = '{value}'\n".encode()) == [], t


# --- a name that names another service; a comment that calls the value fake ---------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_slot_named_for_another_service_is_not_tied_by_a_host(
    engine: str, matchers: dict[str, Matcher]
) -> None:
    """A multi-provider config: an iFlytek key under XFYUN_API_KEY, an Azure endpoint above it."""
    key = expand("{hex:32}", random.Random("xfyun"))
    head = 'AZURE_ENDPOINT = "https://your-resource.openai.azure.com/"\n' + "# other services\n" * 3
    found = matchers[engine].scan(f'{head}XFYUN_API_KEY = "{key}"\n'.encode())
    assert [m.rule_id for m in found if m.secret == key] == [GENERIC]  # an unknown service's key
    for name in ("AZURE_OPENAI_API_KEY", "OPENAI_API_KEY", "api_key", "export APIKEY"):  # its own or none
        found = matchers[engine].scan(f'{head}{name} = "{key}"\n'.encode())
        assert [m.rule_id for m in found if m.secret == key] == ["azure.openai-legacy-key"], name
    # the enclosing call still ties it, whatever the name
    text = f'{head}client = AzureOpenAI(api_key="{key}", azure_endpoint=AZURE_ENDPOINT)\n'
    assert [m.rule_id for m in matchers[engine].scan(text.encode())] == ["azure.openai-legacy-key"]


def test_foreign_names() -> None:
    azure = next(r for r in rules() if r.id == "azure.openai-legacy-key")
    assert foreign("XFYUN_API_KEY", azure) and foreign("mapboxToken", azure)
    assert not foreign("AZURE_OPENAI_API_KEY", azure) and not foreign("NEXT_PUBLIC_OPENAI_API_KEY", azure)
    assert not foreign("apiKey", azure) and not foreign("PROD_API_KEY", azure)
    assert not foreign("APIKEY", azure) and not foreign("OPENAIAPIKEY", azure)  # glued words
    assert foreign("XFYUNAPIKEY", azure)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_value_its_own_comment_calls_fake_is_reported(engine: str, matchers: dict[str, Matcher]) -> None:
    """Never dropped (issue 19.10): an unverified shape is low with the reason, OpenAI's marker
    keeps the rule's severity (tests/test_low_severity.py covers every rule)."""
    marked = expand("sk-{b64url:42}T3BlbkFJ{b64url:42}", random.Random("said fake"))
    bare = expand("sk-ant-api03-{b64url:93}AA", random.Random("said fake"))
    for comment in ("# correct format, not real", "// fake key for the parser test", "/* dummy */"):
        for key, said in ((marked, None), (bare, SAID_FAKE)):
            for text in (
                f'assert is_valid_api_key(\n    "{key}"  )  {comment}\n',
                f'assert is_valid_api_key(\n    "{key}"\n)  {comment}\n',  # black puts it after the ")"
            ):
                assert [(m.secret, m.said_fake) for m in matchers[engine].scan(text.encode())] == [
                    (key, said)
                ]
    for key in (marked, bare):
        for text in (
            f'OPENAI_API_KEY = "{key}"  # prod, rotate monthly\n',
            f'OPENAI_API_KEY = "{key}"\n# a fake one below\n',  # the comment is another line's
            f'OPENAI_API_KEY = "{key}"\n    # fake keys for the tests below\n',
            f'const c={{apiKey:"{key}",baseURL:"https://x.invalid",label:"dummy"}};',  # not a comment
        ):
            assert [(m.secret, m.said_fake) for m in matchers[engine].scan(text.encode())] == [(key, None)]
