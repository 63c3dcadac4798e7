"""The verification runner: at most one read-only request per distinct secret, bounded in time.

Input: the distinct secrets (digest, value in memory, rule, whether local-only) and the settings
an entry point read from its environment. Output: a `Verification` per digest. The requests are
the bundled rules' verifiers (scanner/rules/verifiers.py) and nothing else: the URL is the
rule's, the secret goes only in a header (or into a SigV4 signature), redirects are never
followed, and no reason, log line or error ever holds a secret or a URL built from one.

httpx is the client: maintained, typed, async with per-request timeouts, explicit proxies and a
caller's CA bundle, and it never follows a redirect unless asked. It is imported only when a
request is about to be made, so scans without `--verify` never load it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from scanner.model import Verification, VerifyStatus
from scanner.rules import load_verifiers
from scanner.rules.verifiers import PLACEHOLDER, Answer, VerifySpec
from scanner.verify.sigv4 import sign

if TYPE_CHECKING:
    import httpx

BODY_CAP = 256 * 1024  # bytes of an answer read at most: a model list is a few KB
USER_AGENT = "keysweep-verify"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One distinct secret to check. `pair` is the second half of a pair (an AWS key ID's secret
    access key). Values are kept out of repr so that no traceback or log shows them."""

    digest: str
    secret: str = field(repr=False)
    rule_id: str
    local_only: bool = False
    pair: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class VerifySettings:
    """Limits and network settings; the entry point reads the environment (`from_env`), the
    runner only gets values.

    `endpoints` maps a verifier's host to a loopback `host:port` and exists for tests only: no
    entry point sets it, and nothing read from a config or a scanned file can."""

    budget: float = 30.0  # seconds for the whole run; what is left then is unknown
    timeout: float = 5.0  # seconds per request
    concurrency: int = 8
    retries: int = 2  # on 429 and 5xx
    backoff: float = 0.5  # seconds, doubled at each retry (a Retry-After header wins, capped)
    max_retry_after: float = 10.0
    proxy: str | None = None
    no_proxy: tuple[str, ...] = ()
    ca_bundle: str | None = None
    endpoints: Mapping[str, str] = field(default_factory=dict)

    @staticmethod
    def from_env(env: Mapping[str, str], **values: Any) -> VerifySettings:
        """Settings from an environment given as a mapping: the standard HTTPS_PROXY / NO_PROXY
        (either case) and SSL_CERT_FILE for a custom CA bundle; `values` override."""

        def get(name: str) -> str | None:
            return env.get(name) or env.get(name.lower()) or None

        no_proxy = tuple(h.strip() for h in (get("NO_PROXY") or "").split(",") if h.strip())
        found: dict[str, Any] = {"proxy": get("HTTPS_PROXY"), "no_proxy": no_proxy}
        found["ca_bundle"] = env.get("SSL_CERT_FILE") or None
        return VerifySettings(**{**found, **values})


def _unknown(reason: str, status: int | None = None, at: str | None = None) -> Verification:
    return Verification(VerifyStatus.UNKNOWN, reason, status, at)


def verify(candidates: Iterable[Candidate], settings: VerifySettings) -> dict[str, Verification]:
    """One `Verification` per distinct digest: local-only secrets and rules without a verifier
    are unknown without a request; the rest are checked within `settings.budget` seconds."""
    specs = load_verifiers()  # the bundled rules' verifiers, the only ones there are
    merged: dict[str, Candidate] = {}
    for c in candidates:
        seen = merged.get(c.digest)
        # a secret is local-only only if every place holding it is (a committed copy is a leak)
        merged[c.digest] = c if seen is None else _merge(seen, c)
    out: dict[str, Verification] = {}
    todo: list[tuple[Candidate, VerifySpec]] = []
    for c in merged.values():
        spec = specs.get(c.rule_id)
        if c.local_only:
            out[c.digest] = _unknown("local-only: never checked")
        elif spec is None:
            out[c.digest] = _unknown("no verifier")
        elif spec.signer == "aws-sigv4" and not c.pair:
            out[c.digest] = _unknown(
                "a key ID alone is never verified: no secret access key was paired with it"
            )
        elif spec.signer == "aws-sigv4" and c.secret.startswith("ASIA"):
            out[c.digest] = _unknown("a temporary key needs its session token: not checked")
        else:
            todo.append((c, spec))
    if todo:
        out.update(asyncio.run(_run(todo, settings)))
    return out


