"""Credential slots as a detector of their own (issue 20, docs/rules-notes.md "Credential slots").

A value assigned to a name, key, argument, header or CLI flag that says it holds a credential
(`API_KEY = …`, `speechKey: …`, `"X-API-KEY": …`, `Authorization: Bearer …`, `ENV TOKEN …`,
`--token …`) is a finding of `generic.credential` when the value itself looks like a secret:

- the **name** is made of words one of which is a credential word (key, secret, token,
  password, passwd, pwd, auth, credential, private, bearer, apikey… in any casing or separator)
  and none of which says the value is something else (an id, a URL, a hash, a public or
  publishable key, a count, a cache or page key, a path or a reference to a secret store);
- the **value** passes floors by character class (hex, alphanumeric, letters only, base64 or
  URL-safe with symbols, and a password class under password names) on length, on the mix of
  classes and on Shannon entropy, and is no placeholder, reference (`${VAR}`, `process.env.X`,
  `os.getenv(…)`, `{{ secrets.X }}`, Vault or secret-manager paths) or identifier-like word.

Confidence says how strong the evidence is: **medium** (counted by the default gate) for a
strong credential name holding a long random value; **low** (reported, not counted) for a weak
name (`key`, `auth`, `private`, `pwd`), a password class value, a UUID, or a value that only
clears the floors. Any provider rule that matches the same value names it instead (engine).

Pure functions of bytes and strings: both engines ask the same questions of the same text.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re

from scanner.detect.context import assigned_parts, spaced_name
from scanner.detect.evidence import GENERIC_WORDS
from scanner.detect.filters import is_placeholder, looks_fake, shannon
from scanner.model import Confidence

SLOT_VALIDATOR = "credential-slot"
# the longest stretch from the start of a generic.credential match to the end hyperscan reports
# for it (right after its value's first digit and first letter): the word and the rest of the
# name (10 + 40), a closing quote and subscript (3), a type annotation (37), spaces and an
# operator (31, a k8s `value:` on the next line), an opening quote (3), an auth scheme (8), and
# the value's head (2 x 41); tests/test_slots.py checks it against the pattern
SLOT_REACH = 240
_V = r"[A-Za-z0-9_+/=.~!@#%^*-]"
# what hyperscan compiles for the value (exactly, not in prefilter mode): eight value characters
# or more whose first digit is among the first 91 — a superset of every match the engine keeps
# (8+ characters, the first digit within 82), reported once: at that digit or at the 8th character
_ND = r"[A-Za-z_+/=.~!@#%^*-]"  # a value character that is no digit: each form ends at the first digit
HS_VALUE = "(?:" + "|".join(
    f"{_ND * min(p, 1)}{{{p}}}[0-9]{_V}{{{7 - p}}}".replace("{0}", "") for p in range(7)
)
HS_VALUE += f"|{_ND}{{7,90}}[0-9])"


def hs_expression(pattern: str) -> str:
    """generic.credential's pattern as the hyperscan prefilter compiles it: its name and
    operator part, then HS_VALUE, with every bounded repeat of 4 or more (`{0,39}`, `{1,30}`,
    `{7,90}`) left open (`{0,}`). That only widens the language: each match of the exact form
    is still one, with the same end, so no hit is lost and SLOT_REACH still holds for them; the
    few extra ends (a name over 40 characters) are regions the engine's exact pattern rejects.
    Measured on the labelled corpus tree: hyperscan's pass 0.55 s with the bounds, 0.41 s
    without (0.35 s without the expression at all), with 14,934 against 14,942 match events."""
    exact = re.sub(r"\(\?P<[A-Za-z_]\w*>", "(", pattern[: pattern.index("(?P<secret>")]) + HS_VALUE
    return _BOUNDED.sub(lambda m: m.group(0) if int(m.group(2)) < 4 else f"{{{m.group(1)},}}", exact)


_BOUNDED = re.compile(r"\{(\d+),(\d+)\}")


# where a match of generic.credential's pattern can start, in lowercased text (the pattern's
# leading words; the engine tries the pattern only there)
PATTERN_WORDS = (
    b"key",
    b"secret",
    b"token",
    b"passw",
    b"pwd",
    b"passphrase",
    b"auth",
    b"cred",
    b"private",
    b"bearer",
)

# fmt: off
# words that make a name a credential slot (after splitting on separators and camel case)
CRED_WORDS = frozenset({
    "key", "secret", "secrets", "token", "password", "passwd", "pwd", "passphrase", "auth",
    "authorization", "credential", "credentials", "cred", "creds", "apikey", "private", "bearer",
})
# glued lowercase names that end in a credential compound (`openaiapikey`, `authtoken`)
_GLUED = ("apikey", "apitoken", "secretkey", "accesskey", "accesstoken", "authtoken", "authkey",
          "privatekey", "password", "passwd", "secret", "token", "credentials")
# names whose credential word is weak: the value is reported low
WEAK_NAMES = frozenset({"key", "auth", "private", "pwd", "pass", "cred", "creds"})
# words that say a value under a credential-sounding name is something else
NOT_SECRET = frozenset({
    "id", "ids", "uuid", "guid", "name", "names", "type", "types", "kind", "path", "paths", "file",
    "files", "filename", "dir", "url", "uri", "urls", "endpoint", "host", "hostname", "port",
    "length", "len", "size", "count", "num", "number", "max", "min", "limit", "limits", "expires",
    "expiry", "expiration", "exp", "ttl", "timeout", "age", "header", "headers", "prefix",
    "suffix", "field", "fields", "var", "variable", "env", "format", "pattern", "regex", "hash",
    "hashed", "digest", "checksum", "sha", "md5", "integrity", "cache", "page", "next", "prev",
    "previous", "continuation", "cursor", "sort", "partition", "foreign", "unique", "idempotency",
    "request", "trace", "span", "public", "publishable", "pub", "anon", "site", "browser",
    "delivery", "keyboard",
    "hotkey", "shortcut", "label", "title", "description", "desc", "placeholder", "hint",
    "message", "msg", "i18n", "translation", "input", "output", "prompt", "completion", "tokens",
    "keys", "method", "mode", "scheme", "strategy", "provider", "version", "level", "scope",
    "scopes", "state", "status", "enabled", "required", "policy", "role", "user", "username",
    "email", "login", "ref", "reference", "store", "arn", "ssm", "location", "template",
    "schema", "spec", "fingerprint", "thumbprint", "algorithm", "alg", "event", "route", "map",
    "mapping", "lookup", "index", "column", "table", "bucket", "object", "storage", "local",
    "tokenizer", "example", "sample", "fake", "dummy", "mock", "test", "tests", "invalid",
    "wrong", "bad", "expired", "revoked", "redacted", "masked", "help", "doc", "docs", "usage",
    "error", "errors", "link", "button", "text", "class", "css", "style", "icon", "amz",
    "last", "used", "date", "time", "created", "updated", "result", "change", "lifecycle",
    "action", "verification", "meta", "cached", "caching",
})
# fmt: on
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_PASSWORD = frozenset({"password", "passwd", "pwd", "pass", "passphrase"})


def name_words(name: str) -> list[str]:
    """The lowercase words of a name: `OPENAI_API_KEY`, `openaiApiKey`, `x-api-key`."""
    return [w.lower() for w in _WORD.findall(name)]


def _glued_cred(word: str) -> bool:
    return any(word.endswith(g) and word not in NOT_SECRET for g in _GLUED)


@functools.lru_cache(maxsize=4096)
def judge_name(name: str) -> tuple[bool, bool, bool]:
    """(a credential slot, a strong name, a password name) for a full name. Memoised: `_name_of`
    asks it to choose between two readings and its caller asks again, and names recur."""
    words = name_words(name)
    if not words or any(w in NOT_SECRET for w in words) or words == ["key"]:
        return False, False, False  # a bare `key` names dict entries, React keys, cache keys
    cred = [w for w in words if w in CRED_WORDS or _glued_cred(w)]
    if not cred or _write_key(name, words):
        return False, False, False
    password = any(w in _PASSWORD or w.endswith(("password", "passwd")) for w in words)
    strong = not (len(words) == 1 and words[0] in WEAK_NAMES)  # `speechKey`, `API_KEY`: not `key`
    if "private" in cred and not any(w in ("key", "token", "secret") for w in words):
        strong = False  # `PRIVATE = …`, `private_repo`: key material needs its own word
    return True, strong, password


# a client-side analytics SDK's write key (RudderStack, Segment: `rudder_analytics.write_key`,
# `writeKey`, `SEGMENT_WRITE_KEY`): public by design, every page or app that reports events sends it
_ANALYTICS = ("rudder", "segment", "analytics")


def _write_key(name: str, words: list[str]) -> bool:
    """A write key of an analytics SDK: `write_key` / `writeKey` by themselves (the SDKs' own
    attribute), or a write-key name with a RudderStack or Segment word (`RUDDERSTACK_WRITE_KEY`)."""
    if words[-2:] != ["write", "key"]:
        return False
    bare = len(words) == 2 and not name.isupper()  # `WRITE_KEY` alone could be anything's
    return bare or any(w.startswith(_ANALYTICS) for w in words[:-2])


# what a value cannot be: references to where a secret lives, identifiers and paths
_REFERENCE = re.compile(
    r"^[$%@&]|^\{|\$\{|\{\{|%\(|process\.env|import\.meta|os\.(?:environ|getenv)|getenv|ENV\[|"
    r"secrets\.|vault:|^arn:|^ssm:|projects/[^/]+/secrets|KeyVault|secret/data/|^sha\d+-|^sha\d*:",
    re.I,
)
_IDENTIFIER = re.compile(r"^(?:[a-z]+(?:[A-Z][a-z0-9]+)+|[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+)$")  # camelCase
_SEGMENT = re.compile(r"[A-Z]?[a-z0-9]+")
_WORDLIKE = re.compile(r"[a-z]*[aeiouy][a-z]*[0-9]*")  # a word, a number after it at most


def _identifier(v: str) -> bool:
    """camelCase made of words (`getUserName`, `myService2`), not a random mix of cases that
    happens to fit the shape (a GA4 `api_secret` in a public history: parts without a vowel, a
    digit between letters)."""
    segments = _SEGMENT.findall(v)
    return bool(_IDENTIFIER.match(v)) and sum(not _WORDLIKE.fullmatch(x.lower()) for x in segments) <= 1


_SEGMENTS = re.compile(r"[-_./=:]")
_HAS_SEPARATOR = re.compile(r"[^-_./=:][-_./=:]+[^-_./=:]")
# the sk- shapes OpenAI-compatible relays issue (openai.compatible-key): an `sk-` value of another
# shape is a malformed key of one of the sk- providers, not an unknown credential
RELAY_SHAPE = re.compile(r"sk-(?:[A-Za-z0-9]{48}|[a-f0-9]{32})")
# OpenAI's marker, or one letter off it (a lookalike); the AWS documentation's example secret
_MARKER = re.compile(r"T3BlbkF|wJalrXUtnFEMI|K7MDENG", re.I)
_FLOAT = re.compile(r"[0-9.]+e[-+]?[0-9]+$", re.I)
FLOAT = re.compile(rb"[0-9.]+[eE][-+]?[0-9]+\Z")  # a number in e-notation, as bytes
MIN_VALUE = 8  # the shortest value any class takes
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_ALNUM = re.compile(r"^[A-Za-z0-9]+$")
_VENDOR = re.compile(r"^[A-Za-z]{2,10}[_-](?:[A-Za-z]{2,10}[_-])?[A-Za-z0-9]{20,}")


def _classes(v: str) -> int:
    return (
        any(c.isupper() for c in v)
        + any(c.islower() for c in v)
        + any(c.isdigit() for c in v)
        + any(not c.isalnum() for c in v)
    )


def _wordy(v: str) -> bool:
    """Words joined by separators (`my-service-name`, `APP_SECRET_NAME`, `secret/data/app`):
    an identifier or a path, not a random value."""
    if not _HAS_SEPARATOR.search(v):
        return False
    parts = [p for p in _SEGMENTS.split(v) if p]
    if len(parts) < 2:
        return False
    words = sum(
        p.isdigit()
        or (
            len(p) <= 24
            and sum(c.isdigit() for c in p) <= 3
            and (p.islower() or p.isupper() or p.istitle() or _IDENTIFIER.match(p) is not None)
        )
        for p in parts
    )
    # a long chain of words with a stray piece (a sanitizer's DEDUP_TOKEN stack signature,
    # `…--cmd_main--main--__libc_start_main@GLIBC_2.2.5`) is still words
    return words == len(parts) or (len(parts) >= CHAIN and words >= 0.85 * len(parts))


CHAIN = 8  # segments from which a chain of words may hold a piece that is not one


def _code_like(v: str) -> bool:
    """An identifier made of words (`workload_identity_auth_v2`, `decodeKeySafeBytes2`): few
    digits, and words of a readable length (a random string splits into one- and two-letter
    pieces at its case changes)."""
    if sum(c.isdigit() for c in v) > 3 or not re.fullmatch(r"[A-Za-z0-9_$.]+", v):
        return False
    words = [w for w in _WORD.findall(v) if w.isalpha()]
    return bool(words) and sum(len(w) for w in words) / len(words) >= 3.5


def _encoded_text(v: str) -> bool:
    """Base64 whose decoded bytes are printable text of 12+ characters."""
    if len(v) < 16 or len(v) % 4 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", v):
        return False
    try:
        raw = base64.b64decode(v, validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(raw) >= 12 and all(32 <= b < 127 or b in (9, 10, 13) for b in raw)


@functools.lru_cache(maxsize=4096)
def value_class(value: str, password: bool = False) -> str | None:
    """The class whose floors the value clears (`hex`, `uuid`, `alnum`, `alpha`, `symbols`,
    `password`), or None when it does not look like a secret.

    Memoised: a pure function of its arguments, and the same values recur across a tree (5,704
    judgements of 1,798 distinct values on the labelled corpus: `max-age=60`, licence ids, a
    fixture's UUID)."""
    v = value
    if len(v) < MIN_VALUE or v.isdigit() or v.startswith("//") or _wordy(v):  # the commonest first:
        return None  # words and paths (`//host/…`: a URL whose scheme the name swallowed)
    if is_placeholder(v) or _REFERENCE.search(v) or _MARKER.search(v):
        return None
    if _identifier(v) or _code_like(v) or looks_fake(v, 0.0):
        return None
    if _encoded_text(v):
        return None  # base64 of text (a k8s Secret's data): its decoded layer is judged instead
    h = shannon(v)
    if _UUID.match(v):
        return "uuid" if len(set(v.replace("-", ""))) >= 10 else None
    has_digit = any(c.isdigit() for c in v)
    has_alpha = any(c.isalpha() for c in v)
    if _HEX.match(v) and has_digit and has_alpha:
        if len(v) >= 32 and h >= 3.0:
            return "hex"
    elif _ALNUM.match(v):
        if has_digit and len(v) >= 20 and h >= 3.5:
            return "alnum"
        if not has_digit and len(v) >= 24 and _classes(v) >= 2 and h >= 4.0:
            return "alpha"
    elif len(v) >= 20 and h >= 3.5 and _classes(v) >= 3:
        return "symbols"
    if password and len(v) >= 8 and _classes(v) >= 3 and h >= 2.5:
        return "password"
    return None


# Forms that providers document as public, shipped to clients by design (the provider rules stay
# silent on them too): Mapbox `pk.`, Stripe and Clerk publishable keys, Supabase publishable keys,
# New Relic browser keys, PostHog project keys, Square application ids; and test-mode or sandbox
# keys whose live forms have rules (Shippo, Duffel, EasyPost, Flutterwave, Plaid, Braintree)
PUBLIC_PREFIXES = (
    "pk.", "pk_live_", "pk_test_", "sb_publishable_", "NRJS-", "phc_", "sq0idp-",
    "shippo_test_", "duffel_test_", "EZTK", "FLWSECK_TEST-", "access-sandbox-", "access_token$sandbox$",
)  # fmt: skip


def value_ok(value: str) -> bool:
    """Whether the value clears some class floor (the rule's validator; the name is judged by
    `judge` with the whole text)."""
    return value_class(value, password=True) is not None


def judge(data: bytes, value_start: int, value: str) -> Confidence | None:
    """The confidence of a credential-slot match whose value starts at `value_start`, or None
    when the full name or the value says it is no credential."""
    if len(value) < MIN_VALUE or _FLOAT.match(value):
        return None  # numbers, dates, versions: cheap to rule out before anything else
    if value.startswith(PUBLIC_PREFIXES):
        return None  # a key its provider documents as public (a Mapbox `pk.` token in client code)
    cls = value_class(value, password=True)
    if cls is None:
        return None
    name = _name_of(data, value_start)
    if name is None:
        return None
    slot, strong, password = judge_name(name)
    if not slot or (cls == "password" and not password):
        return None
    if not strong or password or cls in ("password", "uuid") or _documented(data, value_start):
        return Confidence.LOW
    if _record_field(data, value_start):
        return Confidence.LOW
    if cls == "hex" and len(value) >= 32:
        return Confidence.MEDIUM
    if len(value) >= 24 and (shannon(value) >= 3.8 or _VENDOR.match(value)):
        return Confidence.MEDIUM
    return Confidence.LOW


# a documentation example on the value's line: "for example", "e.g.", a doctest prompt, or an
# endpoint that is visibly not a real one (issue 20: report it low)
_DOC_LINE = re.compile(
    rb"example|e\.g\.|^[ \t]*>>>|0\.0\.0\.0|localhost|127\.0\.0\.1|\.example\b|\.test\b|\.invalid\b",
    re.I | re.M,
)


def _documented(data: bytes, start: int) -> bool:
    """Whether the value's line shows it is a documentation example."""
    ls = data.rfind(b"\n", max(0, start - 400), start) + 1 or max(0, start - 400)
    le = data.find(b"\n", start, start + 400)
    return _DOC_LINE.search(data, ls, le if le != -1 else min(len(data), start + 400)) is not None


RECORD_LINE = 300  # a line this long with RECORD_KEYS quoted keys is a data record
RECORD_KEYS = 8


def _record_field(data: bytes, start: int) -> bool:
    """A field of a one-line JSON record (a recorded API response, a fixture, a cassette: `"id":
    …, "temp_clone_token": "…", "allow_squash_merge": true, …`), not a setting someone wrote:
    the value a service returned is reported low."""
    ls = data.rfind(b"\n", max(0, start - 4096), start) + 1 or max(0, start - 4096)
    le = data.find(b"\n", start, start + 4096)
    line = data[ls : le if le != -1 else min(len(data), start + 4096)]
    return len(line) >= RECORD_LINE and line.count(b'":') + line.count(b'\\":') >= RECORD_KEYS


# the forms detect/context.py does not name: `ENV NAME value` (Dockerfile), `--api-key value` /
# `--token=value` (a CLI flag), `process.env.NAME ?? "…"`, and a k8s env list (`- name: NAME` on
# the line before `value: …`)
_OTHER_FORMS = (
    rb"(?:(?:^|\n)[ \t]*(?:ENV|ARG)[ \t]+|(?<![\w-])--?)(?P<flag>[A-Za-z_][\w-]{0,63})(?:=|[ \t]+)[\"']?\Z",
    rb"(?P<env>[A-Za-z_$][\w$]{0,63})[ \t]*(?:\?\?|\|\|)[ \t]*[\"'`]?\Z",
    rb"(?P<typed>[A-Za-z_$][\w$]{0,63})[ \t]*:?[ \t]*[\w$.<>|]{1,30}[ \t]*=[ \t]*[\"'`]?\Z",
    rb"name[ \t]*:[ \t]*[\"']?(?P<k8s>[A-Za-z_][\w.-]{0,63})[\"']?[ \t]*\r?\n[ \t]*-?[ \t]*value[ \t]*:[ \t]*[\"']?\Z",
)
_OTHER_NAME = re.compile(b"|".join(_OTHER_FORMS))  # the forms as one alternation (the reference)
_OTHER_RX = tuple(re.compile(f) for f in _OTHER_FORMS)


def _other_name(window: bytes) -> str | None:
    """`_OTHER_NAME.search(window)`'s name, trying only the forms whose fixed tail (`=`, `??`,
    a blank, `value:` before an optional quote) the window ends with. Every form ends at the
    window's end, so the leftmost match of the alternation is the leftmost of the forms' matches
    (the earlier form on a tie): the same name. Measured on the labelled corpus tree: the typed
    form's nested repeats backtrack over every word of the 160 bytes, and the one search was
    most of the cost of naming a value that `assigned_parts` does not name."""
    bare = window[:-1] if window[-1:] in b"\"'" else window  # the flag and k8s forms' quotes
    anyq = window[:-1] if window[-1:] in b"\"'`" else window  # the env and typed forms' quotes
    tight = anyq.rstrip(b" \t")
    possible = (
        bare[-1:] in (b"=", b" ", b"\t"),
        tight.endswith((b"??", b"||")),
        tight.endswith(b"="),
        bare.rstrip(b" \t").endswith(b":"),
    )
    best: re.Match[bytes] | None = None
    for rx, ok in zip(_OTHER_RX, possible, strict=True):
        if ok:
            m = rx.search(window)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
    if best is None:
        return None
    return best.group(1).decode("ascii", "replace")  # each form's one group: its name


_IN_PATH = frozenset({b"/", b":", b"#", b"%", b"@", b"?", b"&"})
# what context.py takes for a name but is a type or an env list's `value:` (`speechKey: string = …`)
_NOT_NAMES = frozenset({"value", "string", "str", "any", "int", "bytes", "char", "const", "var", "let"})
_SETTER = re.compile(r"^(?:set|with)[A-Z_]|^(?:set|with)$", re.I)
_HEADER_LIKE = re.compile(
    r"^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)+$|^authorization$|^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$", re.I
)


def names_a_credential(data: bytes, value_start: int, value: str) -> bool:
    """For a rule that needs only a name (`PORTKEY_API_KEY = …`): the name is a credential slot
    and the value is no identifier (`PORTKEY_TRACE = "prompt_summary_v2"`, a run label), though
    equal groups joined by dashes are a generated key's shape, not words. An unnamed form (a list
    item, an argument) is left to the rule."""
    grouped = len({len(g) for g in value.split("-")}) == 1 and value.count("-") >= 3  # XXXXXXX-XXXXXXX-…
    if _identifier(value) or (_wordy(value) and not grouped) or _code_like(value):
        return False
    name = _name_of(data, value_start)
    return name is None or judge_name(name)[0]


def _symbol(data: bytes, at: int) -> bool:
    """A Ruby symbol (`:api_key =>`), not the segment of an ARN or URN (`secret:api_key`)."""
    return at < 2 or not (chr(data[at - 2]).isalnum() or data[at - 2 : at - 1] in b"_-")


_URL_BEFORE = re.compile(rb"(?:https?|wss?)://[^\s\"'`<>]*\Z")


def _query_url(data: bytes, at: int) -> bytes | None:
    """The URL whose query string the name at `at` is a parameter of (from its scheme up to the
    `?` or `&` before the name, without a break), or None."""
    url = _URL_BEFORE.search(data, max(0, at - 2048), at)
    return url.group(0) if url is not None else None


# query parameters that carry no lasting credential: a web framework's CSRF token (Laravel's
# `_token`, Rails' `authenticity_token`, Django's `csrfmiddlewaretoken`), bound to one session
_CSRF_PARAMS = frozenset(
    {"_token", "authenticity_token", "csrfmiddlewaretoken", "csrf_token", "_csrf", "xsrf_token"}
)
# GitHub's `?token=` on raw file links of a private repository: minted for one link, expires in days
_SHORT_LIVED_HOSTS = (b"raw.githubusercontent.com",)


def _query_credential(url: bytes, name: str) -> bool:
    """Whether a parameter of `url`'s query can hold a lasting credential (not a CSRF token, not
    a raw-file link's token)."""
    return name.lower() not in _CSRF_PARAMS and not any(h in url for h in _SHORT_LIVED_HOSTS)


def _name_of(data: bytes, start: int) -> str | None:
    """The full name a value at `start` is assigned to, for the forms where a name says what a
    value is: an assignment, a key, a keyword argument, a header, a setter call, a CLI flag, a
    Dockerfile ENV, an env-list entry, a hand-written env line whose name has spaces. A value in
    an argument list or array is not named by the item before it (`("auth", "0009_…")`, a source
    map's `names`), unless that item is a header or an env var name (`.header("X-API-KEY", "…")`,
    `setdefault("API_KEY", "…")`)."""
    name = _plain_name(data, start)
    if name is not None and judge_name(name)[0]:
        return name  # `ENV TRELLO_TOKEN=…`: the usual name, not the line
    spaced = spaced_name(data, start)
    return spaced if spaced is not None else name


def _plain_name(data: bytes, start: int) -> str | None:
    found = assigned_parts(data, start)
    if found is not None:
        name, op, _quoted = found
        at = data.rfind(name.encode("ascii", "replace"), max(0, start - 200), start)
        before = data[at - 1 : at] if at > 0 else b""
        url = _query_url(data, at) if before in (b"?", b"&") and op == b"=" else None
        if url is not None:  # a URL's query parameter (`https://…/search?api_key=…&q=…`)
            if not _query_credential(url, name):
                return None
        elif before and before in _IN_PATH and not (before == b":" and _symbol(data, at)):
            return None  # a segment of a URL, path or ARN (`…:secret:<name>`, `/#/key_fn`), not a name
        if op == b"," and not (
            _HEADER_LIKE.match(name) and (name.isupper() or "-" in name or name.lower() == "authorization")
        ):
            return None
        if op == b"(" and not _SETTER.match(re.split(r"[.:]", name)[-1]):
            return None
        if name.lower() not in _NOT_NAMES:
            return name
    return _other_name(data[max(0, start - 160) : start])


# --- which service: a host in the same string, object or call, or the credential's own name ----

RELAY_RULE = "openai.compatible-key"  # named after the host it is used with (issue 20)
SAME_PLACE = 300  # bytes either side: the same string, object or call
SAME_FILE = 2048  # a relay's base URL set in the same file (OPENAI_API_BASE=…, base_url=…)
_BASE_URL = re.compile(
    rb"(?:base[_-]?url|baseurl|api[_-]?base|base[_-]?path|endpoint|api[_-]?host|proxy[_-]?url|api[_-]?url)"
    rb"[\"'`]?\s{0,3}[:=(,]{1,2}\s{0,3}[fr]?[\"'`]?(?:https?://)?(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)",
    re.I,
)
_URL_HOST = re.compile(rb"https?://(?P<host>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)", re.I)
_NO_SERVICE = re.compile(
    r"(?:^|\.)(?:localhost|example\.(?:com|org|net)|github\.com|githubusercontent\.com|pypi\.org|npmjs\.(?:com|org)"
    r"|w3\.org|schema\.org|openai\.com)$|\.(?:test|invalid|example|local|internal)$|^[0-9.]+$",
    re.I,
)
_SERVICE_SKIP = CRED_WORDS | NOT_SECRET | WEAK_NAMES


def _hosts(
    rx: re.Pattern[bytes], data: bytes, start: int, end: int, window: int
) -> list[tuple[int, int, str]]:
    """Hosts near [start, end), nearest first (ties by name): (distance, offset, host)."""
    lo, hi = max(0, start - window), min(len(data), end + window)
    out = []
    for m in rx.finditer(data, lo, hi):
        host = m.group("host").decode("ascii", "replace").lower().rstrip(".")
        if not _NO_SERVICE.search(host):
            out.append((abs(m.start() - start), m.start(), host))
    return sorted(out, key=lambda h: (h[0], h[2]))


_COMMENT_LEAD = (b"#", b"//", b"/*", b"*", b"--", b";", b"<!--")


def _commented(data: bytes, pos: int, value_at: int) -> bool:
    """Whether `pos` sits on a comment line other than the value's own: a link in a comment is
    where to read about or generate the key (`# Generate a random secret: https://…`), not the
    service it is sent to."""
    line = data.rfind(b"\n", 0, pos) + 1
    line_end = data.find(b"\n", pos)
    if line <= value_at <= (len(data) if line_end < 0 else line_end):
        return False
    return data[line:pos].lstrip().startswith(_COMMENT_LEAD)


def relay_host(data: bytes, start: int, end: int, known: tuple[str, ...]) -> str | None:
    """The base URL host a relay-shaped key is used with, in the same file: not a provider whose
    own rule knows its host (`known`), which then names the key by that rule's host evidence."""
    for _, _, host in _hosts(_BASE_URL, data, start, end, SAME_FILE):
        if any(host == k.lstrip(".") or host.endswith("." + k.lstrip(".")) for k in known):
            return None
        return host
    return None


# Platforms that give each customer an instance under its own subdomain: a key used with
# `enabled-cheetah-52402.upstash.io` is an Upstash key, and the subdomain only names the
# instance. Hosting platforms (`*.vercel.app`, `*.onrender.com`, `*.workers.dev`) are not here:
# there the host is the customer's own service, and the key is for that service.
PLATFORM_DOMAINS: tuple[tuple[str, str], ...] = (
    ("upstash.io", "upstash"),
    ("vercel-storage.com", "vercel"),
    ("supabase.co", "supabase"),
    ("firebaseio.com", "firebase"),
    ("pinecone.io", "pinecone"),
    ("weaviate.network", "weaviate"),
    ("weaviate.cloud", "weaviate"),
    ("qdrant.io", "qdrant"),
    ("neon.tech", "neon"),
    ("turso.io", "turso"),
    ("mongodb.net", "mongodb"),
    ("convex.cloud", "convex"),
    ("algolia.net", "algolia"),
    ("snowflakecomputing.com", "snowflake"),
    ("cloud.databricks.com", "databricks"),
    ("atlassian.net", "atlassian"),
    ("myshopify.com", "shopify"),
    ("auth0.com", "auth0"),
    ("sentry.io", "sentry"),
    ("openai.azure.com", "azure"),
    ("cognitiveservices.azure.com", "azure"),
)


def _platform(host: str) -> str:
    """The platform a customer's instance host belongs to, else the host itself."""
    for domain, name in PLATFORM_DOMAINS:
        if host == domain or host.endswith("." + domain):
            return name
    return host


def service_of(data: bytes, start: int, end: int) -> str | None:
    """The service a credential-slot value belongs to: a host in the same string, object or call
    (`requests.get("https://google.serper.dev/…", headers={"X-API-KEY": …})`; a platform's
    instance host by the platform: `PLATFORM_DOMAINS`), else the first word of its name that is
    not a credential, generic or environment word (`SERPER_API_KEY`)."""
    hosts = _hosts(_URL_HOST, data, start, end, SAME_PLACE)
    near = [h for _, at, h in hosts if not _commented(data, at, start)]
    if near:
        return _platform(near[0])
    name = _name_of(data, start)
    if name is None:
        return None
    for word in name_words(name):
        if len(word) >= 3 and word.isalpha() and word not in _SERVICE_SKIP and word not in GENERIC_WORDS:
            return word
    return None
