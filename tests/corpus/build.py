#!/usr/bin/env python3
"""Build the labelled corpus: real package files + planted keys + decoys, and its labels.

    python tests/corpus/build.py OUT [--seed N] [--per-row K] [--packages NAME ...] [--cache DIR]

OUT/tree/      the corpus to scan: the unpacked packages of the cache (hard-linked where unchanged),
               with fake keys planted in realistic contexts and dedicated decoy files
OUT/labels.json  planted keys (file, line span, expected rule id, sha256 of the secret — never the
               secret), decoy files, the seed and the key-formats rows used

Keys are generated at run time from tests/data/key-formats.csv (prefix, alphabet, length), not from
the rule templates; formats with a checksum or an inner structure (GitHub/npm CRC, GitLab routable,
Azure CASK, Bedrock, PEM, JWT, PyPI macaroon…) use the generators of scanner/rules/templates.py and
the checksum helpers of scanner/detect/checksums.py. Nothing printed holds a secret.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import hmac
import json
import os
import random
import re
import shutil
import string
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from breadth import NEEDS_KEYWORD as BREADTH_NEEDS_KEYWORD  # noqa: E402
from breadth import STRUCTURED as BREADTH_STRUCTURED  # noqa: E402
from breadth import VARS as BREADTH_VARS  # noqa: E402
from breadth import decoys as breadth_decoys  # noqa: E402
from corpuslib import (  # noqa: E402
    KEY_FORMATS,
    TRIAGE,
    Package,
    cache_dir,
    load_packages,
    sha256_text,
    unpacked,
)

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


def _rand(r: random.Random, alphabet: str, n: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def _total(fmt: Format, r: random.Random) -> int:
    lo, hi = _lengths(fmt.length)
    return r.randint(lo, hi)


def _plain(fmt: Format, r: random.Random) -> str:
    """prefix + random body: `length` is the total length, prefix included."""
    n = _total(fmt, r) - len(fmt.prefix)
    if n <= 0:
        raise ValueError(f"{fmt.rule_id}: length {fmt.length} not above prefix {len(fmt.prefix)}")
    return fmt.prefix + _rand(r, _charset(fmt.alphabet), n)


def _marker(mark: str, at: int | None = None) -> Callable[[Format, random.Random], str]:
    """Random body with a fixed structural marker in its middle (OpenAI) or at an index (Groq)."""

    def gen(fmt: Format, r: random.Random) -> str:
        n = _total(fmt, r) - len(fmt.prefix) - len(mark)
        cs = _charset(fmt.alphabet)
        left = (at - len(fmt.prefix)) if at is not None else n // 2
        return fmt.prefix + _rand(r, cs, left) + mark + _rand(r, cs, n - left)

    return gen


def _suffix(tail: str) -> Callable[[Format, random.Random], str]:
    def gen(fmt: Format, r: random.Random) -> str:
        return (
            fmt.prefix + _rand(r, _charset(fmt.alphabet), _total(fmt, r) - len(fmt.prefix) - len(tail)) + tail
        )

    return gen


def _crc_token(fmt: Format, r: random.Random) -> str:
    body = _rand(r, ALPHABETS["b62"], 30)
    return fmt.prefix + body + crc32_b62(body)


def _template(t: str) -> Callable[[Format, random.Random], str]:
    return lambda fmt, r: expand(t, r)


def _uuid_hex(r: random.Random) -> str:
    return expand("{uuid4}", r).replace("-", "")


def _github_fine(fmt: Format, r: random.Random) -> str:
    """github_pat_ + 22 (starting 11) + _ + 59 = 93; the CSV prefix may already hold the 11."""
    p = fmt.prefix if fmt.prefix.endswith("_11") else fmt.prefix + "11"
    return p + _rand(r, ALPHABETS["alnum"], 20) + "_" + _rand(r, ALPHABETS["alnum"], 59)


def _langsmith(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + _uuid_hex(r) + "_" + _rand(r, ALPHABETS["hex"], 10)


def _uuid_after_prefix(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + expand("{uuid4}", r)


def _fal(fmt: Format, r: random.Random) -> str:
    return expand("{uuid4}", r) + ":" + _rand(r, ALPHABETS["hex"], 32)


def _helicone(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + "-".join(_rand(r, ALPHABETS["lowernum"], 7) for _ in range(4))


def _pinecone(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + _rand(r, ALPHABETS["alnum"], 5) + "_" + _rand(r, ALPHABETS["alnum"], 63)


def _wandb(fmt: Format, r: random.Random) -> str:
    return fmt.prefix + _rand(r, ALPHABETS["alnum"], 27) + "_" + _rand(r, ALPHABETS["alnum"], 49)


def _cloudflare_new(fmt: Format, r: random.Random) -> str:
    body = _rand(r, ALPHABETS["alnum"], 40)
    return fmt.prefix + body + format(zlib.crc32(body.encode()), "08x")


def _slack(fmt: Format, r: random.Random) -> str:
    d = ALPHABETS["digits"]
    p = fmt.prefix or "xoxb-"
    if p.startswith("xapp"):
        return (
            f"xapp-1-A{_rand(r, ALPHABETS['upper'], 10)}-{_rand(r, d, 13)}-{_rand(r, ALPHABETS['hex'], 64)}"
        )
    if p.startswith("xoxe"):  # refresh / config tokens: prefix + "1-" + alnum up to the row's length
        return p + "1-" + _rand(r, ALPHABETS["alnum"], _total(fmt, r) - len(p) - 2)
    if p.startswith("xoxb"):
        return f"xoxb-{_rand(r, d, 11)}-{_rand(r, d, 13)}-{_rand(r, ALPHABETS['alnum'], 24)}"
    return f"{p}{_rand(r, d, 11)}-{_rand(r, d, 12)}-{_rand(r, d, 13)}-{_rand(r, ALPHABETS['hex'], 32)}"


def _db_url(fmt: Format, r: random.Random) -> str:
    scheme = fmt.prefix or "postgres://"
    user = r.choice(["app", "svc_api", "billing", "analytics"])
    pw = _rand(r, ALPHABETS["alnum"], 24)
    if scheme.startswith("mongodb+srv"):
        return f"{scheme}{user}:{pw}@cluster0.{_rand(r, ALPHABETS['lowernum'], 5)}.mongodb.net/{r.choice(['app', 'main'])}?retryWrites=true&w=majority"
    if scheme.startswith("redis"):
        return f"{scheme}default:{pw}@{_rand(r, ALPHABETS['lower'], 6)}-cache.{_rand(r, ALPHABETS['lowernum'], 6)}.use1.cache.amazonaws.com:6380/0"
    if scheme.startswith("snowflake"):  # account identifier, database (docs.snowflake.com, SQLAlchemy)
        return f"{scheme}{user}:{pw}@{_rand(r, ALPHABETS['lower'], 2)}{_rand(r, ALPHABETS['digits'], 5)}.us-east-1/analytics"
    host = f"{_rand(r, ALPHABETS['lower'], 6)}-prod.{_rand(r, ALPHABETS['lowernum'], 12)}.eu-west-1.rds.amazonaws.com"
    return f"{scheme}{user}:{pw}@{host}:5432/{r.choice(['app', 'main', 'orders'])}"


def _aws_key_id(fmt: Format, r: random.Random) -> str:
    return (fmt.prefix or "AKIA") + _rand(r, ALPHABETS["base32"], 16)


def _gcp_sa(fmt: Format, r: random.Random) -> str:
    proj = f"{_rand(r, ALPHABETS['lower'], 7)}-{_rand(r, ALPHABETS['digits'], 6)}"
    doc = {
        "type": "service_account",
        "project_id": proj,
        "private_key_id": _rand(r, ALPHABETS["hex"], 40),
        "private_key": pem_block(r, "PRIVATE KEY") + "\n",
        "client_email": f"vertex-runner@{proj}.iam.gserviceaccount.com",
        "client_id": _rand(r, ALPHABETS["digits"], 21),
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


# ---------------------------------------------------------------------------------------------
# the tree


@dataclass(slots=True)
class Plant:
    fmt: Format
    secret: str
    context: str
    multiline: bool = False
    file: str = ""
    line: int = 0
    end_line: int = 0


@dataclass(slots=True)
class Tree:
    root: Path
    pkgs: dict[str, Path] = field(default_factory=dict)  # slug -> package root inside the tree
    written: set[str] = field(default_factory=set)

    def rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()


def _link_tree(src: Path, dst: Path) -> None:
    """Mirror src into dst with hard links (copies across filesystems); symlinks are dropped."""
    for d, _dirs, files in os.walk(src):
        out = dst / Path(d).relative_to(src)
        out.mkdir(parents=True, exist_ok=True)
        for name in files:
            s = Path(d) / name
            if s.is_symlink() or name == ".fetched":
                continue
            try:
                os.link(s, out / name)
            except OSError:
                shutil.copy2(s, out / name)


def _rewrite(path: Path, lines: list[str]) -> None:
    """Write a modified copy (never through the hard link to the cache)."""
    tmp = path.with_name(path.name + ".ks-tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, path)


def _read_lines(path: Path) -> list[str] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    if "\r" in text:
        return None
    return text.splitlines(keepends=True)


def _pkg_root(base: Path) -> Path:
    """The package's own dir: sdists/npm tarballs hold one top-level dir."""
    kids = [p for p in base.iterdir() if p.is_dir()]
    files = [p for p in base.iterdir() if p.is_file()]
    return kids[0] if len(kids) == 1 and not files else base


