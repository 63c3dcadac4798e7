"""Issue 22, tier 3 (breadth): JSON Web Tokens of every issuer, and what the example matrix
cannot say by itself.

The issuer (`iss`) names the finding's provider; a token whose `exp` has passed at the scan's
wall-clock time is low, saying when; unsigned tokens, tokens with no identity claim or a
signature of the wrong size, Supabase's anon key and jwt.io's sample stay silent (and veto the
credential-slot detector). Tokens are built at run time; nothing token-shaped is stored here.
"""

from __future__ import annotations

import base64
import json
import random
import time

import pytest

from scanner.detect.jwt import expired_reason
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Location, Position, Severity, SourceKind
from scanner.rules.templates import expand
from tests.keys import found, matcher, rules

ENGINES = ("hyperscan", "python")
ISSUERS = ("auth0", "clerk", "firebase", "cognito", "azure", "okta", "supabase", "vercel", "turso")


def key(template: str, seed: int = 0) -> str:
    return expand(template, random.Random(f"breadth3:{template}:{seed}"))


def _enc(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def token(claims: dict[str, object], alg: str = "HS256", sig_bytes: int = 32, seed: int = 0) -> str:
    sig = base64.urlsafe_b64encode(random.Random(seed).randbytes(sig_bytes)).decode().rstrip("=")
    return f"{_enc({'alg': alg, 'typ': 'JWT'})}.{_enc(claims)}.{sig}"


def _findings(text: str, engine: str) -> list[tuple[str, str, Severity, str | None]]:
    loc = Location(SourceKind.DIRECTORY, "f", Position(1, 1, 1, 2, 0))
    hits = [Hit(x, loc, Exposure.REPOSITORY) for x in matcher(engine).scan(text.encode())]
    by_id = {r.id: r for r in rules()}
    return [(f.rule_id, f.provider, f.severity, f.severity_reason) for f in build_findings(hits, by_id)]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("issuer", ISSUERS)
def test_the_issuer_names_the_provider(engine: str, issuer: str) -> None:
    value = key(f"{{jwt:{issuer}}}")
    assert found(engine, f"SESSION_TOKEN={value}\n") == [("jwt.token", value)]
    assert _findings(f"SESSION_TOKEN={value}\n", engine) == [("jwt.token", issuer, Severity.HIGH, None)]


@pytest.mark.parametrize("engine", ENGINES)
def test_an_unknown_issuer_is_provider_jwt(engine: str) -> None:
    value = token({"iss": "https://auth.example.org", "sub": "u-81723", "exp": 4102444800})
    assert _findings(f"token: {value}\n", engine) == [("jwt.token", "jwt", Severity.HIGH, None)]


@pytest.mark.parametrize("engine", ENGINES)
def test_expiry_is_judged_at_the_scans_clock(engine: str) -> None:
    now = int(time.time())
    past = token({"sub": "u-1", "exp": now - 120}, seed=1)
    future = token({"sub": "u-1", "exp": now + 3600}, seed=2)
    ((rid, _, sev, reason),) = _findings(f"t = '{past}'\n", engine)
    assert (rid, sev) == ("jwt.token", Severity.LOW)
    assert reason is not None and time.strftime("%Y-%m-%d", time.gmtime(now - 120)) in reason
    assert _findings(f"t = '{future}'\n", engine) == [("jwt.token", "jwt", Severity.HIGH, None)]


def test_expired_reason_says_when_in_utc() -> None:
    reason = expired_reason(1609459200, now=1700000000)
    assert reason is not None and "2021-01-01 00:00 UTC" in reason
    assert expired_reason(1609459200, now=1600000000) is None
    assert expired_reason("1609459200", now=1700000000) is None  # not a NumericDate
    assert expired_reason(True, now=1700000000) is None


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("template", ["{jwt_anon}", "{jwt_none}", "{jwt_noid}", "{jwt_io}"])
def test_no_credential_shapes_are_silent_under_credential_names(engine: str, template: str) -> None:
    """Not jwt.token's, and no generic.credential either: the provider's checks veto the slot."""
    value = key(template)
    assert found(engine, f"AUTH_TOKEN={value}\n") == []
    assert found(engine, f'{{"access_token": "{value}"}}\n') == []


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("alg", "sig_bytes"), [("HS256", 20), ("HS256", 64), ("RS256", 100), ("ES256", 32), ("XY256", 32)]
)
def test_a_signature_of_the_wrong_size_is_no_token(engine: str, alg: str, sig_bytes: int) -> None:
    value = token({"sub": "user-42", "exp": 4102444800}, alg, sig_bytes)
    assert found(engine, f"AUTH_TOKEN={value}\n") == []


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("alg", "sig_bytes"), [("HS512", 64), ("RS256", 256), ("PS512", 512), ("ES384", 96)])
def test_every_jws_algorithm_with_its_signature_size(engine: str, alg: str, sig_bytes: int) -> None:
    value = token({"sub": "user-42", "exp": 4102444800}, alg, sig_bytes)
    assert found(engine, f"AUTH_TOKEN={value}\n") == [("jwt.token", value)]


