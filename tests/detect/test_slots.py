"""Credential slots as a detector of their own (issue 20; scanner/detect/slots.py).

A random value under a name that says it is a credential is reported in every syntax of the
context matrix, by `generic.credential` when no provider rule claims it; names that say the value
is something else, references, placeholders, identifiers and hashes under id-like names stay
silent; the confidence says how strong the evidence is. OpenAI-compatible relay keys and keys set
through an SDK's module-level attributes are named by their rule. Both engines, keys built at run
time from templates with a seeded RNG.
"""

from __future__ import annotations

import base64
import random

import pytest

from scanner.detect.slots import judge_name, value_class
from scanner.model import Confidence, Match
from scanner.rules.templates import expand
from tests.keys import matcher

ENGINES = ("hyperscan", "python")
GENERIC = "generic.credential"


def key(template: str = "{alnum:14}{digits:2}{alnum:16}", seed: str = "slot") -> str:
    return expand(template, random.Random(seed))


def found(engine: str, text: str, secret: str) -> list[tuple[str, Confidence]]:
    return [(m.rule_id, m.confidence) for m in matcher(engine).scan(text.encode()) if m.secret == secret]


# every syntax of the context matrix: (id, text with {k} for the value)
SYNTAXES = [
    ("env", "DEBUG=false\nSERPER_API_KEY={k}\nPORT=8080\n"),
    ("env-quoted", 'SERPER_API_KEY="{k}"\n'),
    ("shell-export", "export UPSTASH_REDIS_REST_TOKEN={k}\n"),
    ("dockerfile-env-eq", "FROM python:3.12\nENV TRELLO_TOKEN={k}\n"),
    ("dockerfile-env-space", "FROM python:3.12\nENV TRELLO_TOKEN {k}\n"),
    ("dockerfile-arg", "ARG WEAVIATE_API_KEY={k}\n"),
    ("compose-list", "services:\n  app:\n    environment:\n      - SERPER_API_KEY={k}\n"),
    ("compose-map", "services:\n  app:\n    environment:\n      SERPER_API_KEY: {k}\n"),
    ("yaml", "search:\n  serper_api_key: {k}\n"),
    ("k8s-env-list", "env:\n  - name: SERPER_API_KEY\n    value: {k}\n"),
    ("json", '{{\n  "serperApiKey": "{k}"\n}}\n'),
    ("toml", '[search]\napi_key = "{k}"\n'),
    ("ini", "[search]\napi_key = {k}\n"),
    ("python-const", 'API_KEY = "{k}"\n'),
    ("python-kwarg", 'client = SpeechClient(speech_key="{k}", region="westeurope")\n'),
    ("python-environ", 'os.environ["SERPER_API_KEY"] = "{k}"\n'),
    ("python-setdefault", 'os.environ.setdefault("SERPER_API_KEY", "{k}")\n'),
    ("python-headers", 'headers = {{"X-API-KEY": "{k}", "Content-Type": "application/json"}}\n'),
    ("python-auth-value", 'authValue = "{k}"\n'),
    ("js-object", 'const cfg = {{ apiKey: "{k}", timeout: 3000 }};\n'),
    ("ts-const", 'const speechKey: string = "{k}";\n'),
    ("js-nullish", "const key = process.env.SERPER_API_KEY ?? '{k}';\n"),
    ("go-struct", 'cfg := Config{{APIKey: "{k}"}}\n'),
    ("go-short", 'apiKey := "{k}"\n'),
    ("java", 'private static final String API_KEY = "{k}";\n'),
    ("csharp", 'var client = new Client {{ ApiKey = "{k}" }};\n'),
    ("ruby-hash", "Client.new(api_key: '{k}')\n"),
    ("ruby-rocket", "config = {{ :api_key => '{k}' }}\n"),
    ("php-array", "$config = ['api_key' => '{k}'];\n"),
    ("php-define", "define('API_KEY', '{k}');\n"),
    ("curl-header", "curl -H 'X-API-KEY: {k}' https://google.serper.dev/search\n"),
    ("curl-bearer", 'curl -H "Authorization: Bearer {k}" https://api.trello.com/1/members/me\n'),
    ("cli-flag", "./bin/sync --api-key {k} --verbose\n"),
    ("cli-flag-eq", "./bin/sync --token={k}\n"),
    ("notebook", '{{"cells": [{{"source": ["API_KEY = \\"{k}\\"\\n", "client = Client(API_KEY)"]}}]}}\n'),
    ("setter", 'client.setApiKey("{k}");\n'),
    ("env-spaced-name", "# by hand\nVercel API Key={k}\n\nApp_Daily_Bot Token=\n"),
    ("env-spaced-name-quoted", 'Google Custom Search API Key="{k}"\n'),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("syntax", "text"), SYNTAXES, ids=[s for s, _ in SYNTAXES])