def _candidates(tree: Tree, slug: str, pred: Callable[[Path], bool], skip: set[str]) -> list[Path]:
    out = []
    for d, dirs, files in os.walk(tree.pkgs[slug]):
        dirs.sort()
        for name in sorted(files):
            p = Path(d) / name
            rel = tree.rel(p)
            if rel in skip or rel in tree.written or not pred(p):
                continue
            try:
                if not (200 <= p.stat().st_size <= 2_000_000):
                    continue
            except OSError:
                continue
            out.append(p)
    return out


def _is_test(p: Path) -> bool:
    return any(part in ("tests", "test", "__tests__", "testing") for part in p.parts) or p.name.startswith(
        "test_"
    )


def _pyfile(p: Path) -> bool:
    return p.suffix == ".py" and not _is_test(p)


def _pytest(p: Path) -> bool:
    return p.suffix == ".py" and _is_test(p)


def _jsfile(p: Path) -> bool:
    return p.suffix in (".js", ".mjs", ".cjs")


def _mdfile(p: Path) -> bool:
    return p.suffix in (".md", ".rst")


# contexts: how a key is written; (secret, var) -> text lines relative to insertion point
def _quote_py(s: str) -> str:
    return json.dumps(s)


class Planter:
    """Places plants in the tree and records their line spans."""

    def __init__(self, tree: Tree, r: random.Random, skip: set[str]) -> None:
        self.tree, self.r, self.skip = tree, r, skip
        self.new_files: dict[str, list[tuple[list[str], Plant | None]]] = {}

    # new files: accumulate blocks, written at the end
    def add_block(self, rel: str, block: list[str], plant: Plant | None) -> None:
        self.new_files.setdefault(rel, []).append((block, plant))

    def flush(self) -> None:
        for rel, blocks in self.new_files.items():
            path = self.tree.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            lines: list[str] = []
            for block, plant in blocks:
                if plant is not None:
                    first = _first_line_of(block, plant.secret)
                    plant.file, plant.line = rel, len(lines) + first
                    plant.end_line = plant.line + _span(plant) - 1
                lines += [b if b.endswith("\n") else b + "\n" for b in block]
            if path.exists():
                path.unlink()
            path.write_text("".join(lines), encoding="utf-8")
            self.tree.written.add(rel)

    # existing files: insert now
    def insert(self, path: Path, block: list[str], plant: Plant, where: Callable[[list[str]], int]) -> bool:
        lines = _read_lines(path)
        if not lines:
            return False
        at = where(lines)
        if at < 0:
            return False
        block = [b if b.endswith("\n") else b + "\n" for b in block]
        if at > 0 and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        lines[at:at] = block
        _rewrite(path, lines)
        rel = self.tree.rel(path)
        self.tree.written.add(rel)
        plant.file = rel
        plant.line = at + _first_line_of(block, plant.secret)
        plant.end_line = plant.line + _span(plant) - 1
        return True

    def splice(self, path: Path, snippet: str, plant: Plant) -> bool:
        """Put `snippet` inside the longest line of a (minified) JS file, at a statement boundary."""
        lines = _read_lines(path)
        if not lines:
            return False
        i = max(range(len(lines)), key=lambda k: len(lines[k]))
        line = lines[i]
        cuts = [m.end() for m in re.finditer(r"[;,]", line)] or [len(line.rstrip("\n"))]
        cut = self.r.choice(cuts[:2000])
        lines[i] = line[:cut] + snippet + line[cut:]
        _rewrite(path, lines)
        rel = self.tree.rel(path)
        self.tree.written.add(rel)
        plant.file, plant.line, plant.end_line = rel, i + 1, i + 1
        return True


