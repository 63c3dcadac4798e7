"""The generator vocabulary of rule examples: fake keys are built at run time, never stored.

A template is literal text with `{name}` or `{name:arg}` fields; `{{` and `}}` are literal braces.
Random fields draw from a `random.Random` the caller seeds, so every test run builds the same keys.

Random fields (arg = length): alnum b62 hex HEX lower upper alpha digits base32 b64 b64url lowernum b58
uppernum base32lower.
Computed fields:
  {crc32_b62}        GitHub/npm checksum of the previous field (6 chars)
  {uuid4}            a random UUIDv4 (lowercase)
  {cask:SIG}         a whole Azure CASK key (84 chars) with provider signature SIG
  {cask_derived:SIG} a derived CASK key (JQQJ9D, base62 checksum); {cask_long:SIG} the 88-char long form
  {gitlab_routable:P} a whole routable GitLab token with prefix P
  {bedrock_long}     ABSK… long-term Bedrock key;  {bedrock_short}  bedrock-api-key-… short-term key
  {pem:LABEL}        a PEM block (LABEL e.g. "RSA PRIVATE KEY"); {pem_json:LABEL} the same, JSON-escaped
  {openssh}          an OpenSSH private key block
  {supabase_service_jwt}  a Supabase service-role JWT;  {supabase_anon_jwt}  the public anon JWT
  {pypi}             a pypi.org upload token
  {uuid4hex}         a UUIDv4 without dashes (32 hex)
  {gcp_sa_json}      a GCP service-account key file (one-line JSON, PKCS#8 key inside)
  {pem_enc:LABEL}    a legacy encrypted PEM block (RFC 1421 Proc-Type/DEK-Info headers)
  {discord_bot}      a Discord bot token (base64 snowflake . 6 . 38)
  {qstash}           an Upstash QStash token (base64 JSON {UserID, Password})
  {sentry_org}       a Sentry organization token (sntrys_ + base64 JSON + _ + 43)
  {grafana_sa}       a Grafana service-account token (glsa_ + 32 + _ + CRC-32, little-endian hex)
  {grafana_cloud}    a Grafana Cloud access-policy token (glc_ + base64 JSON)
  {mapbox_sk}        a Mapbox secret token (sk. + base64url JSON + . + 22); {mapbox_pk} the public one
  {age_secret}       an age X25519 identity (AGE-SECRET-KEY-1 + bech32 with its checksum)
  {onepassword_sa}   a 1Password service account token (ops_ + base64url JSON)
  {pgp_private}      an armored OpenPGP secret key (a header, 64-character lines, =CRC-24 line)
  {putty:V}          a PuTTY key file, format V (2 or 3), unencrypted, its Private-MAC computed;
                     {putty_enc:V} encrypted (aes256-cbc); {putty_json:V} JSON-escaped
  {jwt:ISSUER}       a signed user or session JWT of ISSUER (auth0, clerk, firebase, cognito, azure,
                     okta, supabase, vercel, turso, other), expiring in 2100; {jwt_expired:ISSUER}
                     the same, expired in 2021; {jwt_anon} Supabase's public anon role; {jwt_none}
                     an unsigned (alg none) token; {jwt_noid} a token with no identity claim;
                     {jwt_io} jwt.io's sample claims
Deliberately broken variants, for negative examples (one character off a valid value):
  {crc32_b62_bad}  {cask_bad:SIG}  {cask_derived_bad:SIG}  {cask_long_bad:SIG}  {gitlab_routable_bad:P}
  {grafana_sa_bad}  {age_secret_bad}  {pgp_private_bad}  {putty_bad:V}
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
import zlib
from collections.abc import Callable, Iterator

from scanner.detect.checksums import (
    B36,
    BECH32,
    bech32_checksum,
    cask_checksum,
    cask_derived_checksum,
    cask_long_tail,
    crc24,
    crc32_b62,
    gitlab_routable_crc,
    putty_mac,
)

ALPHABETS = {
    "alnum": string.ascii_letters + string.digits,
    "b62": string.digits + string.ascii_uppercase + string.ascii_lowercase,
    "hex": "0123456789abcdef",
    "HEX": "0123456789ABCDEF",
    "lower": string.ascii_lowercase,
    "upper": string.ascii_uppercase,
    "alpha": string.ascii_letters,
    "digits": string.digits,
    "base32": string.ascii_uppercase + "234567",
    "b64": string.ascii_letters + string.digits + "+/",
    "b64url": string.ascii_letters + string.digits + "_-",
    "lowernum": string.ascii_lowercase + string.digits,
    "b58": "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    "uppernum": string.ascii_uppercase + string.digits,
    "base32lower": string.ascii_lowercase + "234567",
}

_FIELD = re.compile(r"\{\{|\}\}|\{([a-zA-Z_0-9]+)(?::([^}]*))?\}")


class TemplateError(ValueError):
    """A template names an unknown field or has a bad argument."""


def _rand(r: random.Random, alphabet: str, n: int) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


def _uuid4(r: random.Random) -> str:
    h = _rand(r, ALPHABETS["hex"], 32)
    h = h[:12] + "4" + h[13:16] + r.choice("89ab") + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _cask(r: random.Random, sig: str) -> str:
    a = ALPHABETS["alnum"]
    while True:
        key = _cask_once(r, sig, a)
        if key.isalnum():
            return key


def _cask_once(r: random.Random, sig: str, a: str, form: str = "") -> str:
    kind = "D" if form == "derived" else "9"
    head = _rand(r, a, 52) + "JQQJ9" + kind + r.choice(a) + r.choice("ABCDEFGHIJKL") + _rand(r, a, 16)
    head += sig or "ACOG"
    if form == "derived":
        return head + cask_derived_checksum(head)
    if form == "long":
        return head + cask_long_tail(head)
    return head + cask_checksum(head)


def _cask_form(r: random.Random, sig: str, form: str) -> str:
    a = ALPHABETS["alnum"]
    while True:
        key = _cask_once(r, sig, a, form)
        if key.rstrip("=").isalnum():
            return key


def _gitlab_routable(r: random.Random, prefix: str) -> str:
    payload = b"c:1\no:" + _rand(r, B36, 6).encode() + b"\nu:" + _rand(r, B36, 5).encode()
    body = base64.urlsafe_b64encode(r.randbytes(16) + payload + bytes([len(payload)])).decode().rstrip("=")
    blen = ""
    n = len(body)
    while n:
        n, d = divmod(n, 36)
        blen = B36[d] + blen
    text = f"{prefix}{body}.01.{blen.rjust(2, '0')}"
    return text + gitlab_routable_crc(text)


def _bedrock_long(r: random.Random) -> str:
    payload = f"BedrockAPIKey-{_rand(r, ALPHABETS['alnum'], 4)}-at-{_rand(r, ALPHABETS['digits'], 12)}:"
    payload += _rand(r, ALPHABETS["b64"], 60)
    return "ABSK" + base64.b64encode(payload.encode()).decode()


def _bedrock_short(r: random.Random) -> str:
    akid = "ASIA" + _rand(r, ALPHABETS["base32"], 16)
    url = (
        "bedrock.amazonaws.com/?Action=CallWithBearerToken&X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Credential={akid}%2F20260101%2Fus-east-1%2Fbedrock%2Faws4_request"
        f"&X-Amz-Date=20260101T000000Z&X-Amz-Expires=43200&X-Amz-Security-Token={_rand(r, ALPHABETS['alnum'], 60)}"
        f"&X-Amz-Signature={_rand(r, ALPHABETS['hex'], 64)}&X-Amz-SignedHeaders=host&Version=1"
    )
    return "bedrock-api-key-" + base64.b64encode(url.encode()).decode()


def _der(r: random.Random, size: int) -> bytes:
    body = b"\x02\x01\x00" + r.randbytes(size - 3)
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


def pem_block(r: random.Random, label: str, size: int = 1190, newline: str = "\n") -> str:
    b64 = base64.b64encode(_der(r, size)).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return newline.join([f"-----BEGIN {label}-----", *lines, f"-----END {label}-----"])


def _openssh(r: random.Random) -> str:
    raw = b"openssh-key-v1\x00" + b"\x00\x00\x00\x04none\x00\x00\x00\x04none\x00\x00\x00\x00\x00\x00\x00\x01"
    raw += r.randbytes(360)
    b64 = base64.b64encode(raw).decode()
    lines = [b64[i : i + 70] for i in range(0, len(b64), 70)]
    return "\n".join(["-----BEGIN OPENSSH PRIVATE KEY-----", *lines, "-----END OPENSSH PRIVATE KEY-----"])


def _pem_enc(r: random.Random, label: str) -> str:
    b64 = base64.b64encode(_der(r, 1190)).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    head = ["Proc-Type: 4,ENCRYPTED", f"DEK-Info: AES-128-CBC,{_rand(r, ALPHABETS['HEX'], 32)}", ""]
    return "\n".join([f"-----BEGIN {label}-----", *head, *lines, f"-----END {label}-----"])


def _gcp_sa_json(r: random.Random) -> str:
    project = f"{_rand(r, ALPHABETS['lower'], 8)}-{_rand(r, ALPHABETS['digits'], 6)}"
    email = f"{_rand(r, ALPHABETS['lower'], 10)}@{project}.iam.gserviceaccount.com"
    doc = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": _rand(r, ALPHABETS["hex"], 40),
        "private_key": pem_block(r, "PRIVATE KEY", 1216) + "\n",
        "client_email": email,
        "client_id": _rand(r, ALPHABETS["digits"], 21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    return json.dumps(doc)


def _off_by_one(r: random.Random, value: str, alphabet: str) -> str:
    """`value` with its last character replaced by another one of `alphabet`."""
    return value[:-1] + r.choice([c for c in alphabet if c != value[-1]])


def _bad_long(r: random.Random, key: str) -> str:
    """A long-form CASK key with one checksum character (before the `==`) changed."""
    i = len(key) - 3
    return key[:i] + r.choice([c for c in ALPHABETS["alnum"] if c != key[i]]) + key[i + 1 :]


def _b64url_json(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _supabase_service_jwt(r: random.Random, role: str = "service_role") -> str:
    head = _b64url_json({"alg": "HS256", "typ": "JWT"})
    iat = 1700000000 + r.randrange(10**7)
    body = _b64url_json(
        {
            "iss": "supabase",
            "ref": _rand(r, ALPHABETS["lower"], 20),
            "role": role,
            "iat": iat,
            "exp": iat + 10**9,
        }
    )
    return f"{head}.{body}.{_rand(r, ALPHABETS['b64url'], 43)}"


def _pypi(r: random.Random) -> str:
    ident = _uuid4(r).encode()
    caveat = json.dumps({"version": 1, "permissions": "user"}).encode()
    raw = (
        b"\x02\x01\x08pypi.org\x02"
        + bytes([len(ident)])
        + ident
        + b"\x00\x02"
        + bytes([len(caveat)])
        + caveat
    )
    raw += b"\x00\x00\x06\x20" + r.randbytes(32)
    return "pypi-" + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _discord_bot(r: random.Random) -> str:
    snowflake = str(r.randrange(10**17, 10**19)).encode()
    head = base64.urlsafe_b64encode(snowflake).decode().rstrip("=")
    return f"{head}.{_rand(r, ALPHABETS['b64url'], 6)}.{_rand(r, ALPHABETS['b64url'], 38)}"


def _sentry_org(r: random.Random) -> str:
    payload = {
        "iat": 1700000000 + r.randrange(10**8),
        "url": "https://sentry.io",
        "region_url": "https://us.sentry.io",
        "org": _rand(r, ALPHABETS["lower"], 8),
    }
    body = base64.b64encode(json.dumps(payload).encode()).decode()
    return f"sntrys_{body}_{base64.b64encode(r.randbytes(32)).decode().rstrip('=')}"


def _grafana_sa(r: random.Random) -> str:
    head = "glsa_" + _rand(r, ALPHABETS["alnum"], 32)
    return f"{head}_{zlib.crc32(head.encode()).to_bytes(4, 'little').hex()}"


def _grafana_cloud(r: random.Random) -> str:
    doc = {
        "o": str(r.randrange(10**5, 10**7)),
        "n": f"{_rand(r, ALPHABETS['lower'], 6)}-token",
        "k": _rand(r, ALPHABETS["alnum"], 24),
        "m": {"r": "prod-us-east-0"},
    }
    return "glc_" + base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def _mapbox(r: random.Random, kind: str) -> str:
    body = _b64url_json({"u": _rand(r, ALPHABETS["lower"], 9), "a": _rand(r, ALPHABETS["lowernum"], 25)})
    return f"{kind}.{body}.{_rand(r, ALPHABETS['b64url'], 22)}"


def _qstash(r: random.Random) -> str:
    doc = {"UserID": _uuid4(r), "Password": _rand(r, ALPHABETS["hex"], 32)}
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()


def _age_secret(r: random.Random) -> str:
    data = _rand(r, BECH32, 52)
    return ("AGE-SECRET-KEY-1" + data + bech32_checksum("age-secret-key-", data)).upper()


def _onepassword_sa(r: random.Random) -> str:
    doc = {
        "signInAddress": "my.1password.com",
        "userAuth": {
            "method": "SRPg-4096",
            "alg": "PBES2g-HS256",
            "iterations": 650000,
            "salt": _rand(r, ALPHABETS["b64url"], 22),
        },
        "email": f"{_rand(r, ALPHABETS['lowernum'], 13)}@1passwordserviceaccounts.com",
        "srpX": _rand(r, ALPHABETS["hex"], 64),
        "muk": {"alg": "A256GCM", "ext": True, "k": _rand(r, ALPHABETS["b64url"], 43), "kty": "oct"},
        "secretKey": f"A3-{_rand(r, ALPHABETS['uppernum'], 6)}-{_rand(r, ALPHABETS['uppernum'], 6)}",
        "deviceUuid": _rand(r, ALPHABETS["lowernum"], 26),
    }
    return "ops_" + _b64url_json(doc)


def _pgp_private(r: random.Random, bad: bool = False) -> str:
    body = b"\x04" + r.randbytes(4) + b"\x16" + r.randbytes(467)  # v4, creation time, EdDSA, key material
    raw = b"\x95" + len(body).to_bytes(2, "big") + body  # old-format Secret-Key packet, 2-octet length
    crc = crc24(raw) ^ (1 if bad else 0)
    b64 = base64.b64encode(raw).decode()
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    armor = ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "Comment: test fixture", "", *lines]
    armor += ["=" + base64.b64encode(crc.to_bytes(3, "big")).decode(), "-----END PGP PRIVATE KEY BLOCK-----"]
    return "\n".join(armor)


def _putty(r: random.Random, version: int = 3, encrypted: bool = False, bad: bool = False) -> str:
    """A PuTTY key file (PuTTY manual, appendix C) of an Ed25519 key, its MAC computed."""
    alg, comment = "ssh-ed25519", f"eddsa-key-2024{r.randrange(1, 13):02d}{r.randrange(1, 29):02d}"
    public = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + r.randbytes(32)
    private = r.randbytes(48 if encrypted else 36)
    enc = "aes256-cbc" if encrypted else "none"
    mac = putty_mac(version, alg, enc, comment, public, private) if not encrypted else r.randbytes(32).hex()
    if bad:
        mac = mac[:-1] + ("0" if mac[-1] != "0" else "1")

    def block(raw: bytes) -> list[str]:
        b64 = base64.b64encode(raw).decode()
        return [b64[i : i + 64] for i in range(0, len(b64), 64)]

    pub, priv = block(public), block(private)
    kdf = []
    if encrypted and version == 3:
        kdf = [
            "Key-Derivation: Argon2id",
            "Argon2-Memory: 8192",
            "Argon2-Passes: 21",
            "Argon2-Parallelism: 1",
        ]
        kdf.append(f"Argon2-Salt: {r.randbytes(16).hex()}")
    head = [f"PuTTY-User-Key-File-{version}: {alg}", f"Encryption: {enc}", f"Comment: {comment}"]
    return "\n".join(
        [
            *head,
            f"Public-Lines: {len(pub)}",
            *pub,
            *kdf,
            f"Private-Lines: {len(priv)}",
            *priv,
            f"Private-MAC: {mac}",
        ]
    )


_JWT_LIVE, _JWT_EXPIRED = 4102444800, 1609459200  # 2100-01-01 and 2021-01-01 UTC


def _jwt_claims(r: random.Random, issuer: str) -> tuple[str, dict[str, object]]:
    """(alg, claims) of a token the issuer's documentation describes."""
    sub = _rand(r, ALPHABETS["alnum"], 24)
    name = _rand(r, ALPHABETS["lower"], 8)
    if issuer == "auth0":
        return "RS256", {"iss": f"https://{name}.us.auth0.com/", "sub": f"auth0|{_rand(r, ALPHABETS['hex'], 24)}",
                         "aud": f"https://api.{name}.com", "scope": "openid profile"}  # fmt: skip
    if issuer == "clerk":
        return "RS256", {"azp": f"https://{name}.com", "iss": f"https://{name}-{_rand(r, ALPHABETS['lower'], 5)}"
                         "-12.clerk.accounts.dev", "sid": f"sess_{sub}", "sub": f"user_{sub}", "v": 2}  # fmt: skip
    if issuer == "firebase":
        return "RS256", {"iss": f"https://securetoken.google.com/{name}-app", "aud": f"{name}-app",
                         "user_id": sub[:28], "sub": sub[:28], "email": f"{name}@example.com"}  # fmt: skip
    if issuer == "cognito":
        return "RS256", {"sub": _uuid4(r), "iss": f"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_{sub[:9]}",
                         "client_id": _rand(r, ALPHABETS["lowernum"], 26), "token_use": "access"}  # fmt: skip
    if issuer == "azure":
        return "RS256", {"aud": "00000003-0000-0000-c000-000000000000", "iss": f"https://sts.windows.net/{_uuid4(r)}/",
                         "oid": _uuid4(r), "appid": _uuid4(r), "upn": f"{name}@contoso.com"}  # fmt: skip
    if issuer == "okta":
        return "RS256", {"ver": 1, "iss": f"https://{name}.okta.com/oauth2/default", "cid": f"0oa{sub[:17]}",
                         "uid": f"00u{sub[:17]}", "sub": f"{name}@example.com"}  # fmt: skip
    if issuer == "supabase":
        ref = _rand(r, ALPHABETS["lower"], 20)
        return "HS256", {"iss": f"https://{ref}.supabase.co/auth/v1", "sub": _uuid4(r), "role": "authenticated",
                         "aal": "aal1", "session_id": _uuid4(r)}  # fmt: skip
    if issuer == "vercel":
        return "RS256", {"iss": f"https://oidc.vercel.com/{name}", "sub": f"owner:{name}:project:{name}-web:"
                         "environment:production", "owner_id": f"team_{sub}", "project_id": f"prj_{sub}"}  # fmt: skip
    if issuer == "turso":
        return "EdDSA", {"a": "rw", "id": _uuid4(r)}
    return "HS256", {"sub": str(r.randrange(10**6, 10**9)), "user_id": sub, "type": "access"}


