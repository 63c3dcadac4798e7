"""Offline validators: checksums accept generated keys and reject every one-character edit.

Known-answer vectors come from public references (no key is stored): the Marvin test vectors
that .NET and microsoft/security-utilities share (taken from skeeto/marvin32), the CRC-32 check
value, and the layout rules of microsoft/security-utilities `IdentifiableSecrets.cs` /
`CommonAnnotatedKey.cs` and gitlabhq `routable_token.rb`.
"""

from __future__ import annotations

import base64
import json
import random
import zlib

import pytest

from scanner.detect.checksums import (
    B36,
    B62,
    CASK_SEED,
    cask_checksum,
    cask_ok,
    crc32_b62,
    github_style_ok,
    gitlab_routable_crc,
    gitlab_routable_ok,
    marvin32,
    marvin64,
)
from scanner.detect.validators import VALIDATORS, normalize_pem
from scanner.rules.templates import ALPHABETS, expand, pem_block

# --- Marvin32 --------------------------------------------------------------------------------------

SEED0, SEED1, SEED2 = 0x004FB61A001BDBCC, 0x804FB61A001BDBCC, 0x804FB61A801BDBCC
MARVIN_VECTORS = [
    (SEED0, b"", 0x30ED35C100CD3C7D),
    (SEED0, b"\xaf", 0x48E73FC77D75DDC1),
    (SEED0, b"\xe7\x0f", 0xB5F6E1FC485DBFF8),
    (SEED0, b"\x37\xf4\x95", 0xF0B07C789B8CF7E8),
    (SEED0, b"\x86\x42\xdc\x59", 0x7008F2E87E9CF556),
    (SEED0, b"\x15\x3f\xb7\x98\x26", 0xE6C08C6DA2AFA997),
    (SEED0, b"\x09\x32\xe6\x24\x6c\x47", 0x6F04BF1A5EA24060),
    (SEED0, b"\xab\x42\x7e\xa8\xd1\x0f\xc7", 0xE11847E4F0678C41),
    (SEED1, b"", 0x10A9D5D3996FD65D),
    (SEED1, b"\xaf", 0x68201F91960EBF91),
    (SEED1, b"\xe7\x0f", 0x64B581631F6AB378),
    (SEED1, b"\x37\xf4\x95", 0xE1F2DFA6E5131408),
    (SEED1, b"\x86\x42\xdc\x59", 0x36289D9654FB49F6),
    (SEED1, b"\x15\x3f\xb7\x98\x26", 0x0A06114B13464DBD),
    (SEED1, b"\x09\x32\xe6\x24\x6c\x47", 0xD6DD5E40AD1BC2ED),
    (SEED1, b"\xab\x42\x7e\xa8\xd1\x0f\xc7", 0xE203987DBA252FB3),
    (SEED2, b"\x00", 0xA37FB0DA2ECAE06C),
    (SEED2, b"\xff", 0xFECEF370701AE054),
    (SEED2, b"\x00\xff", 0xA638E75700048880),
    (SEED2, b"\xff\x00", 0xBDFB46D969730E2A),
    (SEED2, b"\xff\x00\xff", 0x9D8577C0FE0D30BF),
    (SEED2, b"\x00\xff\x00", 0x4F9FBDDE15099497),
    (SEED2, b"\x00\xff\x00\xff", 0x24EAA279D9A529CA),
    (SEED2, b"\xff\x00\xff\x00", 0xD3BEC7726B057943),
    (SEED2, b"\xff\x00\xff\x00\xff", 0x920B62BBCA3E0B72),
    (SEED2, b"\x00\xff\x00\xff\x00", 0x1D7DDF9DFDF3C1BF),
    (SEED2, b"\x00\xff\x00\xff\x00\xff", 0xEC21276A17E821A5),
    (SEED2, b"\xff\x00\xff\x00\xff\x00", 0x6911A53CA8C12254),
    (SEED2, b"\xff\x00\xff\x00\xff\x00\xff", 0xFDFD187B1D3CE784),
    (SEED2, b"\x00\xff\x00\xff\x00\xff\x00", 0x71876F2EFB1B0EE8),
    # microsoft/security-utilities TypeScript tests ("basic", "longer")
    (0xD53CD9CECD0893B7, b"abc", 0x22C74339492769BF),
    (0x0DDDDEEEEFFFF000, b"abcdefghijklmnopqrstuvwxyz", 0xA128EB7E7260ACA2),
]