def test_a_credential_in_a_slot_is_found_once(syntax: str, text: str, engine: str) -> None:
    k = key(seed=syntax)
    got = matcher(engine).scan(text.format(k=k).encode())
    assert [(m.rule_id, m.secret, m.confidence) for m in got] == [(GENERIC, k, Confidence.MEDIUM)], syntax


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "text",
    [
        "Key={k}\n",  # a bare `key` says nothing, with or without words before it
        "MongoDB Public Key={k}\n",  # public by its own name
        "Set the API key={k} in your shell\n",  # prose around it: not a line of its own
        "Vercel API Key={k} # from the dashboard\n",  # something after the value
        "The Vercel account we use for all our deployments API Key={k}\n",  # a sentence, not a name
        "Vercel API Key={k} {k}\n",
    ],
)
def test_a_name_with_spaces_counts_only_as_a_whole_env_line(text: str, engine: str) -> None:
    """`Vercel API Key=…` is how people write keys into a .env.example by hand (seen in a public
    AI-chatbot history): the whole line is the name; prose, comments and other words are not."""
    k = key(seed="spaced")
    assert found(engine, text.format(k=k), k) == []


# names that say the value is something else, in every casing and separator
NOT_SLOTS = [
    "requestId", "checksum", "traceId", "cacheKey", "nextToken", "pageToken", "page_token",
    "PUBLIC_KEY", "publishableKey", "NEXT_PUBLIC_SITE_KEY", "api_key_id", "KEY_ID", "tokenUrl",
    "TOKEN_ENDPOINT", "secret_name", "SECRET_ARN", "hashed_secret", "passwordHash",
    "max_tokens", "sortKey", "keyboardShortcut", "tokenizer", "password_length", "auth_mode",
    "authorName", "monkey", "turkey", "KEY_PREFIX", "token-type", "X-Amz-Credential", "key",
    "cached_token_key",
]  # fmt: skip


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", NOT_SLOTS)
def test_names_that_say_the_value_is_something_else_are_silent(name: str, engine: str) -> None:
    k = key(seed=name)
    for text in (f'{name} = "{k}"\n', f'{{"{name}": "{k}"}}\n', f"{name}: {k}\n", f"{name}={k}\n"):
        assert found(engine, text, k) == [], text


def _reference_values() -> list[str]:
    return [
        "${SERPER_API_KEY}",
        "$SERPER_API_KEY",
        "process.env.SERPER_API_KEY",
        "{{ secrets.SERPER_API_KEY }}",
        "vault:secret/data/search#api_key",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:search-AbCdEf",
        "secret/data/search/prod",
        "my-service-api-key-2",
        "SERPER_API_KEY_V2",
        "workload_identity_auth_v2",
        "decodeKeySafeBytes2",
        "1234567890123456",
        "2.5e-06",
        "your-api-key-here",
        "sk-..." + "x" * 40,
        base64.b64encode(b"user:a-readable-password").decode(),
        "0009_alter_user_last_name_max_length",
    ]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("value", _reference_values())
def test_references_placeholders_and_identifiers_are_silent(value: str, engine: str) -> None:
    for text in (f'API_KEY = "{value}"\n', f"API_KEY={value}\n", f'{{"apiKey": "{value}"}}\n'):
        assert [m.rule_id for m in matcher(engine).scan(text.encode()) if m.secret] == [], text


@pytest.mark.parametrize("engine", ENGINES)
def test_list_items_and_calls_are_not_slots(engine: str) -> None:
    """The item before a value in a tuple or array names it only when it is a header or an env
    var name: a migration's `("auth", "0009_…")`, a source map's `names`, a call `key("…")`."""
    k = key()
    for text in (
        f'dependencies = [("auth", "{k}")]\n',
        f'{{"names": ["decodeKeySafeBytes", "{k}"]}}\n',
        f'v = key("{k}")\n',
        f'log("token", "{k}")\n',
    ):
        assert found(engine, text, k) == [], text
    for text in (f'.header("X-API-KEY", "{k}")\n', f'setdefault("API_KEY", "{k}")\n'):
        assert found(engine, text, k) == [(GENERIC, Confidence.MEDIUM)], text