def _jwt(r: random.Random, issuer: str, exp: int | None = _JWT_LIVE, alg: str | None = None) -> str:
    sig_alg, claims = _jwt_claims(r, issuer or "other")
    iat = exp - 3600 if exp is not None and exp < _JWT_LIVE else 1700000000 + r.randrange(10**7)
    claims = {**claims, "iat": iat}
    if exp is not None:
        claims["exp"] = exp
    head = _b64url_json({"alg": alg or sig_alg, "typ": "JWT"})
    sig = {"RS256": 256, "EdDSA": 64}.get(sig_alg, 32)
    return f"{head}.{_b64url_json(claims)}.{base64.urlsafe_b64encode(r.randbytes(sig)).decode().rstrip('=')}"


def _jwt_other(r: random.Random, claims: dict[str, object], alg: str = "HS256") -> str:
    sig = "" if alg == "none" else base64.urlsafe_b64encode(r.randbytes(32)).decode().rstrip("=")
    return f"{_b64url_json({'alg': alg, 'typ': 'JWT'})}.{_b64url_json(claims)}.{sig}"


# computed fields: (rng, argument, value of the previous field) -> text
_Computed = Callable[[random.Random, str, str], str]
COMPUTED: dict[str, _Computed] = {
    "crc32_b62": lambda r, a, last: crc32_b62(last),
    "crc32_b62_bad": lambda r, a, last: _off_by_one(r, crc32_b62(last), ALPHABETS["b62"]),
    "uuid4": lambda r, a, last: _uuid4(r),
    "uuid4hex": lambda r, a, last: _uuid4(r).replace("-", ""),
    "cask": lambda r, a, last: _cask(r, a),
    "cask_bad": lambda r, a, last: _off_by_one(r, _cask(r, a), ALPHABETS["alnum"]),
    "cask_derived": lambda r, a, last: _cask_form(r, a, "derived"),
    "cask_derived_bad": lambda r, a, last: _off_by_one(r, _cask_form(r, a, "derived"), ALPHABETS["alnum"]),
    "cask_long": lambda r, a, last: _cask_form(r, a, "long"),
    "cask_long_bad": lambda r, a, last: _bad_long(r, _cask_form(r, a, "long")),
    "gitlab_routable": lambda r, a, last: _gitlab_routable(r, a or "glpat-"),
    "gitlab_routable_bad": lambda r, a, last: _off_by_one(r, _gitlab_routable(r, a or "glpat-"), B36),
    "gcp_sa_json": lambda r, a, last: _gcp_sa_json(r),
    "pem": lambda r, a, last: pem_block(r, a or "PRIVATE KEY"),
    "pem_json": lambda r, a, last: json.dumps(pem_block(r, a or "PRIVATE KEY") + "\n")[1:-1],
    "pem_enc": lambda r, a, last: _pem_enc(r, a or "RSA PRIVATE KEY"),
    "openssh": lambda r, a, last: _openssh(r),
    "bedrock_long": lambda r, a, last: _bedrock_long(r),
    "bedrock_short": lambda r, a, last: _bedrock_short(r),
    "supabase_service_jwt": lambda r, a, last: _supabase_service_jwt(r),
    "supabase_anon_jwt": lambda r, a, last: _supabase_service_jwt(r, "anon"),
    "pypi": lambda r, a, last: _pypi(r),
    "discord_bot": lambda r, a, last: _discord_bot(r),
    "sentry_org": lambda r, a, last: _sentry_org(r),
    "grafana_sa": lambda r, a, last: _grafana_sa(r),
    "grafana_sa_bad": lambda r, a, last: _off_by_one(r, _grafana_sa(r), ALPHABETS["hex"]),
    "grafana_cloud": lambda r, a, last: _grafana_cloud(r),
    "mapbox_sk": lambda r, a, last: _mapbox(r, "sk"),
    "qstash": lambda r, a, last: _qstash(r),
    "mapbox_pk": lambda r, a, last: _mapbox(r, "pk"),
    "age_secret": lambda r, a, last: _age_secret(r),
    "age_secret_bad": lambda r, a, last: _off_by_one(r, _age_secret(r), BECH32.upper()),
    "onepassword_sa": lambda r, a, last: _onepassword_sa(r),
    "pgp_private": lambda r, a, last: _pgp_private(r),
    "pgp_private_json": lambda r, a, last: json.dumps(_pgp_private(r) + "\n")[1:-1],
    "pgp_private_bad": lambda r, a, last: _pgp_private(r, bad=True),
    "putty": lambda r, a, last: _putty(r, int(a or 3)),
    "putty_enc": lambda r, a, last: _putty(r, int(a or 3), encrypted=True),
    "putty_bad": lambda r, a, last: _putty(r, int(a or 3), bad=True),
    "putty_json": lambda r, a, last: json.dumps(_putty(r, int(a or 3)) + "\n")[1:-1],
    "jwt": lambda r, a, last: _jwt(r, a),
    "jwt_expired": lambda r, a, last: _jwt(r, a, _JWT_EXPIRED),
    "jwt_anon": lambda r, a, last: _supabase_service_jwt(r, "anon"),
    "jwt_none": lambda r, a, last: (
        _jwt_other(r, {"sub": _uuid4(r), "exp": _JWT_LIVE}, "none") + _rand(r, ALPHABETS["b64url"], 43)
    ),
    "jwt_noid": lambda r, a, last: _jwt_other(
        r, {"iat": 1700000000, "exp": _JWT_LIVE, "data": _rand(r, ALPHABETS["alnum"], 16)}
    ),
    "jwt_io": lambda r, a, last: _jwt_other(r, {"sub": "1234567890", "name": "John Doe", "iat": 1516239022}),
}


