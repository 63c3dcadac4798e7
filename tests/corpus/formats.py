"""The key formats of the labelled corpus: key-formats.csv rows, the generators that make a key of
each (with a seeded RNG), and the variable names keys are planted under."""

from __future__ import annotations

import csv
import json
import random
import re
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from breadth import NEEDS_KEYWORD as BREADTH_NEEDS_KEYWORD  # noqa: E402
from breadth import STRUCTURED as BREADTH_STRUCTURED  # noqa: E402
from breadth import VARS as BREADTH_VARS  # noqa: E402
from corpuslib import KEY_FORMATS  # noqa: E402

from scanner.detect.checksums import crc32_b62  # noqa: E402
from scanner.rules.templates import ALPHABETS, expand, pem_block  # noqa: E402

# ---------------------------------------------------------------------------------------------
# key-formats.csv rows


@dataclass(frozen=True, slots=True)
class Format:
    provider: str
    rule_id: str
    prefix: str
    alphabet: str
    length: str
    source: str


def load_formats(path: Path = KEY_FORMATS) -> list[Format]:
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("rule_id") and not r["provider"].startswith("#")]
    return [
        Format(
            *(r.get(k, "") or "" for k in ("provider", "rule_id", "prefix", "alphabet", "length", "source"))
        )
        for r in rows
    ]


_CLASS = re.compile(r"^\[([^\]]+)\]")


def _charset(spec: str) -> str:
    """An alphabet named in the template vocabulary, or a regex character class like [A-Za-z0-9_-]."""
    spec = {"letters": "alpha"}.get(spec.strip(), spec.strip())
    if spec in ALPHABETS:
        return ALPHABETS[spec]
    m = _CLASS.match(spec)
    if not m:
        raise ValueError(f"unknown alphabet {spec!r}")
    body, out, i = m.group(1), [], 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out += [chr(c) for c in range(ord(body[i]), ord(body[i + 2]) + 1)]
            i += 3
        else:
            out.append(body[i].replace("\\", ""))
            i += 1
    return "".join(dict.fromkeys(c for c in out if c))


def _lengths(spec: str) -> tuple[int, int]:
    nums = [int(n) for n in re.findall(r"\d+", spec)]
    if not nums:
        raise ValueError(f"no length in {spec!r}")
    return (nums[0], nums[-1]) if ("-" in spec or "–" in spec) and len(nums) > 1 else (nums[0], nums[0])