@pytest.mark.parametrize("engine", ENGINES)
def test_confidence_says_how_strong_the_evidence_is(engine: str) -> None:
    strong = key()
    assert found(engine, f'SERPER_API_KEY = "{strong}"\n', strong) == [(GENERIC, Confidence.MEDIUM)]
    # a weak name (`key`, `auth`, `pwd`) or a weak class of value stays below the default gate
    assert found(engine, f'auth: "{strong}"\n', strong) == [(GENERIC, Confidence.LOW)]
    assert found(engine, f'key: "{strong}"\n', strong) == []  # a bare `key`: dict entries, React keys
    uuid = expand("{uuid4}", random.Random("u"))
    assert found(engine, f'WEAVIATE_API_KEY = "{uuid}"\n', uuid) == [(GENERIC, Confidence.LOW)]
    pw = expand("{alpha:5}{digits:3}!{alpha:3}", random.Random("p"))
    assert found(engine, f'DB_PASSWORD = "{pw}"\n', pw) == [(GENERIC, Confidence.LOW)]
    assert found(engine, f'DB_HOST = "{pw}"\n', pw) == []
    assert found(engine, f'API_KEY = "{pw}"\n', pw) == []  # a password class only under a password name


@pytest.mark.parametrize("engine", ENGINES)
def test_a_provider_rule_names_the_value_and_vetoes_its_lookalikes(engine: str) -> None:
    """A provider rule on the value names it alone; a provider's prefix that its rule rejects (a
    wrong checksum, a length off by one, a marker one letter off) is no unknown credential."""
    gh = expand("ghp_{alnum:30}{crc32_b62_bad}", random.Random("g"))
    off = expand("sk-{alnum:20}T3BlbkFj{alnum:20}", random.Random("o"))
    short = expand("xai-{alnum:70}", random.Random("x"))
    for value in (gh, off, short):
        assert [m.rule_id for m in matcher(engine).scan(f'API_TOKEN = "{value}"\n'.encode())] == [], value
    mistral = expand("{alnum:32}", random.Random("m"))
    got = matcher(engine).scan(f'MISTRAL_API_KEY = "{mistral}"\n'.encode())
    assert [(m.rule_id, m.also_matched) for m in got] == [("mistral.api-key", ())]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unknown_service_key_beside_another_providers_host(engine: str) -> None:
    """A multi-provider config: no provider rule takes an iFlytek key, the slot detector does."""
    k = expand("{hex:32}", random.Random("xfyun"))
    text = f'AZURE_ENDPOINT = "https://r.openai.azure.com/"\nXFYUN_API_KEY = "{k}"\n'
    assert found(engine, text, k) == [(GENERIC, Confidence.MEDIUM)]


# --- OpenAI-compatible keys and module-level SDK attributes (issue 19 item 11) ------------------