def _first_line_of(block: list[str], secret: str) -> int:
    head = secret.splitlines()[0] if secret else secret
    probe = head[:40]
    for n, b in enumerate(block, 1):
        if probe in b or json.dumps(head)[1:41] in b:
            return n
    raise AssertionError("planted secret not in its block")


def _span(plant: Plant) -> int:
    return len(plant.secret.splitlines()) if plant.multiline else 1


def _toplevel_slot(lines: list[str], r: random.Random) -> int:
    """A line index before a top-level def/class/assignment (valid Python stays valid)."""
    slots = [
        i
        for i, ln in enumerate(lines)
        if i > 0
        and re.match(r"(def |class |[A-Z_]+ = |import |from )", ln)
        and not lines[i - 1].rstrip().endswith(("\\", ",", "("))
    ]
    return r.choice(slots) if slots else len(lines)


def _md_slot(lines: list[str], r: random.Random) -> int:
    slots = [
        i
        for i, ln in enumerate(lines)
        if i > 0 and ln.strip() == "" and not lines[i - 1].startswith(("```", "    "))
    ]
    return r.choice(slots) + 1 if slots else len(lines)


CONTEXTS_SINGLE = ["dotenv", "python", "json", "yaml", "minjs", "pytest", "markdown", "ts-test"]
# a prefix-less key handed to its provider's client (the rule's context model: docs/rules-notes.md)
CONTEXTS_SDK = ["sdk-python", "sdk-js", *CONTEXTS_SINGLE]


