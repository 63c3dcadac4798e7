"""Offline checksums that real tokens carry (llm-keys.md §2): a failed one rejects the match."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import zlib

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _encode(n: int, alphabet: str, width: int) -> str:
    base = len(alphabet)
    out = ""
    while n:
        n, r = divmod(n, base)
        out = alphabet[r] + out
    return out.rjust(width, alphabet[0])


def crc32_b62(body: str) -> str:
    """GitHub/npm: CRC-32 of the random part, base62 MSB first, padded to 6."""
    return _encode(zlib.crc32(body.encode("ascii")), B62, 6)


def github_style_ok(token: str, prefix: str) -> bool:
    """`prefix` + 30 random + 6 checksum (GitHub classic tokens, npm)."""
    body, check = token[len(prefix) : -6], token[-6:]
    return len(body) == 30 and crc32_b62(body) == check


def gitlab_routable_crc(text: str) -> str:
    return _encode(zlib.crc32(text.encode("ascii")), B36, 7)


def gitlab_routable_ok(token: str) -> bool:
    """Routable GitLab token: base36 CRC-32 of everything before the last 7 chars."""
    if len(token) < 20 or "." not in token:
        return False
    return gitlab_routable_crc(token[:-7]) == token[-7:]


_MASK = 0xFFFFFFFF


def _rotl(x: int, n: int) -> int:
    return ((x << n) | (x >> (32 - n))) & _MASK


def marvin64(data: bytes, seed: int) -> int:
    """Marvin hash (Microsoft; .NET `System.Marvin`), both state words: `(p1 << 32) | p0`."""
    p0, p1 = seed & _MASK, (seed >> 32) & _MASK

    def mix(a: int, b: int) -> tuple[int, int]:
        b ^= a
        a = (_rotl(a, 20) + b) & _MASK
        b = _rotl(b, 9) ^ a
        a = (_rotl(a, 27) + b) & _MASK
        b = _rotl(b, 19)
        return a, b

    n = len(data) - len(data) % 4
    for i in range(0, n, 4):
        p0 = (p0 + int.from_bytes(data[i : i + 4], "little")) & _MASK
        p0, p1 = mix(p0, p1)
    tail = data[n:]
    p0 = (p0 + ((0x80 << (8 * len(tail))) | int.from_bytes(tail, "little"))) & _MASK
    p0, p1 = mix(p0, p1)
    p0, p1 = mix(p0, p1)
    return (p1 << 32) | p0


def marvin32(data: bytes, seed: int) -> int:
    """Marvin collapsed to 32 bits (`p0 ^ p1`), as Microsoft's identifiable-secret checksums use it."""
    h = marvin64(data, seed)
    return (h >> 32) ^ (h & _MASK)


# IdentifiableSecrets.VersionTwoChecksumSeed = ComputeHisV1ChecksumSeed("Default0"):
# BitConverter.ToUInt64 (little-endian) of the ASCII bytes reversed.
CASK_SEED = int.from_bytes(b"Default0"[::-1], "little")


def cask_checksum(first80: str) -> str:
    """Base64 of the low 3 bytes (little-endian) of Marvin32 over the 60 bytes the first 80 chars encode.

    This is `IdentifiableSecrets.TryValidateCommonAnnotatedKey` / `CommonAnnotatedKey.TryCreate`
    (84-char form) in microsoft/security-utilities.
    """
    raw = base64.b64decode(first80, validate=True)
    h = marvin32(raw, CASK_SEED)
    return base64.b64encode(h.to_bytes(4, "little")[:3]).decode("ascii")


def cask_derived_checksum(first80: str) -> str:
    """A derived key's checksum (`JQQJ9D` at 52): the first 4 base62 digits of the Marvin32 value.

    `IdentifiableSecrets.ComputeDerivedCommonAnnotatedKey`: `checksum.ToBase62().Substring(0, 4)`,
    where an int is encoded from its big-endian bytes (Base62.Net: `0-9A-Za-z`, MSB first, one
    `0` per leading zero byte)."""
    h = marvin32(base64.b64decode(first80, validate=True), CASK_SEED)
    raw = h.to_bytes(4, "big")
    zeros = min(len(raw) - len(raw.lstrip(b"\0")), len(raw) - 1)
    return ("0" * zeros + _encode(h, B62, 1) if h else "0" * 4)[:4]


def cask_long_tail(first80: str) -> str:
    """The last 8 characters of the 88-character long form: the 4 checksum bytes, base64."""
    h = marvin32(base64.b64decode(first80, validate=True), CASK_SEED)
    return base64.b64encode(h.to_bytes(4, "little")).decode("ascii")


def cask_ok(key: str) -> bool:
    """Azure Common Annotated Security Key: Marvin32 checksum after the first 80 characters.

    84 characters: 3 checksum bytes (base64) for a standard key (`JQQJ99`), 4 base62 digits
    for a derived one (`JQQJ9D`); 88 characters (long form): all 4 checksum bytes, base64."""
    try:
        if len(key) == 88:
            return key[57] == "9" and cask_long_tail(key[:80]) == key[80:]
        if len(key) != 84:
            return False
        if key[57] == "D":
            return cask_derived_checksum(key[:80]) == key[80:]
        return cask_checksum(key[:80]) == key[80:]
    except (binascii.Error, ValueError):
        return False


BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ v
        for i, g in enumerate(_BECH32_GEN):
            chk ^= g if (top >> i) & 1 else 0
    return chk


def _hrp_values(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def bech32_ok(text: str) -> bool:
    """BIP 173 bech32 checksum (age's keys use it): case-insensitive, hrp before the last `1`."""
    hrp, _sep, data = text.lower().rpartition("1")
    if not hrp or len(data) < 6 or any(c not in BECH32 for c in data):
        return False
    return _bech32_polymod(_hrp_values(hrp) + [BECH32.index(c) for c in data]) == 1


def bech32_checksum(hrp: str, data: str) -> str:
    """The 6 checksum characters of `hrp` + `1` + `data` (lowercase)."""
    poly = _bech32_polymod(_hrp_values(hrp) + [BECH32.index(c) for c in data] + [0] * 6) ^ 1
    return "".join(BECH32[(poly >> 5 * (5 - i)) & 31] for i in range(6))


def crc24(data: bytes) -> int:
    """OpenPGP's ASCII-armor checksum (RFC 9580 §6.1): CRC-24, init 0xB704CE, poly 0x1864CFB."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


def _ssh_string(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def putty_mac(
    version: int, algorithm: str, encryption: str, comment: str, public: bytes, private: bytes
) -> str:
    """The Private-MAC of an unencrypted PuTTY key file (PuTTY manual, appendix C): HMAC over the
    five fields as SSH strings; version 2 keys it with SHA-1 of "putty-private-key-file-mac-key"
    (no passphrase) and uses HMAC-SHA-1, version 3 an empty key and HMAC-SHA-256."""
    data = b"".join(
        _ssh_string(x) for x in (algorithm.encode(), encryption.encode(), comment.encode(), public, private)
    )
    if version == 2:
        key = hashlib.sha1(b"putty-private-key-file-mac-key").digest()
        return hmac.new(key, data, hashlib.sha1).hexdigest()
    return hmac.new(b"", data, hashlib.sha256).hexdigest()