RELAY = ["sk-{alnum:48}", "sk-{hex:32}"]
OPENAI_FORMS = [
    ("module-attr", 'import openai\nopenai.api_key = "{k}"\n'),
    ("env", "OPENAI_API_KEY={k}\n"),
    ("compose", "services:\n  api:\n    environment:\n      - OPENAI_API_KEY={k}\n"),
    ("dockerfile", "ENV OPENAI_API_KEY={k}\n"),
    ("ts-object", 'export const config = {{ openaiApiKey: "{k}" }};\n'),
    ("client-kwarg", 'client = OpenAI(api_key="{k}", base_url="https://relay.example.net/v1")\n'),
    ("client-js", 'const c = new OpenAI({{ apiKey: "{k}", baseURL: "https://relay.example.net/v1" }});\n'),
    ("langchain", 'llm = ChatOpenAI(model="gpt-4o", openai_api_key="{k}")\n'),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", RELAY)
@pytest.mark.parametrize(("form", "text"), OPENAI_FORMS, ids=[f for f, _ in OPENAI_FORMS])
def test_openai_compatible_keys(form: str, text: str, shape: str, engine: str) -> None:
    k = expand(shape, random.Random(form + shape))
    got = matcher(engine).scan(text.format(k=k).encode())
    assert [(m.rule_id, m.secret, m.confidence) for m in got] == [
        ("openai.compatible-key", k, Confidence.MEDIUM)
    ], form


@pytest.mark.parametrize("engine", ENGINES)
def test_the_host_outranks_a_provider_word_nearby(engine: str) -> None:
    """Moonshot's own host names a relay-shaped key under OPENAI_API_KEY; the word `moonshot`
    merely nearby (a model name) does not outrank the OpenAI client it is passed to."""
    k = expand("sk-{alnum:48}", random.Random("host"))
    own = f'OPENAI_API_BASE = "https://api.moonshot.cn/v1"\nOPENAI_API_KEY = "{k}"\n'
    assert [m.rule_id for m in matcher(engine).scan(own.encode())] == ["moonshot.api-key"]
    relay = (
        '{"base_url": "https://oneapi.relay.test/v1", "model": "moonshot-v1-8k",\n'
        f' "client": OpenAI(api_key="{k}")}}\n'
    )
    assert [m.rule_id for m in matcher(engine).scan(relay.encode())] == ["openai.compatible-key"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("text", "rule_id", "template"),
    [
        ('import cohere\ncohere.api_key = "{k}"\n', "cohere.api-key", "{alnum:40}"),
        ('import mistralai\nmistralai.api_key = "{k}"\n', "mistral.api-key", "{alnum:32}"),
        ('import anthropic\nanthropic.api_key = "{k}"\n', "anthropic.api-key", "sk-ant-api03-{b64url:93}AA"),
        (
            'import google.generativeai as genai\ngenai.configure(api_key="{k}")\n',
            "google.api-key",
            "AIza{b64url:35}",
        ),
        (
            "from pinecone import Pinecone\nPinecone.init(api_key='{k}')\n",
            "pinecone.api-key",
            "pcsk_{alnum:5}_{alnum:63}",
        ),
        ('import openai\nopenai.api_key = "{k}"\n', "openai.compatible-key", "sk-{alnum:48}"),
    ],
)
def test_keys_set_through_module_attributes_and_configuration_calls(
    text: str, rule_id: str, template: str, engine: str
) -> None:
    k = expand(template, random.Random(rule_id))
    got: list[Match] = matcher(engine).scan(text.format(k=k).encode())
    assert [(m.rule_id, m.secret) for m in got] == [(rule_id, k)]


def test_name_judgement() -> None:
    assert judge_name("OPENAI_API_KEY") == (True, True, False)
    assert judge_name("speechKey") == (True, True, False)
    assert judge_name("openaiapikey") == (True, True, False)
    assert judge_name("auth") == (True, False, False)
    assert judge_name("key") == (False, False, False)
    assert judge_name("DB_PASSWORD") == (True, True, True)
    assert judge_name("PRIVATE") == (True, False, False)
    assert judge_name("publicKey") == (False, False, False)
    assert judge_name("keyword") == (False, False, False)


def test_value_classes() -> None:
    r = random.Random(3)
    assert value_class(expand("{hex:40}", r)) == "hex"
    assert value_class(expand("{alnum:14}{digits:2}{alnum:16}", r)) == "alnum"
    assert value_class(expand("{lower:3}_{b64url:30}{digits:2}{upper:2}", r)) == "symbols"
    assert value_class(expand("{uuid4}", r)) == "uuid"
    assert value_class("Tr0ub4dor&3x", password=True) == "password"
    assert value_class("Tr0ub4dor&3x") is None
    assert value_class(expand("{hex:16}", r)) is None  # too short for hex


@pytest.mark.parametrize("engine", ENGINES)
def test_segments_of_paths_urls_and_arns_are_not_names(engine: str) -> None:
    k = key(seed="arn")
    for text in (
        f'"SecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:{k}"\n',
        f'href: "/#/key_management/generate_key_fn:{k}"\n',
        f"curl https://svc.local/key/info?key={k}\n",
    ):
        assert found(engine, text, k) == [], text


@pytest.mark.parametrize("engine", ENGINES)
def test_documentation_examples_and_recorded_responses_are_low(engine: str) -> None:
    """issue 20 precision: a "for example" value, a doctest, a visibly fake endpoint, a field of a
    one-line recorded API response are reported below the default gate."""
    k = key(seed="doc")
    low = [(GENERIC, Confidence.LOW)]
    assert found(engine, f'"""Example api_key=\'{k}\'"""\n', k) == low
    assert found(engine, f'>>> s = SessionStore(session_key="{k}")\n', k) == low
    assert found(engine, f'curl -H "X-Auth-Token: {k}" http://localhost:8000/jobs\n', k) == low
    fields = ", ".join(f'"field_{i}": {i}' for i in range(16))
    record = f'{{"id": 1, "name": "repo", {fields}, "temp_clone_token": "{k}", "private": true}}\n'
    assert len(record) >= 300
    assert found(engine, record, k) == low
    assert found(engine, f'TEMP_CLONE_TOKEN = "{k}"\n', k) == [(GENERIC, Confidence.MEDIUM)]


@pytest.mark.parametrize("engine", ENGINES)
def test_binary_files_hold_no_slots(engine: str) -> None:
    k = key(seed="bin")
    assert found(engine, f'\0\0\x7fELF\0API_KEY = "{k}"\n', k) == []
    assert found(engine, f'API_KEY = "{k}"\n', k) == [(GENERIC, Confidence.MEDIUM)]


# --- precision (issue 20 item 3) ------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_that_needs_only_a_name_still_needs_a_credential(engine: str) -> None:
    """`PORTKEY_TRACE = "prompt_…"`: a run label under a Portkey name is no Portkey key."""
    label = "prompt_" + expand("{lower:8}_{lower:6}_v2", random.Random("label"))
    assert [m.rule_id for m in matcher(engine).scan(f'PORTKEY_TRACE = "{label}"\n'.encode())] == []
    assert [m.rule_id for m in matcher(engine).scan(f'PORTKEY_API_KEY = "{label}"\n'.encode())] == []
    k = expand("{b64:32}", random.Random("portkey"))
    got = matcher(engine).scan(f'PORTKEY_API_KEY = "{k}"\n'.encode())
    assert [(m.rule_id, m.secret) for m in got] == [("portkey.api-key", k)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_compose_database_default_is_low_and_says_why(engine: str) -> None:
    """A password that repeats the user or database name, with a compose service as host."""
    url = "postgresql://" + ":".join(["shop"] * 2) + "@shop-postgres:5432/shop"  # (built: a clean self-scan)
    text = f"services:\n  api:\n    environment:\n      DATABASE_URL: {url}\n"
    got = matcher(engine).scan(text.encode())
    assert [m.rule_id for m in got] == ["database.connection-url"]
    assert got[0].alone is not None and "local default" in got[0].alone
    pw = expand("{alnum:20}", random.Random("db"))
    real = f"DATABASE_URL=postgresql://shop:{pw}@shop-postgres:5432/shop\n"
    assert [(m.rule_id, m.alone) for m in matcher(engine).scan(real.encode())] == [
        ("database.connection-url", None)
    ]


# --- the service a key is used with (issue 20 items 1 and 2) ---------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_the_service_is_named_by_a_host_in_the_same_call_or_by_the_name(engine: str) -> None:
    k = key(seed="svc")
    call = f'r = requests.post("https://google.serper.dev/search", headers={{"X-API-KEY": "{k}"}})\n'
    named = f'SERPER_API_KEY = "{k}"\n'
    unnamed = f'authValue = "{k}"\n'
    got = [[m.service for m in matcher(engine).scan(t.encode())] for t in (call, named, unnamed)]
    assert got == [["google.serper.dev"], ["serper"], [None]]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("host", "service"),
    [
        ("enabled-{word}-{n}.upstash.io", "upstash"),
        ("{word}-{n}.kv.vercel-storage.com", "vercel"),
        ("{word}{n}.supabase.co", "supabase"),
        ("{word}-{n}.vercel.app", "{word}-{n}.vercel.app"),  # a customer's own app: its host
    ],
)
def test_a_platform_instance_host_names_the_platform(engine: str, host: str, service: str) -> None:
    """A key used with a customer's instance of a platform is that platform's key; a key used with
    a customer's app on a hosting platform is named after the app's host."""
    rng = random.Random(host)
    word, n = "".join(rng.choice("abcdefghij") for _ in range(7)), rng.randrange(10000, 99999)
    k = key(seed="platform")
    url = "https://" + host.format(word=word, n=n)
    text = f'const client = new Client({{ url: "{url}", token: "{k}" }})\n'
    got = [m.service for m in matcher(engine).scan(text.encode())]
    assert got == [service.format(word=word, n=n)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_link_in_a_comment_line_does_not_name_the_service(engine: str) -> None:
    """`.env.example` comments say where to generate or read about a key; the key is not that
    site's. A link on the value's own line, or in code beside it, still names it."""
    k = key(seed="comment-link")
    above = f"# Generate a random secret: https://generate-secret.example-tools.dev/32\nAUTH_SECRET={k}\n"
    below = f"AUTH_SECRET={k}\n\n# Instructions to create kv database here: https://vercel.com/docs/kv\n"
    same = f"SEARCH_API_KEY={k}  # https://google.serper.dev\n"
    code = (
        f'requests.post(\n    "https://google.serper.dev/search",\n    headers={{"X-API-KEY": "{k}"}},\n)\n'
    )
    got = [[m.service for m in matcher(engine).scan(t.encode())] for t in (above, below, same, code)]
    assert got == [[None], [None], ["google.serper.dev"], ["google.serper.dev"]]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("param", ["api_key", "api-key", "apikey", "access_token", "auth_token"])
def test_a_credential_in_a_urls_query_string(engine: str, param: str) -> None:
    """`https://api.some-search.io/v1/search?api_key=…&q=…` (issue 20's `?api-key=` miss): the
    parameter names the value, the URL's host names the service."""
    k = key(seed=param)
    for text in (
        f'const url = "https://api.some-search.io/v1/search?q=cats&{param}={k}&limit=5";\n',
        f"fetch(`https://api.some-search.io/v1/search?{param}={k}`)\n",
    ):
        got = [(m.rule_id, m.secret, m.service) for m in matcher(engine).scan(text.encode())]
        assert got == [("generic.credential", k, "api.some-search.io")], text


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "url",
    [
        "https://jobs.example-market.org/positions?_token={k}&sortBy=ca",  # Laravel's CSRF token
        "https://shop.example-store.com/cart?authenticity_token={k}",  # Rails' CSRF token
        "https://raw.githubusercontent.com/acme/app/main/banner.png?token={k}",  # a raw link's token
        "https://cdn.example-cdn.net/{k}/secret/asset.js",  # a path segment, not a parameter
        "https://maps.example-maps.com/api/js?key={k}",  # a bare `key`
    ],
)
def test_query_parameters_that_hold_no_lasting_credential(engine: str, url: str) -> None:
    k = key(seed=url)
    text = f'<a href="{url.format(k=k)}">open</a>\n'
    assert [m.rule_id for m in matcher(engine).scan(text.encode())] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_a_relay_key_is_named_after_its_base_url(engine: str) -> None:
    """The relay's host names the key and outranks a provider word merely nearby (a model name)."""
    k = expand("sk-{alnum:48}", random.Random("relay"))
    text = (
        f'{{"OPENAI_API_BASE": "https://api.oneapi-relay.net/v1", "model": "moonshot-v1-8k",\n'
        f' "OPENAI_API_KEY": "{k}"}}\n'
    )
    got = matcher(engine).scan(text.encode())
    assert [(m.rule_id, m.service) for m in got] == [("openai.compatible-key", "api.oneapi-relay.net")]
    own = f"OPENAI_BASE_URL=https://api.moonshot.cn/v1\nOPENAI_API_KEY={k}\n"
    assert [(m.rule_id, m.service) for m in matcher(engine).scan(own.encode())] == [
        ("moonshot.api-key", None)
    ]
    plain = f"OPENAI_API_KEY={k}\n"
    assert [(m.rule_id, m.service) for m in matcher(engine).scan(plain.encode())] == [
        ("openai.compatible-key", None)
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_longest_slot_forms_are_found_by_both_engines(engine: str) -> None:
    """The hyperscan prefilter looks SLOT_REACH bytes back from where the exact slot pattern ends
    (after the value's first digit and letter): the longest forms must still be found."""
    r = random.Random("long")
    name = "Secret" + expand("_{lower:9}" * 4, r)  # the longest name rest the pattern takes (40)
    late_digit = expand("{alpha:40}", r) + "7" + expand("{alnum:20}", r)
    late_letter = "_" * 10 + expand("{digits:30}", r) + "x" + expand("{alnum:20}", r)
    for value in (late_digit, late_letter):
        for text in (
            f'{{\\"{name}\\":   \\"Bearer   {value}\\"}}\n',
            f'const {name}: {expand("{lower:30}", r)}   =   "{value}";\n',
            f"env:\n  - name: SERVICE_TOKEN\n{' ' * 12}value:  '{value}'\n",
        ):
            got = [m.secret for m in matcher(engine).scan(text.encode()) if m.rule_id == GENERIC]
            assert got == [value], (text, got)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "prefix", ["pk.", "pk_live_", "pk_test_", "sb_publishable_", "NRJS-", "phc_", "sq0idp-"]
)
def test_a_documented_public_form_is_no_credential_slot(engine: str, prefix: str) -> None:
    """Keys their providers publish for client code (Mapbox `pk.`, publishable keys, browser
    keys) stay silent under any credential name; the same value without the prefix is a slot."""
    value = key("{alnum:14}{digits:2}{alnum:16}", seed=prefix)
    assert found(engine, f"API_TOKEN={prefix}{value}\n", prefix + value) == []
    assert [r for r, _ in found(engine, f"API_TOKEN={value}\n", value)] == [GENERIC]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["NEW_RELIC_BROWSER_KEY", "CONTENTFUL_DELIVERY_TOKEN"])