def rand_text(r: random.Random, alphabet: str, n: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def _total(fmt: Format, r: random.Random) -> int:
    lo, hi = _lengths(fmt.length)
    return r.randint(lo, hi)


def _plain(fmt: Format, r: random.Random) -> str:
    """prefix + random body: `length` is the total length, prefix included."""
    n = _total(fmt, r) - len(fmt.prefix)
    if n <= 0:
        raise ValueError(f"{fmt.rule_id}: length {fmt.length} not above prefix {len(fmt.prefix)}")
    return fmt.prefix + rand_text(r, _charset(fmt.alphabet), n)


def _marker(mark: str, at: int | None = None) -> Callable[[Format, random.Random], str]:
    """Random body with a fixed structural marker in its middle (OpenAI) or at an index (Groq)."""

    def gen(fmt: Format, r: random.Random) -> str:
        n = _total(fmt, r) - len(fmt.prefix) - len(mark)
        cs = _charset(fmt.alphabet)
        left = (at - len(fmt.prefix)) if at is not None else n // 2
        return fmt.prefix + rand_text(r, cs, left) + mark + rand_text(r, cs, n - left)

    return gen


def _suffix(tail: str) -> Callable[[Format, random.Random], str]:
    def gen(fmt: Format, r: random.Random) -> str:
        return (
            fmt.prefix
            + rand_text(r, _charset(fmt.alphabet), _total(fmt, r) - len(fmt.prefix) - len(tail))
            + tail
        )

    return gen


def _crc_token(fmt: Format, r: random.Random) -> str:
    body = rand_text(r, ALPHABETS["b62"], 30)
    return fmt.prefix + body + crc32_b62(body)


def _template(t: str) -> Callable[[Format, random.Random], str]:
    return lambda fmt, r: expand(t, r)


def _uuid_hex(r: random.Random) -> str:
    return expand("{uuid4}", r).replace("-", "")


def _github_fine(fmt: Format, r: random.Random) -> str:
    """github_pat_ + 22 (starting 11) + _ + 59 = 93; the CSV prefix may already hold the 11."""
    p = fmt.prefix if fmt.prefix.endswith("_11") else fmt.prefix + "11"
    return p + rand_text(r, ALPHABETS["alnum"], 20) + "_" + rand_text(r, ALPHABETS["alnum"], 59)


def _langsmith(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + _uuid_hex(r) + "_" + rand_text(r, ALPHABETS["hex"], 10)


def _uuid_after_prefix(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + expand("{uuid4}", r)


def _fal(fmt: Format, r: random.Random) -> str:
    return expand("{uuid4}", r) + ":" + rand_text(r, ALPHABETS["hex"], 32)


def _helicone(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + "-".join(rand_text(r, ALPHABETS["lowernum"], 7) for _ in range(4))


def _pinecone(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + rand_text(r, ALPHABETS["alnum"], 5) + "_" + rand_text(r, ALPHABETS["alnum"], 63)


def _wandb(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + rand_text(r, ALPHABETS["alnum"], 27) + "_" + rand_text(r, ALPHABETS["alnum"], 49)


def _cloudflare_new(fmt: Format, r: random.Random) -> str:
    body = rand_text(r, ALPHABETS["alnum"], 40)
    return fmt.prefix + body + format(zlib.crc32(body.encode()), "08x")


def _slack(fmt: Format, r: random.Random) -> str:
    d = ALPHABETS["digits"]
    p = fmt.prefix or "xoxb-"
    if p.startswith("xapp"):
        return f"xapp-1-A{rand_text(r, ALPHABETS['upper'], 10)}-{rand_text(r, d, 13)}-{rand_text(r, ALPHABETS['hex'], 64)}"
    if p.startswith("xoxe"):  # refresh / config tokens: prefix + "1-" + alnum up to the row's length
        return p + "1-" + rand_text(r, ALPHABETS["alnum"], _total(fmt, r) - len(p) - 2)
    if p.startswith("xoxb"):
        return f"xoxb-{rand_text(r, d, 11)}-{rand_text(r, d, 13)}-{rand_text(r, ALPHABETS['alnum'], 24)}"
    return f"{p}{rand_text(r, d, 11)}-{rand_text(r, d, 12)}-{rand_text(r, d, 13)}-{rand_text(r, ALPHABETS['hex'], 32)}"


def _db_url(fmt: Format, r: random.Random) -> str:
    scheme = fmt.prefix or "postgres://"
    user = r.choice(["app", "svc_api", "billing", "analytics"])
    pw = rand_text(r, ALPHABETS["alnum"], 24)
    if scheme.startswith("mongodb+srv"):
        return f"{scheme}{user}:{pw}@cluster0.{rand_text(r, ALPHABETS['lowernum'], 5)}.mongodb.net/{r.choice(['app', 'main'])}?retryWrites=true&w=majority"
    if scheme.startswith("redis"):
        return f"{scheme}default:{pw}@{rand_text(r, ALPHABETS['lower'], 6)}-cache.{rand_text(r, ALPHABETS['lowernum'], 6)}.use1.cache.amazonaws.com:6380/0"
    if scheme.startswith("snowflake"):  # account identifier, database (docs.snowflake.com, SQLAlchemy)
        return f"{scheme}{user}:{pw}@{rand_text(r, ALPHABETS['lower'], 2)}{rand_text(r, ALPHABETS['digits'], 5)}.us-east-1/analytics"
    host = f"{rand_text(r, ALPHABETS['lower'], 6)}-prod.{rand_text(r, ALPHABETS['lowernum'], 12)}.eu-west-1.rds.amazonaws.com"
    return f"{scheme}{user}:{pw}@{host}:5432/{r.choice(['app', 'main', 'orders'])}"


def _aws_key_id(fmt: Format, r: random.Random) -> str:
    return (fmt.prefix or "AKIA") + rand_text(r, ALPHABETS["base32"], 16)


def _gcp_sa(fmt: Format, r: random.Random) -> str:
    proj = f"{rand_text(r, ALPHABETS['lower'], 7)}-{rand_text(r, ALPHABETS['digits'], 6)}"
    doc = {
        "type": "service_account",
        "project_id": proj,
        "private_key_id": rand_text(r, ALPHABETS["hex"], 40),
        "private_key": pem_block(r, "PRIVATE KEY") + "\n",
        "client_email": f"vertex-runner@{proj}.iam.gserviceaccount.com",
        "client_id": rand_text(r, ALPHABETS["digits"], 21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/vertex-runner%40{proj}.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    }
    return json.dumps(doc, indent=2)


# Formats whose key is not "prefix + random alphabet": structure by rule id (then by prefix).
STRUCTURED: dict[str, Callable[[Format, random.Random], str]] = {
    "openai.legacy-key": _marker("T3BlbkFJ"),
    "openai.project-key": _marker("T3BlbkFJ"),
    "openai.service-account-key": _marker("T3BlbkFJ"),
    "openai.admin-key": _marker("T3BlbkFJ"),
    "anthropic.api-key": _suffix("AA"),
    "anthropic.admin-key": _suffix("AA"),
    "groq.api-key": _marker("WGdyb3FY", at=24),
    "github.pat": _crc_token,
    "github.oauth-token": _crc_token,
    "github.user-to-server-token": _crc_token,
    "github.server-to-server-token": _crc_token,
    "github.refresh-token": _crc_token,
    "github.fine-grained-pat": _github_fine,
    "npm.access-token": _crc_token,
    "gitlab.routable-token": lambda fmt, r: expand("{gitlab_routable:%s}" % (fmt.prefix or "glpat-"), r),
    "azure.openai-key": _template("{cask:ACOG}"),
    "azure.cask-key": _template("{cask:AZSE}"),
    "aws.bedrock-api-key": _template("{bedrock_long}"),
    "aws.bedrock-short-term-key": _template("{bedrock_short}"),
    "aws.access-key-id": _aws_key_id,
    "private-key.rsa": _template("{pem:RSA PRIVATE KEY}"),
    "private-key.ec": _template("{pem:EC PRIVATE KEY}"),
    "private-key.dsa": _template("{pem:DSA PRIVATE KEY}"),
    "private-key.pkcs8": _template("{pem:PRIVATE KEY}"),
    "private-key.encrypted-pkcs8": _template("{pem:ENCRYPTED PRIVATE KEY}"),
    "private-key.openssh": _template("{openssh}"),
    "supabase.service-role-key": _template("{supabase_service_jwt}"),
    "pypi.upload-token": _template("{pypi}"),
    "gcp.service-account-key": _gcp_sa,
    "langsmith.personal-token": _langsmith,
    "langsmith.service-key": _langsmith,
    "langfuse.secret-key": _uuid_after_prefix,
    "langfuse.public-key": _uuid_after_prefix,
    "fal.api-key": _fal,
    "helicone.api-key": _helicone,
    "pinecone.api-key": _pinecone,
    "wandb.api-key": _wandb,
    "cloudflare.user-token": _cloudflare_new,
    "cloudflare.account-token": _cloudflare_new,
    "cloudflare.global-key": _cloudflare_new,
    "slack.bot-token": _slack,
    "slack.user-token": _slack,
    "slack.app-token": _slack,
    "slack.config-token": _slack,
    "database.connection-url": _db_url,
    "vercel.ai-gateway-key": lambda fmt, r: expand(fmt.prefix + "{b64url:50}{crc32_b62}", r),
    "vercel.access-token": lambda fmt, r: expand(fmt.prefix + "{b64url:50}{crc32_b62}", r),
    "upstage.api-key": _template("up_{alnum:14}{digits:1}{alnum:14}"),
    "mem0.api-key": _template("m0-{alnum:20}{digits:1}{alnum:19}"),
    "tavily.api-key": lambda fmt, r: expand(
        fmt.prefix + ("{alnum:6}-{alnum:42}" if fmt.alphabet == "alnum-" else "{alnum:32}"), r
    ),
    "jina.api-key": _template("jina_{hex:32}{alnum:28}"),
    "zai.api-key": _template("{hex:32}.{alnum:16}"),
    "ollama.api-key": _template("{hex:32}.{b64url:24}"),
    "anythingllm.api-key": _template("{uppernum:7}-{uppernum:7}-{uppernum:7}-{uppernum:7}"),
    "volcengine.ark-api-key": _template("{uuid4}"),
    "ai21.api-key": _template("{uuid4}"),
    "cartesia.api-key": _template("sk_car_{alnum:24}"),
    **BREADTH_STRUCTURED,  # issue 22: tests/corpus/breadth.py
}

# Azure CASK rows: the standard 84-character key, the derived one (JQQJ9D) and the long form
CASK_FORMS = {("84", False): "cask", ("84", True): "cask_derived", ("88", False): "cask_long"}


def generate(fmt: Format, r: random.Random) -> str:
    gen = STRUCTURED.get(fmt.rule_id)
    if fmt.rule_id in ("azure.openai-key", "azure.cask-key"):
        form = CASK_FORMS[(fmt.length, "derived" in fmt.source)]
        sig = "ACOG" if fmt.rule_id == "azure.openai-key" else "AZSE"
        gen = _template(f"{{{form}:{sig}}}")
    if fmt.rule_id == "openai.none-key" and fmt.alphabet == "b64url":
        gen = _marker("T3BlbkFJ")  # the long sk-None- form carries the marker
    return (gen or _plain)(fmt, r)


MULTILINE = {"gcp.service-account-key"} | {k for k in STRUCTURED if k.startswith("private-key.")}

# ---------------------------------------------------------------------------------------------
# variable names (llm-keys.md §4.1) — keyword-gated rules need the provider's name near the key

VARS: dict[str, str] = {
    "openai": "OPENAI_API_KEY",
    "openai.admin-key": "OPENAI_ADMIN_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "anthropic.oauth-access-token": "CLAUDE_CODE_OAUTH_TOKEN",
    "anthropic.oauth-refresh-token": "CLAUDE_CODE_OAUTH_REFRESH_TOKEN",
    "google": "GEMINI_API_KEY",
    "azure": "AZURE_OPENAI_API_KEY",
    "aws.access-key-id": "AWS_ACCESS_KEY_ID",
    "aws.secret-access-key": "AWS_SECRET_ACCESS_KEY",
    "aws.bedrock-api-key": "AWS_BEARER_TOKEN_BEDROCK",
    "aws.bedrock-short-term-key": "AWS_BEARER_TOKEN_BEDROCK",
    "huggingface": "HF_TOKEN",
    "cohere": "CO_API_KEY",
    "replicate": "REPLICATE_API_TOKEN",
    "langsmith": "LANGSMITH_API_KEY",
    "anythingllm": "ANYTHINGLLM_API_KEY",
    "langfuse": "LANGFUSE_SECRET_KEY",
    "cloudflare": "CLOUDFLARE_API_TOKEN",
    "cloudflare.global-key": "CLOUDFLARE_API_KEY",
    "cloudflare.legacy-global-key": "CLOUDFLARE_API_KEY",
    "nvidia": "NVIDIA_NIM_API_KEY",
    "runway": "RUNWAYML_API_SECRET",
    "fal": "FAL_KEY",
    "litellm": "LITELLM_MASTER_KEY",
    "github": "GITHUB_TOKEN",
    "gitlab": "GITLAB_TOKEN",
    "npm": "NPM_TOKEN",
    "pypi": "TWINE_PASSWORD",
    "slack": "SLACK_BOT_TOKEN",
    "slack.app-token": "SLACK_APP_TOKEN",
    "stripe": "STRIPE_SECRET_KEY",
    "clerk": "CLERK_SECRET_KEY",
    "vault": "VAULT_TOKEN",
    "supabase": "SUPABASE_SERVICE_ROLE_KEY",
    "database": "DATABASE_URL",
    "gcp": "GOOGLE_CREDENTIALS",
    **BREADTH_VARS,
    # a credential slot named for a service keysweep has no rule for (iFlytek), so only the
    # credential-slot detector can report it (issue 20)
    "generic": "XFYUN_API_KEY",
}


# Formats that need a keyword nearby (llm-keys.md §1 "Keyword context needed?", §4.1): they are
# always written under their provider's variable name, never a generic `apiKey`.
NEEDS_KEYWORD = {
    "anythingllm.api-key",
    "deepseek.api-key",
    "stability.api-key",
    "elevenlabs.api-key",
    "litellm.master-key",
    "langfuse.secret-key",
    "vault.legacy-token",
    "fal.api-key",
    "portkey.api-key",
    "moonshot.api-key",
    "siliconflow.api-key",
    "dashscope.api-key",
    "modal.token-secret",
    "brave.search-api-key",
    "composio.api-key",
    "cursor.api-key",
    "openai.compatible-key",  # sk- + 48 / 32 hex: OpenAI's name or client says it is one
    "clerk.secret-key",  # Stripe's prefix: only Clerk's name, call, import or host says Clerk
    *BREADTH_NEEDS_KEYWORD,
}


def var_name(fmt: Format) -> str:
    return (
        VARS.get(fmt.rule_id) or VARS.get(fmt.provider) or f"{fmt.provider.upper().replace('-', '_')}_API_KEY"
    )