@pytest.mark.parametrize("engine", ENGINES)
def test_supabase_service_role_stays_its_own_rule(engine: str) -> None:
    value = key("{supabase_service_jwt}")
    (m,) = matcher(engine).scan(f"SUPABASE_SERVICE_ROLE_KEY={value}\n".encode())
    assert (m.rule_id, m.also_matched) == ("supabase.service-role-key", ())


@pytest.mark.parametrize("engine", ENGINES)
def test_a_bearer_header_and_a_cookie_carry_tokens(engine: str) -> None:
    a, b = key("{jwt:auth0}", 1), key("{jwt:clerk}", 2)
    text = f"curl -H 'Authorization: Bearer {a}' -H 'Cookie: __session={b}; theme=dark' https://api\n"
    assert found(engine, text) == [("jwt.token", a), ("jwt.token", b)]


# --- PuTTY key files -----------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("template", ["{putty:2}", "{putty:3}", "{putty_enc:2}", "{putty_enc:3}"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_putty_key_files_in_both_formats_and_line_ends(engine: str, template: str, newline: str) -> None:
    value = key(template)
    (m,) = matcher(engine).scan(("# deploy key\n" + value.replace("\n", newline) + newline).encode())
    assert (m.rule_id, m.secret) == ("private-key.putty", value)  # normalized to LF


@pytest.mark.parametrize("engine", ENGINES)
def test_putty_key_json_escaped_is_one_key(engine: str) -> None:
    value = key("{putty:3}", 1)
    text = json.dumps({"name": "bastion", "ppk": value + "\n"})
    assert found(engine, text) == [("private-key.putty", value)]


@pytest.mark.parametrize("engine", ENGINES)
def test_putty_mac_and_line_counts_are_checked(engine: str) -> None:
    assert found(engine, key("{putty_bad:3}") + "\n") == []
    assert found(engine, key("{putty_bad:2}") + "\n") == []
    good = key("{putty:3}", 2)
    lines = good.split("\n")
    at = next(i for i, ln in enumerate(lines) if ln.startswith("Private-Lines: "))
    lines[at] = "Private-Lines: 9"
    assert found(engine, "\n".join(lines) + "\n") == []


def test_putty_mac_agrees_with_the_manuals_construction() -> None:
    """Version 3, unencrypted: HMAC-SHA-256 with an empty key over the five SSH strings (computed
    here independently of the scanner's code)."""
    import hashlib
    import hmac

    value = key("{putty:3}", 3)
    lines = value.split("\n")
    alg = lines[0].split(": ", 1)[1]
    comment = lines[2].split(": ", 1)[1]
    n_pub = int(lines[3].split(": ")[1])
    pub = base64.b64decode("".join(lines[4 : 4 + n_pub]))
    n_priv = int(lines[4 + n_pub].split(": ")[1])
    priv = base64.b64decode("".join(lines[5 + n_pub : 5 + n_pub + n_priv]))
    fields = [alg.encode(), b"none", comment.encode(), pub, priv]
    data = b"".join(len(x).to_bytes(4, "big") + x for x in fields)
    assert lines[-1] == "Private-MAC: " + hmac.new(b"", data, hashlib.sha256).hexdigest()