def test_browser_and_delivery_keys_are_no_credential_slot(engine: str, name: str) -> None:
    """A browser key ships to every visitor and a content-delivery token reads published content."""
    value = key("{hex:64}", seed=name)
    assert found(engine, f"{name}={value}\n", value) == []
    assert [r for r, _ in found(engine, f"CONTENTFUL_MANAGEMENT_TOKEN={value}\n", value)] == [GENERIC]


@pytest.mark.parametrize("engine", ENGINES)
def test_what_git_s_history_holds_under_token_names_is_no_credential(engine: str) -> None:
    """Two false positives of a full sweep of git/git: a sanitizer's stack signature under
    DEDUP_TOKEN (a long chain of function names with one `name@GLIBC_x` piece), and a config key
    whose name ends in a URL scheme (`credential.https://example.com/…`)."""
    frames = "--".join(
        f"fn_{w}_{k}" for k, w in enumerate(["alloc", "grow", "getcwd", "connect", "send"] * 3)
    )
    chain = f"___interceptor_realloc.part.0--{frames}--main--__libc_start_main@GLIBC_2.2.5"
    assert found(engine, f"    DEDUP_TOKEN: {chain}\n", chain) == []
    url = "//example.com/%2566.git.helper"
    assert found(engine, f'\ttest_config credential.https:{url} "$HELPER" &&\n', url) == []
    value = key()  # the same names with a random value stay slots
    assert [r for r, _ in found(engine, f"    DEDUP_TOKEN: {value}\n", value)] == [GENERIC]


