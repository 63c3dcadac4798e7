"""The `verify:` block of a bundled rule: how to ask the provider, once, whether a key is live.

A verifier is data, reviewed like the rest of a rule file: one request to a fixed URL of the
provider's own API (the host is written here, never taken from scanned content), the secret
only in a header, and what a live, a revoked and an unknown answer look like. The loader
validates the block's shape and its safety invariants (https, no placeholder in the URL, GET or
HEAD, POST only for a signed call keysweep implements); `keysweep rules --check`
(rules/check.py) also holds the host against the provider's official API hosts below.
Only the bundled rule files are read for verifiers: a config's `[[rules]]` entry cannot carry
one (scanner/rules/__init__.py rejects the key), so a cloned repository can never send the
user's keys to a host it names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scanner.errors import RuleError

PLACEHOLDER = "{secret}"
METHODS = ("GET", "HEAD", "POST")
# calls keysweep signs in code (scanner/verify/sigv4.py): the only verifiers without a header
# template, and the only ones that may POST (AWS STS's GetCallerIdentity is a signed query call)
SIGNERS = ("aws-sigv4",)
# POST is allowed only for these (host, path, signer): free read-only calls whose protocol needs it
POST_ENDPOINTS = {("sts.amazonaws.com", "/", "aws-sigv4")}
# Each provider's official API hosts: a verifier's host must be one of its provider's. A rule
# file alone cannot widen this list; adding a host is a reviewed change to this code.
OFFICIAL_HOSTS: dict[str, tuple[str, ...]] = {
    "openai": ("api.openai.com",),
    "anthropic": ("api.anthropic.com",),
    "google": ("generativelanguage.googleapis.com",),
    "mistral": ("api.mistral.ai",),
    "groq": ("api.groq.com",),
    "xai": ("api.x.ai",),
    "deepseek": ("api.deepseek.com",),
    "together": ("api.together.xyz",),
    "openrouter": ("openrouter.ai",),
    "huggingface": ("huggingface.co",),
    "github": ("api.github.com",),
    "stripe": ("api.stripe.com",),
    "aws": ("sts.amazonaws.com",),
}
_KEYS = {"method", "url", "headers", "signer", "body", "live", "revoked", "unknown", "why", "docs", "rate"}
_ANSWER_KEYS = {"status", "fields", "equals", "contains", "reason"}
_HEADER = re.compile(r"^[A-Za-z0-9-]+$")
_BRACES = re.compile(r"\{[^}]*\}")
_FORBIDDEN_HEADERS = {"host", "content-length", "transfer-encoding", "connection"}


@dataclass(frozen=True, slots=True)
class Answer:
    """What one kind of answer looks like: a status among `status`, and, when given, every JSON
    field path present (`a.b.0.c`), every `equals` path equal to its value, every `contains`
    text in the body. `reason` says why (an unknown answer's reason, reported as is)."""

    status: tuple[int, ...]
    fields: tuple[str, ...] = ()
    equals: tuple[tuple[str, str | int | bool], ...] = ()
    contains: tuple[str, ...] = ()
    reason: str = ""

    @property
    def needs_json(self) -> bool:
        return bool(self.fields or self.equals)


@dataclass(frozen=True, slots=True)
class VerifySpec:
    """One verifier: the request and how its answers read."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    live: tuple[Answer, ...]
    revoked: tuple[Answer, ...]
    why: str  # why the request neither bills nor changes anything
    docs: str  # the provider's documentation of the endpoint
    unknown: tuple[Answer, ...] = ()
    signer: str = ""
    body: str = ""
    rate: float = 10.0  # requests per second at most to this provider

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def path(self) -> str:
        return urlsplit(self.url).path or "/"


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RuleError(f"{where}: verify '{key}' must be a list of strings")
    return tuple(value)


def _answer(raw: Any, where: str, needs_reason: bool) -> Answer:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: must be a mapping with 'status'")
    unknown = set(raw) - _ANSWER_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
    status = raw.get("status")
    codes = [status] if isinstance(status, int) else status
    if (
        not isinstance(codes, list)
        or not codes
        or not all(isinstance(c, int) and not isinstance(c, bool) and 100 <= c <= 599 for c in codes)
    ):
        raise RuleError(f"{where}: 'status' must be HTTP status codes (100-599)")
    equals = raw.get("equals") or {}
    if not isinstance(equals, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int | bool) for k, v in equals.items()
    ):
        raise RuleError(f"{where}: 'equals' maps JSON field paths to strings, numbers or booleans")
    reason = raw.get("reason", "")
    if not isinstance(reason, str) or (needs_reason and not reason.strip()):
        raise RuleError(f"{where}: an unknown answer needs a 'reason'")
    return Answer(
        status=tuple(codes),
        fields=_strings(raw.get("fields"), where, "fields"),
        equals=tuple(sorted(equals.items())),
        contains=_strings(raw.get("contains"), where, "contains"),
        reason=" ".join(reason.split()),
    )


def _answers(raw: Any, where: str, key: str, needs_reason: bool = False) -> tuple[Answer, ...]:
    items = [raw] if isinstance(raw, dict) else raw
    if not isinstance(items, list) or not items:
        raise RuleError(f"{where}: verify '{key}' must be an answer or a list of answers")
    return tuple(_answer(a, f"{where}: verify {key}[{i}]", needs_reason) for i, a in enumerate(items))


def parse_verify(raw: Any, where: str) -> VerifySpec:
    """A rule's `verify:` block, validated: RuleError naming the rule and the key otherwise."""
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: 'verify' must be a mapping")
    unknown = set(raw) - _KEYS
    if unknown:
        raise RuleError(f"{where}: verify: unknown keys {sorted(unknown)}")
    method = raw.get("method", "GET")
    if method not in METHODS:
        raise RuleError(f"{where}: verify method must be one of {', '.join(METHODS)}")
    url = raw.get("url")
    if not isinstance(url, str):
        raise RuleError(f"{where}: verify needs a 'url'")
    _check_url(url, where)
    signer = str(raw.get("signer", ""))
    if signer and signer not in SIGNERS:
        raise RuleError(f"{where}: verify signer must be one of {', '.join(SIGNERS)}")
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise RuleError(f"{where}: verify 'headers' maps header names to strings")
    for name, value in headers.items():
        if not _HEADER.match(name) or name.lower() in _FORBIDDEN_HEADERS:
            raise RuleError(f"{where}: verify header {name!r} cannot be set")
        if any(p != PLACEHOLDER for p in _BRACES.findall(value)):
            raise RuleError(f"{where}: verify header {name!r}: the only placeholder is {PLACEHOLDER}")
    if not signer and not any(PLACEHOLDER in v for v in headers.values()):
        raise RuleError(f"{where}: verify sends the secret in a header: put {PLACEHOLDER} in one")
    body = raw.get("body", "")
    if not isinstance(body, str) or PLACEHOLDER in body or (body and method != "POST"):
        raise RuleError(f"{where}: verify 'body' is a fixed text, only for POST")
    if method == "POST" and not signer:
        raise RuleError(f"{where}: verify POST only for a signed call ({', '.join(SIGNERS)})")
    why, docs = raw.get("why"), raw.get("docs")
    if not isinstance(why, str) or not why.strip():
        raise RuleError(f"{where}: verify needs 'why' (why the request neither bills nor changes anything)")
    if not isinstance(docs, str) or not docs.startswith("https://"):
        raise RuleError(f"{where}: verify needs 'docs', the https URL of the endpoint's documentation")
    rate = raw.get("rate", 10.0)
    if not isinstance(rate, int | float) or isinstance(rate, bool) or rate <= 0:
        raise RuleError(f"{where}: verify 'rate' is a positive number of requests per second")
    return VerifySpec(
        method=method,
        url=url,
        headers=tuple(headers.items()),
        live=_answers(raw.get("live"), where, "live"),
        revoked=_answers(raw.get("revoked"), where, "revoked"),
        unknown=_answers(raw["unknown"], where, "unknown", True) if raw.get("unknown") else (),
        why=" ".join(why.split()),
        docs=docs,
        signer=signer,
        body=body,
        rate=float(rate),
    )


def _check_url(url: str, where: str) -> None:
    """https, a literal host, no credentials, no placeholder anywhere: the secret never goes in a URL."""
    if "{" in url or "}" in url:
        raise RuleError(f"{where}: verify url holds no placeholder: the secret goes in a header")
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise RuleError(f"{where}: verify url must be https")
    if not parts.hostname or parts.username or parts.password or parts.port or parts.fragment:
        raise RuleError(f"{where}: verify url needs a plain host (no user, port or fragment)")


def review(spec: VerifySpec, provider: str) -> list[str]:
    """What `keysweep rules --check` finds wrong with a bundled verifier (empty: none): the host
    is one of the provider's official API hosts, GET/HEAD or a listed signed POST, and the URL's
    query names nothing that looks like a credential."""
    problems: list[str] = []
    hosts = OFFICIAL_HOSTS.get(provider, ())
    if spec.host not in hosts:
        listed = ", ".join(hosts) if hosts else "none listed"
        problems.append(f"host {spec.host!r} is not an official API host of {provider} ({listed})")
    if spec.method == "POST" and (spec.host, spec.path, spec.signer) not in POST_ENDPOINTS:
        problems.append("POST is allowed only for a listed free read-only signed call")
    query = urlsplit(spec.url).query.lower()
    if any(word in query for word in ("key", "token", "secret", "auth", "password")):
        problems.append("the URL's query names a credential: the secret goes in a header")
    return problems