# --- Alibaba Cloud AccessKey pairs ----------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_alibaba_pair_is_critical_and_an_id_alone_low(engine: str) -> None:
    akid, secret = key("LTAI5t{alnum:18}"), key("{alnum:20}1aZ{alnum:7}")
    text = f"ALIBABA_CLOUD_ACCESS_KEY_ID={akid}\nALIBABA_CLOUD_ACCESS_KEY_SECRET={secret}\n"
    got = {(rid, sev) for rid, _, sev, _ in _findings(text, engine)}
    assert got == {
        ("alibaba.access-key-id", Severity.CRITICAL),
        ("alibaba.access-key-secret", Severity.CRITICAL),
    }
    ((rid, _, sev, reason),) = _findings(f"access_key_id: {akid}\n", engine)
    assert (rid, sev) == ("alibaba.access-key-id", Severity.LOW) and reason and "AccessKey secret" in reason


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "name", ["ALIYUN_ACCESS_KEY_SECRET", "access_key_secret", "accessKeySecret", "alibaba_cloud_secret"]
)
def test_alibaba_secret_under_its_names(engine: str, name: str) -> None:
    secret = key("{alnum:20}1aZ{alnum:7}", 4)
    assert [r for r, _ in found(engine, f'{name} = "{secret}"\n')] == ["alibaba.access-key-secret"]


@pytest.mark.parametrize("engine", ENGINES)
def test_ltai_inside_base64_is_no_key_id(engine: str) -> None:
    blob = key("{b64:40}/LTAI{alnum:14}+{b64:40}")
    assert [r for r, _ in found(engine, f"data = '{blob}'\n") if r.startswith("alibaba")] == []


# --- kinds a name gives away: client secrets and prefix-less tokens -------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("name", "template", "rule_id"),
    [
        ("AUTH_GITHUB_SECRET", "{hex:40}", "github.oauth-client-secret"),
        ("GITHUB_CLIENT_SECRET", "{hex:40}", "github.oauth-client-secret"),
        ("AUTH_DISCORD_SECRET", "{b64url:32}", "discord.oauth-client-secret"),
        ("OKTA_CLIENT_TOKEN", "00{b64url:40}", "okta.api-token"),
        ("RAILWAY_API_TOKEN", "{uuid4}", "railway.api-token"),
        ("NGROK_AUTHTOKEN", "2{alnum:26}_{alnum:21}", "ngrok.authtoken"),
    ],
)
def test_name_gated_kinds(engine: str, name: str, template: str, rule_id: str) -> None:
    value = key(template)
    assert found(engine, f"{name}={value}\n") == [(rule_id, value)]
    assert [r for r, _ in found(engine, f"REQUEST_ID={value}\n") if r == rule_id] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_ids_and_webhook_secrets_of_the_same_providers_are_not_these_kinds(engine: str) -> None:
    text = (
        f"GITHUB_WEBHOOK_SECRET={key('{hex:40}', 1)}\n"
        f"RAILWAY_PROJECT_ID={key('{uuid4}', 2)}\n"
        f"OKTA_CLIENT_ID=0oa{key('{alnum:17}', 3)}\n"
    )
    kinds = {"github.oauth-client-secret", "railway.api-token", "okta.api-token"}
    assert [r for r, _ in found(engine, text) if r in kinds] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_snowflake_sqlalchemy_url_with_a_password(engine: str) -> None:
    url = key("snowflake://etl_user:{alnum:20}@ab{digits:5}.eu-west-1/analytics")
    assert found(engine, f'engine = create_engine("{url}/public?warehouse=wh")\n') == [
        ("database.connection-url", url)
    ]
    assert found(engine, "SNOWFLAKE_URL=snowflake://user:<password>@account/db\n") == []