def _fields(template: str) -> Iterator[tuple[re.Match[str], str, str]]:
    """Each field of `template` (braces escaped as `{{`/`}}` excluded), validated by name."""
    for m in _FIELD.finditer(template):
        if m.group(1) is None:
            continue
        name, arg = m.group(1), m.group(2) or ""
        if name in ALPHABETS:
            if not arg.isdigit():
                raise TemplateError(f"field {{{name}}} needs a length")
        elif name not in COMPUTED:
            raise TemplateError(f"unknown template field {{{name}}}")
        yield m, name, arg


def expand(template: str, r: random.Random) -> str:
    """Build one concrete string from `template`, drawing randomness from `r`."""
    out: list[str] = []
    last = ""
    pos = 0
    for m, name, arg in _fields(template):
        out.append(_unbrace(template[pos : m.start()]))
        last = _rand(r, ALPHABETS[name], int(arg)) if name in ALPHABETS else COMPUTED[name](r, arg, last)
        out.append(last)
        pos = m.end()
    out.append(_unbrace(template[pos:]))
    return "".join(out)


def _unbrace(text: str) -> str:
    return text.replace("{{", "{").replace("}}", "}")


def check(template: str) -> None:
    """Raise TemplateError when `template` names an unknown field (cheap: used at rule load)."""
    for _ in _fields(template):
        pass
