"""A loopback HTTPS server that plays every verifier's provider, for the verification tests.

Its certificate comes from a throwaway CA made by the test (trustme) and is trusted only through
the runner's CA-bundle setting; the runner reaches it through its test-only endpoint override,
still addressing the rule's host (the Host header). What it answers depends on the credential a
request carries (scenario by secret), so one run exercises every scenario at once. It records
every request, raw, so tests can check where the secret went.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import trustme

_AWS_LIVE = (
    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    "<Arn>arn:aws:iam::000000000000:user/ci</Arn><UserId>ci</UserId><Account>000000000000</Account>"
    "</GetCallerIdentityResult></GetCallerIdentityResponse>"
)
_AWS_REVOKED = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid."
    "</Message></Error></ErrorResponse>"
)

_AWS_MISMATCH = (
    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
    "<Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the "
    "signature you provided. Check your AWS Secret Access Key and signing method.</Message></Error></ErrorResponse>"
)


def sigv4_valid(method: str, target: str, headers: dict[str, str], body: bytes, secret: str) -> bool:
    """Whether a request's SigV4 signature is the one `secret` makes, recomputed here from the
    request as received (AWS's documented algorithm, written apart from scanner/verify/sigv4.py)."""
    auth = headers.get("authorization", "")
    scheme, _, rest = auth.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(",") if "=" in part)
    if scheme != "AWS4-HMAC-SHA256" or not {"Credential", "SignedHeaders", "Signature"} <= set(fields):
        return False
    _key_id, day, region, service, _term = fields["Credential"].split("/")
    names = fields["SignedHeaders"].split(";")
    if "host" not in names or "x-amz-date" not in names or not headers["x-amz-date"].startswith(day):
        return False
    path, _, query = target.partition("?")
    canonical = "\n".join(
        (
            method,
            path,
            "&".join(sorted(p for p in query.split("&") if p)),
            "".join(f"{n}:{' '.join(headers[n].split())}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    text = "\n".join(
        ("AWS4-HMAC-SHA256", headers["x-amz-date"], scope, hashlib.sha256(canonical.encode()).hexdigest())
    )
    key = ("AWS4" + secret).encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    expected = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields["Signature"])


def _j(doc: Any) -> bytes:
    return json.dumps(doc).encode()


_OPENAI_LIST = _j({"object": "list", "data": [{"id": "some-model", "object": "model"}]})
_BEARER_401 = (401, _j({"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}))

# What each provider really answers (from its API reference), by (host, path): live, revoked.
SAMPLES: dict[tuple[str, str], tuple[bytes, tuple[int, bytes]]] = {
    ("api.openai.com", "/v1/models"): (_OPENAI_LIST, _BEARER_401),
    ("api.anthropic.com", "/v1/models"): (
        _j({"data": [{"id": "claude-model", "type": "model"}], "has_more": False}),
        (
            401,
            _j({"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}),
        ),
    ),
    ("generativelanguage.googleapis.com", "/v1beta/models"): (
        _j({"models": [{"name": "models/gemini-model"}], "nextPageToken": "next"}),
        (
            400,
            _j(
                {
                    "error": {
                        "code": 400,
                        "message": "API key not valid. Please pass a valid API key.",
                        "status": "INVALID_ARGUMENT",
                        "details": [
                            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
                        ],
                    }
                }
            ),
        ),
    ),
    ("api.mistral.ai", "/v1/models"): (_OPENAI_LIST, (401, _j({"message": "Unauthorized"}))),
    ("api.groq.com", "/openai/v1/models"): (_OPENAI_LIST, _BEARER_401),
    ("api.x.ai", "/v1/models"): (
        _OPENAI_LIST,
        (400, _j({"code": "Client specified an invalid argument", "error": "Incorrect API key provided"})),
    ),
    ("api.deepseek.com", "/models"): (_OPENAI_LIST, _BEARER_401),
    ("api.together.xyz", "/v1/models"): (_j([{"id": "some/model", "object": "model"}]), _BEARER_401),
    ("openrouter.ai", "/api/v1/key"): (
        _j({"data": {"label": "ci", "usage": 0, "limit": None, "is_free_tier": True}}),
        (401, _j({"error": {"message": "User not found.", "code": 401}})),
    ),
    ("huggingface.co", "/api/whoami-v2"): (
        _j({"type": "user", "name": "someone"}),
        (401, _j({"error": "Invalid credentials in Authorization header"})),
    ),
    ("api.github.com", "/user"): (_j({"login": "octo", "id": 1}), (401, _j({"message": "Bad credentials"}))),
    ("api.github.com", "/installation/repositories"): (
        _j({"total_count": 1, "repositories": [{"id": 1}]}),
        (401, _j({"message": "Bad credentials"})),
    ),
    ("api.stripe.com", "/v1/balance"): (
        _j({"object": "balance", "available": [], "livemode": True}),
        (401, _j({"error": {"message": "Invalid API Key provided", "type": "invalid_request_error"}})),
    ),
    ("sts.amazonaws.com", "/"): (_AWS_LIVE.encode(), (403, _AWS_REVOKED.encode())),
}

SCENARIOS = ("live", "revoked", "rate-limited", "timeout", "server-error", "malformed", "redirect")


@dataclass
class Seen:
    """One request as the server got it."""

    method: str
    path: str
    host: str
    headers: dict[str, str]
    body: bytes
    at: float
    signature_valid: bool | None = None  # an AWS request of a key ID in `Plan.aws_secrets`


@dataclass
class Plan:
    scenarios: dict[str, str] = field(default_factory=dict)  # credential -> scenario
    redirect_to: str = ""
    slow: float = 1.0  # seconds a `timeout` answer takes
    # AWS key ID -> its secret access key: a request signed with another secret gets STS's
    # SignatureDoesNotMatch (key IDs not listed are answered by scenario only)
    aws_secrets: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds every answer takes
    seen: list[Seen] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    inflight: int = 0
    peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def credential(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    if auth.startswith("AWS4-HMAC-SHA256 Credential="):
        return auth.split("=", 1)[1].split("/", 1)[0]
    if auth.lower().startswith("bearer "):
        return auth[7:]
    return headers.get("x-api-key") or headers.get("x-goog-api-key") or ""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _any(self) -> None:
        plan = self.server.plan
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        path, _, _ = self.path.partition("?")
        host = headers.get("host", "")
        cred = credential(headers)
        valid = None
        if host == "sts.amazonaws.com" and cred in plan.aws_secrets:
            valid = sigv4_valid(self.command, self.path, headers, body, plan.aws_secrets[cred])
        with plan.lock:
            plan.seen.append(Seen(self.command, self.path, host, headers, body, time.monotonic(), valid))
            plan.inflight += 1
            plan.peak = max(plan.peak, plan.inflight)
        try:
            if valid is False and plan.scenarios.get(cred) != "revoked":  # AWS: an unknown ID first
                self._send(403, _AWS_MISMATCH.encode())
            else:
                self._answer(plan, host, path, cred)
        finally:
            with plan.lock:
                plan.inflight -= 1

    def _answer(self, plan: Plan, host: str, path: str, cred: str) -> None:
        with plan.lock:
            plan.counts[cred] += 1
            count = plan.counts[cred]
        scenario = plan.scenarios.get(cred, "live")
        if plan.delay:
            time.sleep(plan.delay)
        live, (revoked_status, revoked_body) = SAMPLES.get((host, path), (b"{}", (404, b"{}")))
        if scenario == "revoked":
            return self._send(revoked_status, revoked_body)
        if scenario == "rate-limited" and count == 1:
            return self._send(429, b'{"error": "rate limited"}', {"Retry-After": "0"})
        if scenario == "timeout":
            time.sleep(plan.slow)
        if scenario == "server-error":
            return self._send(503, b"<html>unavailable</html>")
        if scenario == "malformed":
            return self._send(200, b"<html><body>maintenance</body></html>")
        if scenario == "redirect":
            return self._send(302, b"", {"Location": plan.redirect_to})
        return self._send(200, live)

    def _send(self, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (a timeout): nothing to answer
            pass

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _any


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog is 5: more simultaneous connects than that are dropped and
    # the client tries again a second later, which reads as a timeout
    request_queue_size = 128
    plan: Plan


@dataclass
class Endpoint:
    port: int
    plan: Plan

    @property
    def netloc(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextmanager
def https_server(ca: trustme.CA) -> Iterator[Endpoint]:
    """A server on 127.0.0.1 (an ephemeral port) with a certificate from `ca`; stopped on exit."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = _Server(("127.0.0.1", 0), _Handler)
    # each connection's handshake in its own handler thread (on its first read), not one at a
    # time in the accept loop
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    server.plan = Plan()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield Endpoint(server.server_address[1], server.plan)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def ca_bundle(ca: trustme.CA, directory: Path) -> str:
    path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)