def _client_names() -> dict[str, tuple[str, str]]:
    """rule id -> (client call, Python import line) for rules with a context model."""
    from scanner.rules import load_rules

    out = {}
    for rule in load_rules():
        if not rule.slot_pattern or not (rule.callees or rule.clients):
            continue
        call = rule.callees[0].capitalize() if rule.callees else rule.clients[0]
        mods = [m for m in rule.imports if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", m)]
        imp = f"import {mods[0]}" if mods else ""
        out[rule.id] = (call, imp)
    return out


SDK_CLIENTS = _client_names()


def _plant_sdk(pl: Planter, slug: str, plant: Plant, ctx: str) -> bool:
    """`Client(api_key="…")` in a real Python module, or `new Client({apiKey: "…"})` in real JS."""
    r, tree = pl.r, pl.tree
    call, imp = SDK_CLIENTS[plant.fmt.rule_id]
    if ctx == "sdk-python":
        cands = _candidates(tree, slug, _pyfile, pl.skip)
        if not cands:
            return False
        lines = [
            *([imp] if imp else []),
            f"_client = {call}(api_key={_quote_py(plant.secret)}, timeout=30)",
            "",
        ]
        return pl.insert(r.choice(cands), lines, plant, lambda ls: _toplevel_slot(ls, r))
    cands = _candidates(tree, slug, _jsfile, pl.skip)
    if not cands:
        return False
    block = [f'const client = new {call}({{ apiKey: "{plant.secret}", maxRetries: 2 }});']
    return pl.insert(r.choice(cands), block, plant, lambda ls: 0 if not ls[0].startswith("#!") else 1)


CONTEXTS_MULTI = ["pemfile", "json-escaped", "yaml-block"]


def plant_one(pl: Planter, slug: str, plant: Plant, pkgname: str) -> bool:
    r, tree = pl.r, pl.tree
    s, var, ctx = plant.secret, var_name(plant.fmt), plant.context
    base = tree.rel(tree.pkgs[slug])
    generic_ok = bool(plant.fmt.prefix) and plant.fmt.rule_id not in NEEDS_KEYWORD
    camel = "apiKey" if generic_ok else var
    if plant.fmt.rule_id == "gcp.service-account-key":
        if ctx == "pemfile":
            plant.multiline = True
            pl.add_block(f"{base}/config/{pkgname}-prod-sa.json", s.splitlines(), plant)
        else:
            pl.add_block(f"{base}/deploy/.env.gcp", [f"{var}='{json.dumps(json.loads(s))}'"], plant)
        return True
    if plant.fmt.rule_id in MULTILINE:
        if ctx in ("pemfile", "yaml-block"):
            plant.multiline = True
        if ctx == "pemfile":
            name = (
                "id_ed25519"
                if "OPENSSH" in s[:40]
                else r.choice(["server.key", "signing-key.pem", "tls.key"])
            )
            pl.add_block(f"{base}/deploy/secrets/{r.randrange(10**6)}-{name}", s.splitlines(), plant)
        elif ctx == "json-escaped":
            body = json.dumps(
                {"service": pkgname, "tls": {"cert_file": "/etc/ssl/cert.pem", "private_key": s + "\n"}},
                indent=2,
            )
            pl.add_block(f"{base}/config/tls-{r.randrange(10**6)}.json", body.splitlines(), plant)
        else:
            lines = [
                "apiVersion: v1",
                "kind: ConfigMap",
                "metadata:",
                f"  name: {pkgname}-tls",
                "data:",
                "  tls.key: |",
            ]
            lines += ["    " + ln for ln in s.splitlines()]
            pl.add_block(f"{base}/deploy/k8s/tls-{r.randrange(10**6)}.yaml", lines, plant)
        return True
    if ctx == "dotenv":
        name = r.choice([".env", ".env.local", ".env.production", "deploy/.env"])
        q = r.choice(["", '"', "'"])
        extra = [f"# {pkgname} settings", "DEBUG=false", f"PORT={r.randint(3000, 9000)}"]
        if plant.fmt.provider == "azure":
            extra.append(f"AZURE_OPENAI_ENDPOINT=https://{_rand(r, ALPHABETS['lower'], 8)}.openai.azure.com/")
        pl.add_block(f"{base}/{name}", [*extra, f"{var}={q}{s}{q}", ""], plant)
        return True
    if ctx == "json":
        doc = {
            "name": pkgname,
            "environment": r.choice(["production", "staging"]),
            "env": {var: s, "LOG_LEVEL": "info"},
            "timeout": 30,
        }
        if plant.fmt.provider == "azure":
            doc["endpoint"] = f"https://{_rand(r, ALPHABETS['lower'], 8)}.openai.azure.com/"
        pl.add_block(
            f"{base}/config/settings.{r.randrange(10**6)}.json", json.dumps(doc, indent=2).splitlines(), plant
        )
        return True
    if ctx == "yaml":
        q = r.choice(["", '"'])
        lines = [
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            f"  name: {pkgname}-worker",
            "spec:",
            "  template:",
            "    spec:",
            "      containers:",
            "        - name: app",
            "          env:",
            f"            - name: {var}",
            f"              value: {q}{s}{q}",
        ]
        pl.add_block(f"{base}/deploy/values-{r.randrange(10**6)}.yaml", lines, plant)
        return True
    if ctx in ("python", "pytest"):
        cands = _candidates(tree, slug, _pyfile if ctx == "python" else _pytest, pl.skip)
        if not cands:
            return False
        path = r.choice(cands)
        if generic_ok and r.random() < 0.5:
            stmt = f"_client_kwargs = {{{_quote_py('api_key')}: {_quote_py(s)}}}  # {plant.fmt.provider}"
        else:
            stmt = f"{var} = {_quote_py(s)}"
        if plant.fmt.provider == "azure":
            stmt = (
                f'AZURE_OPENAI_ENDPOINT = "https://{_rand(r, ALPHABETS["lower"], 8)}.openai.azure.com/"\n'
                + stmt
            )
        return pl.insert(path, [*stmt.split("\n"), ""], plant, lambda ls: _toplevel_slot(ls, r))
    if ctx == "markdown":
        cands = _candidates(tree, slug, _mdfile, pl.skip)
        block = ["", "```bash", f"export {var}={s}", "```", ""]
        if not cands:  # every Markdown file of the package holds a plant already: a new page
            pl.add_block(f"{base}/docs/setup-{r.randrange(10**6)}.md", [f"# {pkgname} setup", *block], plant)
            return True
        return pl.insert(r.choice(cands), block, plant, lambda ls: _md_slot(ls, r))
    if ctx in ("sdk-python", "sdk-js"):
        return _plant_sdk(pl, slug, plant, ctx)
    if ctx in ("minjs", "ts-test"):
        cands = _candidates(tree, slug, _jsfile, pl.skip)
        if not cands:
            return False
        if ctx == "minjs":
            cands.sort(key=lambda p: -p.stat().st_size)
            path = r.choice(cands[:20])
            key = camel
            host = (
                f"https://{_rand(r, ALPHABETS['lower'], 8)}.openai.azure.com"
                if plant.fmt.provider == "azure"
                else ""
            )
            snip = f'const c={{{key}:"{s}"' + (f',endpoint:"{host}"' if host else "") + "};"
            return pl.splice(path, snip, plant)
        path = r.choice(cands)
        block = [f"const {var.lower()} = process.env.{var} ?? '{s}';"]
        if plant.fmt.provider == "azure":
            block.insert(0, f"const endpoint = 'https://{_rand(r, ALPHABETS['lower'], 8)}.openai.azure.com';")
        return pl.insert(path, block, plant, lambda ls: 0 if not ls[0].startswith("#!") else 1)
    raise ValueError(ctx)


# ---------------------------------------------------------------------------------------------
# decoys: placeholders and look-alikes that must yield nothing (llm-keys.md §4.3)


# A parser test's fixture that says what it is (a real agent framework's history): never dropped
# (issue 19.10). OpenAI's marker verifies the first offline (its rule's severity); the second is
# reported at low with the reason. Both are planted: a finding is expected.
SAID_FAKE = (
    ("openai.legacy-key", "# correct format, not real"),
    ("anthropic.api-key", "# fake key for the parser test"),
)


def _decoy_lines(r: random.Random) -> dict[str, list[str]]:
    x = "x"
    ghp_body = _rand(r, ALPHABETS["b62"], 30)
    bad = crc32_b62(ghp_body)
    bad_check = bad[:-1] + ("A" if bad[-1] != "A" else "B")
    npm_body = _rand(r, ALPHABETS["b62"], 30)
    npm_check = crc32_b62(npm_body)
    npm_bad = ("Z" if npm_check[0] != "Z" else "Y") + npm_check[1:]
    anon = ".".join(
        [
            base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("="),
            base64.urlsafe_b64encode(
                json.dumps(
                    {
                        "iss": "supabase",
                        "ref": _rand(r, ALPHABETS["lower"], 20),
                        "role": "anon",
                        "iat": 1700000000,
                        "exp": 2700000000,
                    },
                    separators=(",", ":"),
                ).encode()
            )
            .decode()
            .rstrip("="),
            _rand(r, ALPHABETS["b64url"], 43),
        ]
    )
    aws_example_id = "AKIA" + _rand(r, ALPHABETS["base32"], 9) + "EXAMPLE"
    aws_example_secret = _rand(r, ALPHABETS["alnum"], 30) + "EXAMPLEKEY"
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
        f"      - uses: actions/checkout@{_rand(r, ALPHABETS['hex'], 40)}",
        f"      - uses: actions/setup-node@{_rand(r, ALPHABETS['hex'], 40)}",
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
        f'COMMIT = "{_rand(r, ALPHABETS["hex"], 40)}"',
        f"# fixed in {_rand(r, ALPHABETS['hex'], 40)} (see CHANGELOG)",
        f'API_KEY_SHA256 = "{_rand(r, ALPHABETS["hex"], 64)}"',
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
        f'XFYUN_APP_ID = "{_rand(r, ALPHABETS["hex"], 32)}"',
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
        f"const buildHash = '{_rand(r, ALPHABETS['hex'], 40)}';",
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
            f'    {{file = "{p}-1.0.0-py3-none-any.whl", hash = "sha256:{_rand(r, ALPHABETS["hex"], 64)}"}},',
            f'    {{file = "{p}-1.0.0.tar.gz", hash = "sha256:{_rand(r, ALPHABETS["hex"], 64)}"}},',
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
    hexs = _rand(r, ALPHABETS["hex"], 40)
    uuid = expand("{uuid4}", r)
    b64 = base64.b64encode(r.randbytes(32)).decode()
    return [
        "import os",
        "",
        f'API_KEY_ID = "{uuid}"',
        f'access_key_id = "{uuid}"',
        f'cache_key = "{hexs}"',
        f'cached_token_key = "{hexs}"',
        f'password_hash = "{_rand(r, ALPHABETS["hex"], 64)}"',
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
        f'github_secret = {{"key_id": "{_rand(r, ALPHABETS["digits"], 18)}", "key": "{b64}"}}',
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
             "hashed_secret": _rand(r, ALPHABETS["hex"], 40), "is_verified": False, "line_number": 12},
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
        f'run = client.agents.get(agent_id="{_rand(r, ALPHABETS["alnum"], 32)}", request_id="{_rand(r, ALPHABETS["alnum"], 32)}")',
        "co = cohere.ClientV2(timeout=30)",
        f'resp = co.chat(model="command-r", trace_id="{_rand(r, ALPHABETS["alnum"], 40)}")',
        'ark = Ark(base_url="https://ark.cn-beijing.volces.com/api/v3")',
        f'task = ark.tasks.get(task_id="{expand("{uuid4}", r)}")',
        f'search = GoogleSearch({{"q": "coffee", "checksum": "{_rand(r, ALPHABETS["hex"], 64)}"}})',
        'ai21_client = ai21.AI21Client(api_key=os.getenv("AI21_API_KEY"))',
        f'doc = ai21_client.library.files.get(file_id="{expand("{uuid4}", r)}")',
        f'etag = "{_rand(r, ALPHABETS["hex"], 32)}"',
        f'digest = hashlib.md5(b"{_rand(r, ALPHABETS["lower"], 12)}").hexdigest() == "{_rand(r, ALPHABETS["hex"], 32)}"',
        "",
    ]


