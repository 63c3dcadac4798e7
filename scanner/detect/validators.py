"""Offline validators named by rules: checksums reject, structure parses, nothing goes online.

A validator sees the captured secret and the whole matched text (for context such as a URL's
host) and returns a verdict: reject, accept, or accept with a passing checksum. It may also
return the normalized secret (PEM whitespace, JSON escapes) that the digest is computed on.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from scanner.detect.checksums import (
    bech32_ok,
    cask_ok,
    crc24,
    crc32_b62,
    github_style_ok,
    gitlab_routable_ok,
    putty_mac,
)
from scanner.detect.jwt import b64_any, json_object, judge_jwt
from scanner.detect.slots import SLOT_VALIDATOR, value_ok


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    checksum: bool = False
    secret: str | None = None
    low: str | None = None  # why an accepted value is no credential by itself (severity low)
    structure: bool = False  # the key's structure was verified offline (checksum, decoded payload)
    service: str | None = None  # whose credential the payload says it is (a JWT's issuer)


REJECT = Verdict(False)
ACCEPT = Verdict(True)  # well-formed, nothing verified (a URL's password)
PARSED = Verdict(True, structure=True)  # the provider's payload decoded and checked
CHECKSUM = Verdict(True, checksum=True, structure=True)

Validator = Callable[[str, str], Verdict]


def _github(secret: str, _: str) -> Verdict:
    return CHECKSUM if github_style_ok(secret, secret[:-36]) else REJECT


def _vercel(secret: str, _: str) -> Verdict:
    """Vercel's 2025 tokens: 4-character prefix, 50 characters, base62 CRC-32 of the 50 (6)."""
    body, check = secret[4:-6], secret[-6:]
    return CHECKSUM if len(body) == 50 and crc32_b62(body) == check else REJECT


_ROUTABLE = re.compile(
    r"^[a-z]+-(?P<body>[A-Za-z0-9_-]+)\.(?:[0-9a-z]{2}\.)?(?P<len>[0-9a-z]{2})[0-9a-z]{7}$"
)


def _gitlab_routable(secret: str, _: str) -> Verdict:
    """CRC-32 (base36, 7 chars) over everything before it, and the base36 body length field."""
    m = _ROUTABLE.match(secret)
    if m is None or int(m.group("len"), 36) != len(m.group("body")):
        return REJECT
    return CHECKSUM if gitlab_routable_ok(secret) else REJECT


def _cask(secret: str, _: str) -> Verdict:
    return CHECKSUM if cask_ok(secret) else REJECT


def _bedrock_long(secret: str, _: str) -> Verdict:
    raw = b64_any(secret[4:])
    ok = raw is not None and raw.startswith(b"BedrockAPIKey-") and b":" in raw
    return PARSED if ok else REJECT


def _bedrock_short(secret: str, _: str) -> Verdict:
    raw = b64_any(secret[len("bedrock-api-key-") :])
    ok = raw is not None and raw.startswith(b"bedrock.amazonaws.com") and b"X-Amz-Credential" in raw
    return PARSED if ok else REJECT


_PEM = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.S)
_ESCAPED_NL = re.compile(r"\\+[rn]")  # `\n`, or `\\n` when the JSON holding it was escaped again
_HEADER = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:")


def normalize_pem(text: str) -> tuple[str, bytes] | None:
    """PEM with whitespace and `\\n` escapes normalized, plus its decoded body.

    RFC 1421 headers (`Proc-Type:`, `DEK-Info:` of legacy encrypted keys) are dropped; the
    body is re-wrapped at 64 characters with LF line ends.
    """
    m = _PEM.search(_ESCAPED_NL.sub("\n", text))
    if not m:
        return None
    label, body = m.group(1), m.group(2)
    kept = [line for line in body.splitlines() if not _HEADER.match(line.strip())]
    b64 = "".join("".join(kept).split())
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        return None
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return "\n".join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"]), raw


def _der_ok(raw: bytes) -> bool:
    if len(raw) < 64 or raw[0] != 0x30:
        return False
    ln = raw[1]
    if ln & 0x80:
        n = ln & 0x7F
        if n == 0 or n > 4 or len(raw) < 2 + n:
            return False
        length = int.from_bytes(raw[2 : 2 + n], "big")
        return length + 2 + n == len(raw)
    return ln + 2 == len(raw)


