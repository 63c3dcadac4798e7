"""JSON Web Tokens (RFC 7519): decoded offline, judged as credentials, named by their issuer.

A JWT is a credential when it is signed (a JWS `alg` whose signature size the third part has)
and speaks for someone (an identity claim). Its `iss` names the service that issued it; a token
whose `exp` has passed at the scan's wall-clock time no longer authenticates and is low.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JwtJudgement:
    """An accepted token: the service its issuer names (None: unknown) and why it is low."""

    service: str | None
    low: str | None


def b64_any(text: str) -> bytes | None:
    """Base64, standard or URL-safe, padded or not; None when it is not base64."""
    t = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(t + "=" * (-len(t) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def json_object(text: str) -> dict[str, object] | None:
    """A base64 (standard or URL-safe, padded or not) JSON object, or None."""
    raw = b64_any(text.rstrip("="))
    try:
        doc = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return None
    return doc if isinstance(doc, dict) else None


# A JWT's issuer (`iss`) names the service that signed it: each issuer's documented form
_ISSUERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), name)
    for p, name in (
        (r"^(?:supabase|https://[a-z0-9]{20}\.supabase\.(?:co|in)/auth/v1/?)$", "supabase"),
        (r"^https://[\w.-]+\.auth0\.com/?$", "auth0"),
        (r"^https://(?:[\w-]+\.clerk\.accounts\.dev|clerk\.[\w.-]+\.[a-z]{2,})/?$", "clerk"),
        (r"^https://securetoken\.google\.com/[\w-]+$", "firebase"),
        (r"^(?:https://)?accounts\.google\.com$", "google"),
        (r"^https://cognito-idp\.[a-z0-9-]+\.amazonaws\.com/[\w-]+$", "cognito"),
        (
            r"^https://(?:login\.microsoftonline\.(?:com|us)|sts\.windows\.net|"
            r"[\w-]+\.(?:ciamlogin|b2clogin)\.com)/",
            "azure",
        ),
        (r"^https://[\w-]+\.(?:okta|oktapreview|okta-emea)\.com(?:/[\w/-]*)?$", "okta"),
        (r"^https://oidc\.vercel\.com(?:/[\w-]+)?/?$", "vercel"),
        (r"^https://token\.actions\.githubusercontent\.com/?", "github"),
        (
            r"^(?:kubernetes/serviceaccount|https://kubernetes\.default\.svc(?:\.cluster\.local)?)$",
            "kubernetes",
        ),
    )
)
# claims that say whom a token speaks for: without one a token is no credential (a signed
# message, a test vector, a feature flag)
_IDENTITY = (
    "sub", "email", "uid", "user_id", "userId", "username", "preferred_username", "upn", "oid",
    "client_id", "cid", "azp", "appid", "id", "gid", "sid", "session_id", "role", "account_id",
    "owner_id", "project_id", "org_id",
)  # fmt: skip
_JWT_IO_SUB, _JWT_IO_IAT = "1234567890", 1516239022  # jwt.io's sample token (sub, name John Doe, iat)


# RFC 7518 §3.1 (and RFC 8037 for EdDSA): the signature's length in bytes is fixed by `alg`
_SIG_BYTES = {
    "HS256": (32,), "HS384": (48,), "HS512": (64,), "ES256": (64,), "ES256K": (64,), "ES384": (96,),
    "ES512": (132,), "EdDSA": (64, 114), "Ed25519": (64,),
}  # fmt: skip


def _signature_fits(alg: str, signature: str) -> bool:
    """Whether the signature decodes to as many bytes as `alg` makes (RSA: the modulus size,
    1024 to 8192 bits). A hand-written test token with a made-up tail fails this."""
    raw = b64_any(signature)
    if raw is None:
        return False
    if alg[:2] in ("RS", "PS") and alg[2:] in ("256", "384", "512"):
        return 128 <= len(raw) <= 1024 and len(raw) % 64 == 0
    return len(raw) in _SIG_BYTES.get(alg, ())


def _claim_set(value: object) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip() != ""


def jwt_service(claims: dict[str, object], alg: str) -> str | None:
    """The service that issued a token, from its `iss` (or Turso's own claims), or None."""
    iss = claims.get("iss")
    if isinstance(iss, str):
        for rx, name in _ISSUERS:
            if rx.match(iss):
                return name
    # Turso / libSQL database and group tokens: EdDSA, no issuer, access level `a` (rw/ro)
    if alg == "EdDSA" and claims.get("a") in ("rw", "ro") and ("id" in claims or "gid" in claims):
        return "turso"
    return None


def expired_reason(exp: object, now: float | None = None) -> str | None:
    """Why a token whose `exp` has passed (at the scan's wall-clock time) is low, or None."""
    if not isinstance(exp, (int, float)) or isinstance(exp, bool):
        return None
    now = time.time() if now is None else now
    if exp >= now:
        return None
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(max(0.0, min(float(exp), 253402300799.0))))
    return (
        f"an expired token: its exp claim passed on {when} (checked against the scan's clock); "
        "it no longer authenticates, but it says who it was issued to and which key signed it"
    )


def judge_jwt(secret: str) -> JwtJudgement | None:
    """A signed JWT that names whom it speaks for, or None. Supabase's public anon key, its
    service-role key (its own rule) and jwt.io's sample token are not this rule's."""
    parts = secret.split(".")
    if len(parts) != 3:
        return None
    head, claims = json_object(parts[0]), json_object(parts[1])
    if head is None or claims is None:
        return None
    alg = head.get("alg")
    if not isinstance(alg, str) or not _signature_fits(alg, parts[2]):
        return None  # unsigned (alg none), an unknown algorithm, or a signature of the wrong size
    if claims.get("role") == "anon":
        return None  # Supabase's anon key: public by design
    if claims.get("role") == "service_role" and "supabase" in str(claims.get("iss", "")):
        return None  # supabase.service-role-key names it
    if claims.get("sub") == _JWT_IO_SUB or claims.get("iat") == _JWT_IO_IAT:
        return None  # jwt.io's sample token, copied into docs and tests
    if not any(_claim_set(claims.get(k)) for k in _IDENTITY):
        return None
    return JwtJudgement(jwt_service(claims, alg), expired_reason(claims.get("exp")))
