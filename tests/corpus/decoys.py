"""The corpus's decoy files: placeholders, ids, hashes and look-alikes that no rule may report."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from breadth import decoys as breadth_decoys  # noqa: E402
from formats import rand_text  # noqa: E402

from scanner.detect.checksums import crc32_b62  # noqa: E402
from scanner.rules.templates import ALPHABETS, expand  # noqa: E402

# ---------------------------------------------------------------------------------------------
# decoys: placeholders and look-alikes that must yield nothing (llm-keys.md §4.3)


# A parser test's fixture that says what it is (a real agent framework's history): never dropped
# (issue 19.10). OpenAI's marker verifies the first offline (its rule's severity); the second is
# reported at low with the reason. Both are planted: a finding is expected.
SAID_FAKE = (
    ("openai.legacy-key", "# correct format, not real"),
    ("anthropic.api-key", "# fake key for the parser test"),
)


def decoy_lines(r: random.Random) -> dict[str, list[str]]:
    x = "x"
    ghp_body = rand_text(r, ALPHABETS["b62"], 30)
    bad = crc32_b62(ghp_body)
    bad_check = bad[:-1] + ("A" if bad[-1] != "A" else "B")
    npm_body = rand_text(r, ALPHABETS["b62"], 30)
    npm_check = crc32_b62(npm_body)
    npm_bad = ("Z" if npm_check[0] != "Z" else "Y") + npm_check[1:]
    anon = ".".join(
        [
            base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("="),
            base64.urlsafe_b64encode(
                json.dumps(
                    {
                        "iss": "supabase",
                        "ref": rand_text(r, ALPHABETS["lower"], 20),
                        "role": "anon",
                        "iat": 1700000000,
                        "exp": 2700000000,
                    },
                    separators=(",", ":"),
                ).encode()
            )
            .decode()
            .rstrip("="),
            rand_text(r, ALPHABETS["b64url"], 43),
        ]
    )
    aws_example_id = "AKIA" + rand_text(r, ALPHABETS["base32"], 9) + "EXAMPLE"
    aws_example_secret = rand_text(r, ALPHABETS["alnum"], 30) + "EXAMPLEKEY"
    firebase_doc = "AIza" + "Sy" + string.ascii_lowercase + "1234567"
    env_example = [
        "# Copy to .env and fill in your own keys",
        "OPENAI_API_KEY=sk-...",
        "OPENAI_API_KEY=sk-proj-...",
        "ANTHROPIC_API_KEY=sk-ant-api03-...",
        f"GROQ_API_KEY=gsk_{x * 3}",
        f"HF_TOKEN=hf_{x * 34}",
        f"PERPLEXITY_API_KEY=pplx-{x * 48}",
        "TOGETHER_API_KEY=tgp_v1_...",
        "FIREWORKS_API_KEY=fw_...",
        "RUNWAYML_API_SECRET=key_...",
        "XAI_API_KEY=xai-...",
        f"CO_API_KEY={x * 40}",
        f"PINECONE_API_KEY=pcsk_abc12_{x * 63}",
        "MISTRAL_API_KEY=your-api-key-here",
        "DEEPSEEK_API_KEY=<KEY>",
        "GEMINI_API_KEY=<your-gemini-key>",
        "STRIPE_SECRET_KEY=sk_live_" + "0" * 24,
        f"GITHUB_TOKEN=ghp_{'x' * 36}",
        "DATABASE_URL=postgres://postgres:postgres@localhost:5432/app",
        "DATABASE_URL=postgresql://user:password@db.example.com:5432/mydb",
        "REDIS_URL=redis://:changeme@127.0.0.1:6379/0",
        f"AWS_ACCESS_KEY_ID={aws_example_id}",
        f"AWS_SECRET_ACCESS_KEY={aws_example_secret}",
        f"SUPABASE_ANON_KEY={anon}",
        f"NEXT_PUBLIC_SUPABASE_ANON_KEY={anon}",
        "WANDB_API_KEY=" + "0123456789abcdef" * 2 + "01234567",
        "ELEVENLABS_API_KEY=sk_" + "a" * 48,
        "",
    ]
    workflow = [
        "name: deploy",
        "on: [push]",
        "jobs:",
        "  deploy:",
        "    runs-on: ubuntu-latest",
        "    env:",
        "      OPENAI_API_KEY: ${{ secrets.OPENAI_API_KEY }}",
        "      ANTHROPIC_API_KEY: ${{ secrets.ANTHROPIC_API_KEY }}",
        "      MISTRAL_API_KEY: ${{ secrets.MISTRAL_API_KEY }}",
        "      AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}",
        "      NPM_TOKEN: ${{ secrets.NPM_TOKEN }}",
        "    steps:",
        f"      - uses: actions/checkout@{rand_text(r, ALPHABETS['hex'], 40)}",
        f"      - uses: actions/setup-node@{rand_text(r, ALPHABETS['hex'], 40)}",
        "      - run: npm ci && npm run build",
        "",
    ]
    code = [
        "import os",
        "from openai import OpenAI",
        "",
        'client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])',
        'mistral_api_key = os.getenv("MISTRAL_API_KEY", "")',
        "COHERE_API_KEY = os.environ.get('CO_API_KEY')",
        f'REQUEST_ID = "{expand("{uuid4}", r)}"',
        f'TRACE_ID = "{expand("{uuid4}", r)}"',
        f'DEEPGRAM_PROJECT = "{expand("{uuid4}", r)}"',
        f'COMMIT = "{rand_text(r, ALPHABETS["hex"], 40)}"',
        f"# fixed in {rand_text(r, ALPHABETS['hex'], 40)} (see CHANGELOG)",
        f'API_KEY_SHA256 = "{rand_text(r, ALPHABETS["hex"], 64)}"',
        f'FIREBASE_DEMO_KEY = "{firebase_doc}"',
        f'BAD_CHECKSUM_TOKEN = "ghp_{ghp_body}{bad_check}"',
        f'NPM_TOKEN_FIXTURE = "npm_{npm_body}{npm_bad}"',
        'OPENAI_ADMIN_KEY = "sk-admin-..."',
        'ANTHROPIC_KEY_PLACEHOLDER = "sk-ant-api03-' + "x" * 93 + 'AA"',
        'OPENAI_PLACEHOLDER = "sk-proj-' + "x" * 74 + "T3BlbkFJ" + "x" * 74 + '"',
        'SEQUENTIAL = "sk-' + "abcdefghijklmnopqrst" + "T3BlbkFJ" + "abcdefghijklmnopqrst" + '"',
        # (a value its own comment calls fake is reported all the same: planted, see SAID_FAKE)
        # another service's id of a shape an Azure rule knows, under its own name near an Azure host
        # (its key, XFYUN_API_KEY, is a credential: the planted generic.credential rows hold it)
        'AZURE_ENDPOINT = "https://my-resource.openai.azure.com/"',
        f'XFYUN_APP_ID = "{rand_text(r, ALPHABETS["hex"], 32)}"',
        "CLERK_SECRET_KEY = 'sk_test_your_secret_key_here'",
        "",
        "def headers(key: str = 'YOUR_API_KEY') -> dict[str, str]:",
        '    return {"Authorization": f"Bearer {key}", "x-api-key": process_env("ANTHROPIC_API_KEY")}',
        "",
    ]
    js = [
        "const openai = new OpenAI({ apiKey: process.env.OPENAI_API_KEY });",
        "const anthropic = new Anthropic({ apiKey: process.env['ANTHROPIC_API_KEY'] ?? '' });",
        "const key = import.meta.env.VITE_GROQ_API_KEY || 'gsk_...';",
        f"const requestId = '{expand('{uuid4}', r)}';",
        f"const buildHash = '{rand_text(r, ALPHABETS['hex'], 40)}';",
        "",
    ]
    lock_pkgs = [
        "lodash",
        "axios",
        "react",
        "react-dom",
        "scheduler",
        "follow-redirects",
        "form-data",
        "proxy-from-env",
    ]
    lock = {
        "name": "app",
        "version": "1.0.0",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            f"node_modules/{p}": {
                "version": f"{r.randint(1, 19)}.{r.randint(0, 30)}.{r.randint(0, 9)}",
                "resolved": f"https://registry.npmjs.org/{p}/-/{p}-1.0.0.tgz",
                "integrity": "sha512-" + base64.b64encode(r.randbytes(64)).decode(),
                "license": "MIT",
            }
            for p in lock_pkgs
        },
    }
    poetry = []
    for p in ("requests", "urllib3", "idna", "certifi"):
        poetry += [
            "[[package]]",
            f'name = "{p}"',
            f'version = "{r.randint(1, 3)}.{r.randint(0, 30)}.{r.randint(0, 9)}"',
            "files = [",
            f'    {{file = "{p}-1.0.0-py3-none-any.whl", hash = "sha256:{rand_text(r, ALPHABETS["hex"], 64)}"}},',
            f'    {{file = "{p}-1.0.0.tar.gz", hash = "sha256:{rand_text(r, ALPHABETS["hex"], 64)}"}},',
            "]",
            "",
        ]
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "Google service account key",
        "type": "object",
        "properties": {
            k: {"type": "string"}
            for k in (
                "type",
                "project_id",
                "private_key_id",
                "private_key",
                "client_email",
                "client_id",
                "auth_uri",
                "token_uri",
                "auth_provider_x509_cert_url",
            )
        },
        "example": {
            "type": "service_account",
            "private_key": "-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n",
        },
    }
    return {
        ".env.example": env_example,
        ".github/workflows/deploy.yml": workflow,
        "examples/quickstart_decoys.py": code,
        "examples/client-decoys.js": js,
        "package-lock.json": [*json.dumps(lock, indent=2).splitlines(), ""],
        "poetry.lock": poetry,
        "docs/service-account.schema.json": [*json.dumps(schema, indent=2).splitlines(), ""],
        "examples/sdk_ids_decoys.py": _sdk_id_decoys(r),
        "config/credential_slot_decoys.py": _slot_decoys(r),
        ".secrets.baseline": _secrets_baseline(r),
        "examples/sdk-ids-decoys.ts": _sdk_id_decoys_ts(r),
        "supabase/.env.local": [
            "# written by `supabase start` (local development stack, public demo keys)",
            "SUPABASE_URL=http://127.0.0.1:54321",
            f"SUPABASE_ANON_KEY={_supabase_demo_jwt('anon')}",
            f"SUPABASE_SERVICE_ROLE_KEY={_supabase_demo_jwt('service_role')}",
            "",
        ],
        **breadth_decoys(r),
    }


def _slot_decoys(r: random.Random) -> list[str]:
    """Credential-sounding names whose values are no credential: what costs a generic rule most
    of its false positives (ids, hashes, UUIDs under id-like names, references, public keys,
    identifiers, counts, URLs, ARNs, documentation values)."""
    hexs = rand_text(r, ALPHABETS["hex"], 40)
    uuid = expand("{uuid4}", r)
    b64 = base64.b64encode(r.randbytes(32)).decode()
    return [
        "import os",
        "",
        f'API_KEY_ID = "{uuid}"',
        f'access_key_id = "{uuid}"',
        f'cache_key = "{hexs}"',
        f'cached_token_key = "{hexs}"',
        f'password_hash = "{rand_text(r, ALPHABETS["hex"], 64)}"',
        f'hashed_secret = "{hexs}"',
        'token_url = "https://auth.example.com/oauth/token"',
        'SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/search-AbCd12"',
        'VAULT_SECRET_PATH = "secret/data/search/prod"',
        'API_KEY = os.getenv("SEARCH_API_KEY")',
        'TOKEN = os.environ["SEARCH_TOKEN"]',
        'auth_token = "${SEARCH_TOKEN}"',
        'api_key = "{{ secrets.SEARCH_API_KEY }}"',
        "max_tokens = 4096",
        "input_cost_per_token = 2.5e-06",
        f'PUBLIC_KEY = "{b64}"',
        f'github_secret = {{"key_id": "{rand_text(r, ALPHABETS["digits"], 18)}", "key": "{b64}"}}',
        'SECRET_KEY_NAME = "search_api_key_v2"',
        'auth_backend = "workload_identity_auth_v2"',
        'migrations = [("auth", "0012_alter_user_first_name_max_length")]',
        'token_type = "Bearer"',
        "curl_cmd = 'curl -H \"Authorization: Bearer $SEARCH_TOKEN\" https://api.search.example'",
        "",
    ]


def _secrets_baseline(r: random.Random) -> list[str]:
    """detect-secrets' baseline: hashes of the secrets it saw, never the secrets."""
    results = {
        "config/settings.py": [
            {"type": "Secret Keyword", "filename": "config/settings.py",
             "hashed_secret": rand_text(r, ALPHABETS["hex"], 40), "is_verified": False, "line_number": 12},
        ]
    }  # fmt: skip
    return [*json.dumps({"version": "1.5.0", "results": results}, indent=2).splitlines(), ""]