def _pem(secret: str, _: str) -> Verdict:
    parsed = normalize_pem(secret)
    if parsed is None:
        return REJECT
    text, raw = parsed
    if "OPENSSH" in text.split("\n", 1)[0]:
        return Verdict(True, secret=text, structure=True) if raw.startswith(b"openssh-key-v1\x00") else REJECT
    return Verdict(True, secret=text, structure=True) if _der_ok(raw) else REJECT


def _pgp_secret_packet(first: int) -> bool:
    """A Secret-Key (5) or Secret-Subkey (7) packet header, old or new format."""
    if not first & 0x80:
        return False
    tag = first & 0x3F if first & 0x40 else (first >> 2) & 0x0F
    return tag in (5, 7)


def _pgp(secret: str, _: str) -> Verdict:
    """An armored OpenPGP secret key: the body decodes to a secret-key packet, and the armor's
    optional `=XXXX` line is the CRC-24 of the decoded bytes. The secret is normalized as a PEM
    block is (headers dropped, LF, 64-character lines)."""
    m = _PEM.search(_ESCAPED_NL.sub("\n", secret))
    if m is None or m.group(1) != "PGP PRIVATE KEY BLOCK":
        return REJECT
    lines = [ln.strip() for ln in m.group(2).splitlines() if ln.strip() and ":" not in ln]
    crc_line = lines[-1] if lines and len(lines[-1]) == 5 and lines[-1][0] == "=" else ""
    body = "".join(lines[:-1] if crc_line else lines)
    try:
        raw = base64.b64decode(body, validate=True)
        check = base64.b64decode(crc_line[1:], validate=True) if crc_line else b""
    except (binascii.Error, ValueError):
        return REJECT
    if len(raw) < 64 or not _pgp_secret_packet(raw[0]):
        return REJECT
    if crc_line and int.from_bytes(check, "big") != crc24(raw):
        return REJECT
    joined = "".join(lines)
    wrapped = [joined[i : i + 64] for i in range(0, len(joined), 64)]
    text = "\n".join(
        ["-----BEGIN PGP PRIVATE KEY BLOCK-----", *wrapped, "-----END PGP PRIVATE KEY BLOCK-----"]
    )
    return Verdict(True, checksum=bool(crc_line), secret=text, structure=True)


def _jwt_service_role(secret: str, _: str) -> Verdict:
    parts = secret.split(".")
    if len(parts) != 3:
        return REJECT
    raw = b64_any(parts[1])
    try:
        claims = json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        return REJECT
    if not isinstance(claims, dict) or claims.get("role") != "service_role":
        return REJECT
    if "supabase" not in str(claims.get("iss", "")):
        return REJECT
    return PARSED


_PPK_HEAD = re.compile(r"^PuTTY-User-Key-File-([23]): ([\w@.-]+)$")


def _ppk_lines(lines: list[str], i: int, name: str) -> tuple[bytes, int] | None:
    """The base64 blob of a `Name-Lines: N` section starting at line i, and the line after it."""
    if i >= len(lines) or not lines[i].startswith(f"{name}-Lines: "):
        return None
    count = lines[i].split(": ", 1)[1]
    if not count.isdigit() or not 0 < int(count) <= 200 or i + 1 + int(count) > len(lines):
        return None
    end = i + 1 + int(count)
    try:
        return base64.b64decode("".join(lines[i + 1 : end]), validate=True), end
    except (binascii.Error, ValueError):
        return None