def _case_mixed(r: random.Random) -> str:
    """A random value that happens to fit camelCase's shape: lower letters, then capitals each
    followed by consonants and digits (a GA4 `api_secret` in a public history looked so)."""
    consonants = "bcdfghjklmnpqrstvwxz"
    parts = ["".join(r.choice(consonants) for _ in range(2))]
    for i in range(5):
        tail = "".join(r.choice(consonants + "0123456789") for _ in range(3))
        parts.append(r.choice("ABCDEFGHJKLMNPQRSTVWXZ") + (tail[:2] + str(i) if i == 2 else tail))
    return "".join(parts)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_random_value_shaped_like_camel_case_is_no_identifier(engine: str) -> None:
    """camelCase words stay identifiers under a credential name; a random mix of cases that fits
    the shape is a value (reported; 22 characters are too short for medium)."""
    r = random.Random("case-mixed")
    for _ in range(5):
        value = _case_mixed(r)
        text = f"  const measurement_id = `G-{key('{upper:10}', value)}`;\n  const api_secret = `{value}`;\n"
        assert [rule for rule, _ in found(engine, text, value)] == [GENERIC], value  # low: 22 characters
    for word in ("getUserSessionTokenValue2", "primaryDatabasePassword1", "superSecretStagingValue9"):
        assert found(engine, f'api_secret = "{word}"\n', word) == [], word