@pytest.mark.parametrize(("seed", "data", "want"), MARVIN_VECTORS)
def test_marvin_known_vectors(seed: int, data: bytes, want: int) -> None:
    assert marvin64(data, seed) == want
    assert marvin32(data, seed) == (want >> 32) ^ (want & 0xFFFFFFFF)


def test_marvin32_collapsed_known_vector() -> None:
    # security-utilities TypeScript test "basic": checksum32 0x6be02a86
    assert marvin32(b"abc", 0xD53CD9CECD0893B7) == 0x6BE02A86


def test_marvin_handles_every_tail_length() -> None:
    data = bytes(range(1, 40))
    seen = {marvin64(data[:n], SEED0) for n in range(len(data))}
    assert len(seen) == len(data)  # no two prefixes collide: every tail branch mixes its bytes


# --- Azure CASK ---------------------------------------------------------------------------------------


def test_cask_seed_is_default0_reversed() -> None:
    # ComputeHisV1ChecksumSeed("Default0"): ASCII bytes reversed, read as a little-endian uint64
    assert CASK_SEED == int.from_bytes(b"0tluafeD", "little") == 0x44656661756C7430


def _cask_keys(n: int = 20) -> list[str]:
    r = random.Random(11)
    return [expand("{cask:ACOG}", r) for _ in range(n)] + [expand("{cask:AWPS}", r) for _ in range(5)]


def test_cask_accepts_generated_keys() -> None:
    for key in _cask_keys():
        assert len(key) == 84 and key.isalnum() and key[52:58] == "JQQJ99"
        assert cask_ok(key)
        assert VALIDATORS["azure-cask"](key, key).checksum


def test_cask_checksum_is_marvin_of_the_decoded_first_80_chars() -> None:
    for key in _cask_keys(5):
        h = marvin32(base64.b64decode(key[:80]), CASK_SEED)
        assert key[80:] == base64.b64encode(h.to_bytes(4, "little")[:3]).decode()
        assert cask_checksum(key[:80]) == key[80:]


def test_cask_rejects_every_one_character_edit() -> None:
    alnum = ALPHABETS["alnum"]
    for key in _cask_keys(4):
        for i in range(84):
            c = alnum[(alnum.index(key[i]) + 17) % len(alnum)]
            edited = key[:i] + c + key[i + 1 :]
            assert not cask_ok(edited), i
    assert not cask_ok(_cask_keys(1)[0][:83])
    assert not cask_ok(_cask_keys(1)[0] + "A")


# --- GitHub / npm ------------------------------------------------------------------------------------------


def _b62(n: int, width: int) -> str:
    out = ""
    while n:
        n, d = divmod(n, 62)
        out = B62[d] + out
    return out.rjust(width, "0")


def test_crc32_b62_known_value() -> None:
    assert zlib.crc32(b"123456789") == 0xCBF43926  # the CRC-32 check value
    assert crc32_b62("123456789") == _b62(0xCBF43926, 6)
    assert crc32_b62("0" * 30) == _b62(zlib.crc32(b"0" * 30), 6)
    assert B62 == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@pytest.mark.parametrize("prefix", ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "npm_"])