def _putty(secret: str, _: str) -> Verdict:
    """A PuTTY key file (PuTTY manual, appendix C): header, Public-Lines and Private-Lines blocks
    of the counted length, Private-MAC. Unencrypted, the MAC is checked (a checksum); encrypted
    (aes256-cbc), it needs the passphrase, so only the structure is. Normalized to LF lines."""
    text = _ESCAPED_NL.sub("\n", secret).replace("\r\n", "\n").replace("\r", "\n")
    lines = [ln.strip() for ln in text.split("\n")]
    m = _PPK_HEAD.match(lines[0]) if len(lines) > 6 else None
    if m is None or not lines[1].startswith("Encryption: ") or not lines[2].startswith("Comment: "):
        return REJECT
    version, algorithm = int(m.group(1)), m.group(2)
    encryption, comment = lines[1][len("Encryption: ") :], lines[2][len("Comment: ") :]
    public = _ppk_lines(lines, 3, "Public")
    if public is None or encryption not in ("none", "aes256-cbc"):
        return REJECT
    i = public[1]
    while i < len(lines) and lines[i].split(": ", 1)[0] in _PPK_KDF:  # version 3, encrypted
        i += 1
    private = _ppk_lines(lines, i, "Private")
    if private is None or private[1] >= len(lines) or not lines[private[1]].startswith("Private-MAC: "):
        return REJECT
    mac = lines[private[1]][len("Private-MAC: ") :]
    normalized = "\n".join(lines[: private[1] + 1])
    if encryption == "none":
        if putty_mac(version, algorithm, encryption, comment, public[0], private[0]) != mac:
            return REJECT
        return Verdict(True, checksum=True, secret=normalized, structure=True)
    if len(private[0]) % 16:
        return REJECT  # AES-CBC ciphertext comes in whole blocks
    return Verdict(True, secret=normalized, structure=True)


_PPK_KDF = frozenset(
    {"Key-Derivation", "Argon2-Memory", "Argon2-Passes", "Argon2-Parallelism", "Argon2-Salt"}
)


def _jwt(secret: str, _: str) -> Verdict:
    """Not `structure`: anyone can encode such claims and only the issuer's key could verify them,
    so a comment calling the token fake still makes it low."""
    judged = judge_jwt(secret)
    return REJECT if judged is None else Verdict(True, low=judged.low, service=judged.service)


def _discord_snowflake(secret: str, _: str) -> Verdict:
    """A Discord bot token's first part is the bot's user id (a 17-20 digit snowflake) in base64."""
    raw = b64_any(secret.split(".", 1)[0])
    ok = raw is not None and raw.isdigit() and 17 <= len(raw) <= 20 and not raw.startswith(b"0")
    return ACCEPT if ok else REJECT


def _sentry_org(secret: str, _: str) -> Verdict:
    """sntrys_ + base64 JSON naming the organization and when it was issued + _ + secret."""
    doc = json_object(secret[len("sntrys_") :].rsplit("_", 1)[0])
    return PARSED if doc is not None and "iat" in doc and "org" in doc else REJECT


def _grafana_sa(secret: str, _: str) -> Verdict:
    """glsa_ + 32 + _ + CRC-32 (IEEE) of `glsa_<32>`, its little-endian bytes in hex."""
    head, _sep, check = secret.rpartition("_")
    return CHECKSUM if zlib.crc32(head.encode()).to_bytes(4, "little").hex() == check else REJECT


def _grafana_cloud(secret: str, _: str) -> Verdict:
    """glc_ + base64 JSON with the access policy's organization, name and key."""
    doc = json_object(secret[len("glc_") :])
    return PARSED if doc is not None and {"o", "n", "k"} <= doc.keys() else REJECT


def _mapbox_secret(secret: str, _: str) -> Verdict:
    """sk. + base64url JSON with the user (u) and the token id (a) + . + 22."""
    doc = json_object(secret.split(".")[1])
    return PARSED if doc is not None and {"u", "a"} <= doc.keys() else REJECT


def _age(secret: str, _: str) -> Verdict:
    return CHECKSUM if bech32_ok(secret) else REJECT


def _onepassword_sa(secret: str, _: str) -> Verdict:
    """ops_ + base64 JSON holding the service account's sign-in address and credentials."""
    doc = json_object(secret[len("ops_") :])
    return PARSED if doc is not None and "signInAddress" in doc else REJECT


def _qstash(secret: str, _: str) -> Verdict:
    """A QStash token is base64 of JSON with the account's UserID and Password."""
    doc = json_object(secret)
    return PARSED if doc is not None and {"UserID", "Password"} <= doc.keys() else REJECT


_PYPI_LOCATIONS = (b"pypi.org", b"test.pypi.org")