def _merge(a: Candidate, b: Candidate) -> Candidate:
    keep = a if not a.local_only or b.local_only else b
    return Candidate(keep.digest, keep.secret, keep.rule_id, a.local_only and b.local_only, a.pair or b.pair)


class _Gate:
    """A provider's rate limit: request starts at least 1/rate seconds apart."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = 0.0
        self.lock = asyncio.Lock()

    async def wait(self, deadline: float) -> bool:
        async with self.lock:
            now = time.monotonic()
            at = max(now, self.next)
            if at >= deadline:
                return False
            self.next = at + self.interval
        await asyncio.sleep(at - now)
        return True


def _bypass(host: str, no_proxy: tuple[str, ...]) -> bool:
    for entry in no_proxy:
        name = entry.split(":")[0].lstrip(".").lower()
        if entry == "*" or host == name or host.endswith("." + name):
            return True
    return False


async def _run(todo: list[tuple[Candidate, VerifySpec]], settings: VerifySettings) -> dict[str, Verification]:
    import httpx

    deadline = time.monotonic() + settings.budget
    context = ssl.create_default_context(cafile=settings.ca_bundle) if settings.ca_bundle else True
    limits = httpx.Limits(max_connections=settings.concurrency)
    common: dict[str, Any] = {
        "verify": context,
        "trust_env": False,
        "follow_redirects": False,
        "limits": limits,
    }
    direct = httpx.AsyncClient(**common)
    proxied = httpx.AsyncClient(proxy=settings.proxy, **common) if settings.proxy else direct
    gates = {spec.host: _Gate(spec.rate) for _, spec in todo}
    slots = asyncio.Semaphore(settings.concurrency)

    async def one(c: Candidate, spec: VerifySpec) -> Verification:
        target = settings.endpoints.get(spec.host, spec.host)
        host = target.split(":")[0]
        client = direct if _bypass(host, settings.no_proxy) else proxied
        async with slots:
            found = await _check(client, c, spec, settings, deadline, gates[spec.host])
        if client is not direct and found.reason == "network unreachable":
            return _unknown("proxy unreachable")  # the proxy is what could not be reached
        return found

    tasks = {asyncio.create_task(one(c, spec)): c.digest for c, spec in todo}
    try:
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, deadline - time.monotonic()))
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
    finally:
        await direct.aclose()
        if proxied is not direct:
            await proxied.aclose()
    out: dict[str, Verification] = {}
    for task, digest in tasks.items():
        if task in done and not task.cancelled() and task.exception() is None:
            out[digest] = task.result()
        elif task in done and not task.cancelled():
            out[digest] = _unknown("check failed")  # an error of keysweep's own: never its text
        else:
            out[digest] = _unknown("time budget spent")
    return out


def _request(
    client: httpx.AsyncClient, c: Candidate, spec: VerifySpec, settings: VerifySettings, timeout: float
) -> httpx.Request:
    """The rule's request, with the secret in its header (or signature) and nowhere else."""
    headers = {"user-agent": USER_AGENT, "accept": "application/json"}
    headers.update({k.lower(): v.replace(PLACEHOLDER, c.secret) for k, v in spec.headers})
    body = spec.body.encode()
    if spec.signer == "aws-sigv4":
        headers["content-type"] = "application/x-www-form-urlencoded; charset=utf-8"
        headers["accept"] = "application/xml"
        headers = sign(spec.method, spec.url, headers, body, c.secret, c.pair, datetime.now(UTC))
    url = spec.url
    override = settings.endpoints.get(spec.host)
    if override is not None:  # tests: reach a loopback server, still addressing the rule's host
        parts = urlsplit(spec.url)
        url = urlunsplit((parts.scheme, override, parts.path, parts.query, ""))
        headers["host"] = spec.host
    return client.build_request(spec.method, url, headers=headers, content=body or None, timeout=timeout)