def test_github_style_checksum(prefix: str) -> None:
    r = random.Random(prefix)
    validator = VALIDATORS["npm-crc32" if prefix == "npm_" else "github-crc32"]
    for _ in range(10):
        token = expand(prefix + "{b62:30}{crc32_b62}", r)
        assert len(token) == 40
        assert github_style_ok(token, prefix)
        assert validator(token, token).checksum
        for i in range(len(prefix), 40):
            c = B62[(B62.index(token[i]) + 1) % 62]
            assert not validator(token[:i] + c + token[i + 1 :], token).ok, i
        assert not validator(token[:-1], token).ok


# --- GitLab routable --------------------------------------------------------------------------------------


def _routable(prefix: str, payload: bytes, random_bytes: bytes, version: bool = True) -> str:
    """routable_token.rb, step by step: body, version, base36 length, base36 CRC-32 of all before it."""
    body = base64.urlsafe_b64encode(random_bytes + payload + bytes([len(payload)])).decode().rstrip("=")
    blen = ""
    n = len(body)
    while n:
        n, d = divmod(n, 36)
        blen = B36[d] + blen
    text = f"{prefix}{body}." + ("01." if version else "") + blen.rjust(2, "0")
    crc = zlib.crc32(text.encode())
    digits = ""
    while crc:
        crc, d = divmod(crc, 36)
        digits = B36[d] + digits
    return text + digits.rjust(7, "0")


def test_gitlab_routable_matches_the_reference_layout() -> None:
    token = _routable("glpat-", b"o:1", b"a" * 16)  # the gitlab spec's random bytes and payload
    assert token.startswith("glpat-YWFhYWFhYWFhYWFhYWFhYW86MQM.01.")
    assert gitlab_routable_crc(token[:-7]) == token[-7:]
    assert gitlab_routable_ok(token)
    assert VALIDATORS["gitlab-routable"](token, token).checksum


@pytest.mark.parametrize("version", [True, False], ids=["versioned", "unversioned"])
def test_gitlab_routable_accepts_and_rejects_edits(version: bool) -> None:
    r = random.Random(4)
    validate = VALIDATORS["gitlab-routable"]
    for prefix in ("glpat-", "glrt-", "gldt-"):
        token = _routable(
            prefix, b"c:1\no:" + r.choice([b"2s", b"abc"]) + b"\nu:7f", r.randbytes(16), version
        )
        assert validate(token, token).checksum, token
        for i in range(len(prefix), len(token)):
            alphabet = B36 if i >= len(token) - 7 else ALPHABETS["b64url"] + "."
            c = alphabet[(alphabet.index(token[i]) + 5) % len(alphabet)] if token[i] in alphabet else "x"
            assert not validate(token[:i] + c + token[i + 1 :], token).ok, (prefix, i)


def test_gitlab_routable_length_field_checked() -> None:
    token = _routable("glpat-", b"o:1", b"b" * 16)
    body_len = token[token.index(".01.") + 4 : token.index(".01.") + 6]
    wrong = "0" + B36[(B36.index(body_len[1]) + 1) % 36] if body_len[0] == "0" else body_len[::-1]
    text = token[: token.index(".01.") + 4] + wrong
    forged = text + gitlab_routable_crc(text)  # a valid CRC over a wrong length field
    assert gitlab_routable_ok(forged)
    assert not VALIDATORS["gitlab-routable"](forged, forged).ok


# --- structural validators ----------------------------------------------------------------------------------


def test_pem_normalizes_every_written_form() -> None:
    block = pem_block(random.Random(1), "RSA PRIVATE KEY")
    want, raw = normalize_pem(block) or ("", b"")
    assert want == block and raw[0] == 0x30
    for written in (
        block.replace("\n", "\r\n"),
        block.replace("\n", "\\n"),
        block.replace("\n", "\\\\n"),
        block.replace("\n", "\n      "),
        "\n".join(ln for ln in block.split("\n")),
    ):
        v = VALIDATORS["pem"](written, written)
        assert v.ok and v.secret == want


def test_pem_drops_legacy_encryption_headers() -> None:
    r = random.Random(2)
    enc = expand("{pem_enc:RSA PRIVATE KEY}", r)
    v = VALIDATORS["pem"](enc, enc)
    assert v.ok and v.secret is not None
    assert "Proc-Type" not in v.secret and v.secret.startswith("-----BEGIN RSA PRIVATE KEY-----\nMII")