def _pypi(secret: str, _: str) -> Verdict:
    """Macaroon V2: version 2, field 1 (location) = pypi.org or test.pypi.org, then the identifier."""
    raw = b64_any(secret[5:])
    if raw is None or len(raw) < 4 or raw[0] != 2 or raw[1] != 1:
        return REJECT
    n = raw[2]
    loc, rest = raw[3 : 3 + n], raw[3 + n :]
    return PARSED if loc in _PYPI_LOCATIONS and rest[:1] == b"\x02" else REJECT


_DEFAULT_PASSWORDS = frozenset(
    [
        "password",
        "passwd",
        "pass",
        "secret",
        "changeme",
        "change_me",
        "postgres",
        "postgresql",
        "mysql",
        "root",
        "admin",
        "administrator",
        "example",
        "test",
        "testing",
        "guest",
        "user",
        "username",
        "pwd",
        "123456",
        "12345678",
        "1234",
        "qwerty",
        "letmein",
        "default",
        "dbpass",
        "db_password",
        "mypassword",
        "yourpassword",
        "your_password",
        "password123",
        "redis",
        "mongo",
        "mongodb",
        "rabbitmq",
        "guest",
        "sa",
        "dev",
        "development",
        "local",
        "localhost",
        "app",
    ]
)
_EXAMPLE_HOSTS = re.compile(
    r"^(?:localhost|127\.\d+\.\d+\.\d+|0\.0\.0\.0|\[?::1\]?|host\.docker\.internal|"
    r"(?:[\w-]+\.)*(?:example|test|invalid|localhost)(?:\.(?:com|org|net))?|db|database|postgres|mysql|"
    r"redis|mongo|mongodb|rabbitmq|host|hostname|server|your[\w-]*|\$\{?[\w]+\}?|<[^>]*>)$",
    re.I,
)
_URL = re.compile(
    r"^[a-z][a-z0-9+.-]*://(?P<user>[^:/?#@\s]*):(?P<pw>[^@\s]+)@(?P<host>[^:/?#\s]+)(?::\d+)?(?:/(?P<db>[^?#\s]*))?",
    re.I,
)
LOCAL_DEFAULT = (
    "a local default: the password repeats the user or database name and the host is a compose "
    "service name, as in a development docker-compose file"
)


def _db_url(secret: str, matched: str) -> Verdict:
    m = _URL.search(matched)
    if not m:
        return REJECT
    pw, host = m.group("pw"), m.group("host")
    if pw.lower() in _DEFAULT_PASSWORDS or _EXAMPLE_HOSTS.match(host):
        return REJECT
    if "{" in matched.split("@", 1)[0]:  # f-string / format / template fields: f"…://{user}:{pw}@…"
        return REJECT
    if len(set(pw)) < 4 or pw.startswith(("$", "%", "{", "<", "[")):  # `[YOUR-PASSWORD]`: a field
        return REJECT
    user, db = (m.group("user") or "").lower(), (m.group("db") or "").lower()
    if "." not in host and pw.lower() in (user, db):  # `postgres://shop:shop@db:5432/shop`
        return Verdict(True, low=LOCAL_DEFAULT)
    return ACCEPT


def _gcp_private_key(secret: str, matched: str) -> Verdict:
    return _pem(secret, matched)


VALIDATORS: dict[str, Validator] = {
    "github-crc32": _github,
    "npm-crc32": _github,
    "vercel-crc32": _vercel,
    "gitlab-routable": _gitlab_routable,
    "azure-cask": _cask,
    "bedrock-long": _bedrock_long,
    "bedrock-short": _bedrock_short,
    "pem": _pem,
    "gcp-private-key": _gcp_private_key,
    "jwt-service-role": _jwt_service_role,
    "jwt": _jwt,
    "putty-ppk": _putty,
    "pypi-macaroon": _pypi,
    "db-url": _db_url,
    "discord-snowflake": _discord_snowflake,
    "sentry-org-token": _sentry_org,
    "grafana-sa-crc32": _grafana_sa,
    "grafana-cloud-token": _grafana_cloud,
    "mapbox-secret": _mapbox_secret,
    "age-bech32": _age,
    "onepassword-sa": _onepassword_sa,
    "pgp-armor": _pgp,
    # the value alone; the engine judges the name around it (detect/slots.py)
    SLOT_VALIDATOR: lambda secret, _: ACCEPT if value_ok(secret) else REJECT,
    "qstash": _qstash,
}