def _sdk_id_decoys_ts(r: random.Random) -> list[str]:
    return [
        'import { Mistral } from "@mistralai/mistralai";',
        'import { CohereClient } from "cohere-ai";',
        "",
        'const m = new Mistral({ apiKey: process.env.MISTRAL_API_KEY ?? "" });',
        f'const run = await m.agents.get({{ agentId: "{_rand(r, ALPHABETS["alnum"], 32)}", requestId: "{_rand(r, ALPHABETS["alnum"], 32)}" }});',
        "const co = new CohereClient({ token: process.env.CO_API_KEY });",
        f'const span = co.trace({{ traceId: "{_rand(r, ALPHABETS["alnum"], 40)}" }});',
        "",
    ]


# ---------------------------------------------------------------------------------------------


def _triaged_files() -> set[str]:
    if not TRIAGE.is_file():
        return set()
    data = json.loads(TRIAGE.read_text())
    return {loc.rpartition(":")[0] for e in data.get("entries", []) for loc in e.get("locations", [])}


def build(
    out: Path,
    seed: int,
    per_row: int,
    packages: list[Package],
    cache: Path,
    formats: list[Format],
    decoys_in: int = 3,
) -> dict[str, object]:
    r = random.Random(seed)
    tree = Tree(out / "tree")
    if out.exists():
        shutil.rmtree(out)
    tree.root.mkdir(parents=True)
    for pkg in packages:
        src = unpacked(pkg, cache)
        if src is None:
            raise SystemExit(
                f"{pkg.name} {pkg.version} is not in the cache {cache}: run tests/corpus/fetch.py"
            )
        _link_tree(src, tree.root / pkg.slug)
        tree.pkgs[pkg.slug] = _pkg_root(tree.root / pkg.slug)
    names = {p.slug: re.sub(r"[^a-z0-9]+", "-", p.name.lower()).strip("-") for p in packages}
    slugs = [p.slug for p in packages]
    pl = Planter(tree, r, _triaged_files())
    plants: list[Plant] = []
    failed: list[str] = []
    for i, fmt in enumerate(formats):
        ctxs = CONTEXTS_MULTI if fmt.rule_id in MULTILINE else CONTEXTS_SINGLE
        if fmt.rule_id in SDK_CLIENTS and not fmt.prefix:
            ctxs = CONTEXTS_SDK
        for k in range(per_row):
            secret = generate(fmt, r)
            ctx = ctxs[(i + k) % len(ctxs)]
            plant = Plant(fmt, secret, ctx)
            # find a package that offers a host for this context
            order = slugs[:]
            r.shuffle(order)
            if not any(plant_one(pl, slug, plant, names[slug]) for slug in order):
                failed.append(f"{fmt.rule_id}/{ctx}")
                continue
            plants.append(plant)
    decoys: list[dict[str, object]] = []
    dslugs = slugs[:]
    r.shuffle(dslugs)
    for j, slug in enumerate(dslugs[:decoys_in]):
        base = tree.rel(tree.pkgs[slug])
        for name, lines in _decoy_lines(random.Random(f"{seed}:decoys:{j}")).items():
            rel = f"{base}/{name}"
            pl.add_block(rel, lines, None)
            decoys.append({"file": rel, "kind": name})
    for j, (rule_id, comment) in enumerate(SAID_FAKE):  # own stream: the rest of the corpus is unchanged
        fmt = next(f for f in formats if f.rule_id == rule_id)
        plant = Plant(fmt, generate(fmt, random.Random(f"{seed}:said-fake:{j}")), "said-fake")
        base = tree.rel(tree.pkgs[dslugs[j % len(dslugs)]])
        pl.add_block(
            f"{base}/tests/test_key_format.py", [f'    assert parse("{plant.secret}")  {comment}'], plant
        )
        plants.append(plant)
    pl.flush()
    labels = {
        "version": 1,
        "seed": seed,
        "per_row": per_row,
        "packages": [f"{p.ecosystem}:{p.name}=={p.version}" for p in packages],
        "planted": [
            {
                "file": p.file,
                "line": p.line,
                "end_line": p.end_line,
                "rule_id": p.fmt.rule_id,
                "provider": p.fmt.provider,
                "context": p.context,
                "secret_sha256": sha256_text(p.secret),
                "length": len(p.secret),
            }
            for p in plants
        ],
        "decoys": decoys,
        "unplaced": failed,
    }
    _verify(tree, plants)
    (out / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    return labels


def _verify(tree: Tree, plants: list[Plant]) -> None:
    """Every plant is where its label says (first line of the secret, raw or JSON-escaped)."""
    for p in plants:
        lines = (tree.root / p.file).read_text(encoding="utf-8").splitlines()
        head = p.secret.splitlines()[0][:40]
        got = lines[p.line - 1]
        if head not in got and json.dumps(p.secret)[1:41] not in got:
            raise AssertionError(f"label off for {p.fmt.rule_id} in {p.file}:{p.line}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=20260801)
    ap.add_argument("--per-row", type=int, default=3, help="keys planted per key-formats row (default 3)")
    ap.add_argument("--packages", nargs="*", help="only these package names (default: all of packages.txt)")
    ap.add_argument("--formats", type=Path, default=KEY_FORMATS)
    ap.add_argument("--decoys-in", type=int, default=3, help="packages that get the decoy files (0: none)")
    ap.add_argument("--cache", type=Path)
    args = ap.parse_args(argv)
    pkgs = load_packages()
    if args.packages:
        pkgs = [p for p in pkgs if p.name in args.packages]
    formats = load_formats(args.formats) if args.per_row else []
    cache = (args.cache or cache_dir()).resolve()
    labels = build(args.out.resolve(), args.seed, args.per_row, pkgs, cache, formats, args.decoys_in)
    planted = labels["planted"]
    assert isinstance(planted, list)
    print(f"planted {len(planted)} keys, {len(labels['decoys'])} decoy files -> {args.out}/tree")  # type: ignore[arg-type]
    if labels["unplaced"]:
        print(f"could not place: {labels['unplaced']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