def test_pem_rejects_non_der_bodies() -> None:
    r = random.Random(3)
    block = pem_block(r, "PRIVATE KEY")
    lines = block.split("\n")
    truncated = "\n".join([*lines[:5], lines[-1]])
    assert not VALIDATORS["pem"](truncated, truncated).ok
    assert not VALIDATORS["pem"]("-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----", "").ok
    ssh = expand("{openssh}", r)
    assert VALIDATORS["pem"](ssh, ssh).ok
    broken = ssh.replace("b3BlbnNzaC1rZXktdjE", "b3BlbnNzaC1rZXktdjI", 1)
    assert not VALIDATORS["pem"](broken, broken).ok


def test_supabase_role_and_issuer() -> None:
    r = random.Random(4)
    service, anon = expand("{supabase_service_jwt}", r), expand("{supabase_anon_jwt}", r)
    check = VALIDATORS["jwt-service-role"]
    assert check(service, service).ok
    assert not check(anon, anon).ok
    head, body, sig = service.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["iss"] = "auth0"
    other = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    assert not check(f"{head}.{other}.{sig}", "").ok


def test_pypi_macaroon_location() -> None:
    r = random.Random(5)
    token = expand("{pypi}", r)
    assert token.startswith("pypi-AgEIcHlwaS5vcmc")
    assert VALIDATORS["pypi-macaroon"](token, token).ok
    raw = base64.urlsafe_b64decode(token[5:] + "=" * (-len(token[5:]) % 4))
    test_raw = b"\x02\x01\x0dtest.pypi.org" + raw[11:]
    test_token = "pypi-" + base64.urlsafe_b64encode(test_raw).decode().rstrip("=")
    assert test_token.startswith("pypi-AgENdGVzdC5weXBpLm9yZw")
    assert VALIDATORS["pypi-macaroon"](test_token, test_token).ok
    evil = "pypi-" + base64.urlsafe_b64encode(b"\x02\x01\x08evil.org" + raw[11:]).decode().rstrip("=")
    assert not VALIDATORS["pypi-macaroon"](evil, evil).ok


def test_bedrock_payloads() -> None:
    r = random.Random(6)
    long_key, short_key = expand("{bedrock_long}", r), expand("{bedrock_short}", r)
    assert VALIDATORS["bedrock-long"](long_key, long_key).ok
    assert base64.b64decode(long_key[4:]).startswith(b"BedrockAPIKey-")
    assert VALIDATORS["bedrock-short"](short_key, short_key).ok
    assert not VALIDATORS["bedrock-long"]("ABSK" + base64.b64encode(b"x" * 90).decode(), "").ok
    assert not VALIDATORS["bedrock-short"]("bedrock-api-key-" + base64.b64encode(b"y" * 90).decode(), "").ok


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("postgres://app:PW@db-prod.c9x1.eu-west-1.rds.amazonaws.com:5432/app", True),
        ("mongodb+srv://svc:PW@cluster0.ab1cd.mongodb.net/prod", True),
        ("postgres://postgres:postgres@localhost:5432/app", False),
        ("postgres://app:PW@127.0.0.1:5432/app", False),
        ("postgres://app:PW@db.example.com/app", False),
        ("mysql://root:password@prod-db.internal/app", False),
        ("redis://:${REDIS_PASSWORD}@cache.internal:6379", False),
        ("postgres://{user}:{password}@{host}/db", False),
        ("postgres://app:aaaa@prod-db.internal/app", False),
    ],
)
def test_db_url(url: str, ok: bool) -> None:
    """`PW` stands for a strong password, generated here so no credential URL is stored."""
    url = url.replace("PW", expand("{alnum:16}", random.Random(url)))
    assert VALIDATORS["db-url"](url, url).ok is ok