# The Supabase CLI signs the local stack's demo JWTs with this published development secret;
# the JWTs are rebuilt here (keysweep knows them only by digest and must stay silent on them).
SUPABASE_DEV_SECRET = b"super-secret-jwt-token-with-at-least-32-characters-long"


def _supabase_demo_jwt(role: str) -> str:
    def enc(obj: object) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    head = (
        enc({"alg": "HS256", "typ": "JWT"})
        + "."
        + enc({"iss": "supabase-demo", "role": role, "exp": 1983812996})
    )
    sig = hmac.new(SUPABASE_DEV_SECRET, head.encode(), hashlib.sha256).digest()
    return head + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


def _sdk_id_decoys(r: random.Random) -> list[str]:
    """Same-shaped IDs next to the SDK clients of prefix-less providers: not credentials."""
    return [
        "import hashlib",
        "import os",
        "",
        "import ai21",
        "import cohere",
        "from mistralai import Mistral",
        "from serpapi import GoogleSearch",
        "from volcenginesdkarkruntime import Ark",
        "",
        'client = Mistral(api_key=os.environ["MISTRAL_API_KEY"])',
        f'run = client.agents.get(agent_id="{rand_text(r, ALPHABETS["alnum"], 32)}", request_id="{rand_text(r, ALPHABETS["alnum"], 32)}")',
        "co = cohere.ClientV2(timeout=30)",
        f'resp = co.chat(model="command-r", trace_id="{rand_text(r, ALPHABETS["alnum"], 40)}")',
        'ark = Ark(base_url="https://ark.cn-beijing.volces.com/api/v3")',
        f'task = ark.tasks.get(task_id="{expand("{uuid4}", r)}")',
        f'search = GoogleSearch({{"q": "coffee", "checksum": "{rand_text(r, ALPHABETS["hex"], 64)}"}})',
        'ai21_client = ai21.AI21Client(api_key=os.getenv("AI21_API_KEY"))',
        f'doc = ai21_client.library.files.get(file_id="{expand("{uuid4}", r)}")',
        f'etag = "{rand_text(r, ALPHABETS["hex"], 32)}"',
        f'digest = hashlib.md5(b"{rand_text(r, ALPHABETS["lower"], 12)}").hexdigest() == "{rand_text(r, ALPHABETS["hex"], 32)}"',
        "",
    ]


def _sdk_id_decoys_ts(r: random.Random) -> list[str]:
    return [
        'import { Mistral } from "@mistralai/mistralai";',
        'import { CohereClient } from "cohere-ai";',
        "",
        'const m = new Mistral({ apiKey: process.env.MISTRAL_API_KEY ?? "" });',
        f'const run = await m.agents.get({{ agentId: "{rand_text(r, ALPHABETS["alnum"], 32)}", requestId: "{rand_text(r, ALPHABETS["alnum"], 32)}" }});',
        "const co = new CohereClient({ token: process.env.CO_API_KEY });",
        f'const span = co.trace({{ traceId: "{rand_text(r, ALPHABETS["alnum"], 40)}" }});',
        "",
    ]