async def _check(
    client: httpx.AsyncClient,
    c: Candidate,
    spec: VerifySpec,
    settings: VerifySettings,
    deadline: float,
    gate: _Gate,
) -> Verification:
    import httpx

    attempt = 0
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not await gate.wait(deadline):
            return _unknown("time budget spent")
        timeout = max(0.01, min(settings.timeout, deadline - time.monotonic()))
        try:
            request = _request(client, c, spec, settings, timeout)
            response = await client.send(request, stream=True)
            try:
                body = await _read(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            return _unknown("timeout")
        except httpx.ProxyError:
            return _unknown("proxy unreachable")
        except (httpx.HTTPError, ssl.SSLError, OSError) as e:  # never the message: it may quote a URL
            return _unknown(_network_reason(e))
        except ValueError:  # a value no header can carry (a line break): httpx refuses it
            return _unknown("the value cannot be sent in a header")
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = response.status_code
        if status == 429 or 500 <= status <= 599:
            what = "rate limited (429)" if status == 429 else f"server error ({status})"
            if attempt >= settings.retries:
                return _unknown(what, status, at)
            delay = (
                _retry_after(response.headers.get("retry-after"), settings) or settings.backoff * 2**attempt
            )
            if time.monotonic() + delay >= deadline:
                return _unknown(what, status, at)
            await asyncio.sleep(delay)
            attempt += 1
            continue
        return judge(spec, status, body, at)


async def _read(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= BODY_CAP:
            break
    return b"".join(chunks)[:BODY_CAP]


def _retry_after(value: str | None, settings: VerifySettings) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: the backoff applies instead
    return None if seconds is None or seconds < 0 else min(seconds, settings.max_retry_after)


def _network_reason(error: BaseException) -> str:
    """DNS, TLS or unreachable, from the exception chain (its text is never used)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, socket.gaierror):
            return "DNS: the provider's host did not resolve"
        if isinstance(seen, ssl.SSLError):
            return "TLS: the certificate could not be verified"
        seen = seen.__cause__ or seen.__context__
    text = type(error).__name__
    return "network unreachable" if "Connect" in text or isinstance(error, OSError) else "network error"


def judge(spec: VerifySpec, status: int, body: bytes, at: str | None) -> Verification:
    """What an answer means under the rule's verifier: live, revoked, a listed unknown, or an
    unexpected answer (a redirect included: it is never followed)."""
    if 300 <= status <= 399:
        return _unknown("redirect (not followed)", status, at)
    where = f"{spec.method} {spec.host}{spec.path}"
    if any(_matches(a, status, body) for a in spec.live):
        return Verification(
            VerifyStatus.LIVE, f"the provider accepted the key ({where}: {status})", status, at
        )
    if any(_matches(a, status, body) for a in spec.revoked):
        return Verification(
            VerifyStatus.REVOKED, f"the provider refused the key as invalid ({status})", status, at
        )
    for a in spec.unknown:
        if _matches(a, status, body):
            return _unknown(a.reason, status, at)
    return _unknown("unexpected answer", status, at)


_MISSING = object()


def _field(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(doc, dict) and part in doc:
            doc = doc[part]
        elif isinstance(doc, list) and part.isdigit() and int(part) < len(doc):
            doc = doc[int(part)]
        else:
            return _MISSING
    return doc


def _matches(answer: Answer, status: int, body: bytes) -> bool:
    if status not in answer.status:
        return False
    text = body.decode("utf-8", "replace")
    if not all(c in text for c in answer.contains):
        return False
    if not answer.needs_json:
        return True
    try:
        doc = json.loads(text)
    except ValueError:
        return False
    if any(_field(doc, p) is _MISSING for p in answer.fields):
        return False
    return all(_field(doc, p) == v for p, v in answer.equals)
