"""False-positive filters that keep recall: placeholders, low entropy, repeats and runs.

Each filter looks at the candidate secret alone, but for one look at the rest of its line (a
comment that calls the value fake); context-dependent judgements (lockfiles, tests, bundles)
belong to later stages that know the path.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter

_PLACEHOLDER = re.compile(
    r"\.\.\.|…|x{5,}|X{5,}|\*{3,}|<[^>]*>|\$\{|\{\{|%\(|your[-_ ]?(?:api[-_ ]?)?(?:key|token|secret)|"
    r"replace[-_ ]?me|change[-_ ]?me|placeholder|redacted|dummy|insert[-_ ]?(?:key|token|here)|"
    r"process\.env|import\.meta\.env|secrets\.",
    re.I,
)
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "zyxwvutsrqponmlkjihgfedcba",
    "9876543210",
    "qwertyuiop",
)


def shannon(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


_DOC_MARKER = re.compile(r"EXAMPLE|(?<![A-Za-z])(?:SAMPLE|FAKE|TEST)KEY")  # AWS docs: AKIA…EXAMPLE


# a comment after the value that says it is not a real key: `"sk-…"  # correct format, not real`
# (a test fixture in a real agent framework's history); only words no one writes beside a live key
_SAID_FAKE = re.compile(
    rb"[ \t\"'`),;\]}]{0,12}"  # the value's closing syntax, then the comment on its line, or
    rb"(?:\r?\n[ \t]{0,40}[)\]}][ \t),;\]}]{0,8})?"  # on the next, when that line closes its call
    rb"(?:#|//|/\*|--|<!--)[^\n]{0,120}?\b(?:fake|dummy|bogus|made[- ]up|not\s+(?:a\s+)?real)\b",
    re.I,
)  # not a URL, not a later statement on a minified line, not a comment about the next lines
SAID_FAKE_SPAN = 200  # bytes after the value that the comment must start and say it in
SAID_FAKE = (
    "Its own comment calls it fake or not real, and nothing offline verifies it (no checksum or "
    "structural marker): reported at low, not dropped, since a comment is no proof."
)


def said_fake(data: bytes, end: int) -> bool:
    """Whether a comment right after the value (on its line, or after the call it closes) calls
    it fake. Such a value is still reported (at low, with SAID_FAKE as the reason, unless its
    structure is verified offline: then at its rule's severity)."""
    return _SAID_FAKE.match(data, end, end + SAID_FAKE_SPAN) is not None


# a comment that says the value is a default every deployment must replace, on the value's line
# (after it) or in the comment block right above it: `secret_signing_key = "…"  # change this in
# production`, `# Make sure you update this with your own secret key`. Only words about replacing
# a shipped default: "replace with your key" alone is what people write beside a real one.
_REPLACE = (
    rb"\b(?:change|replace|update|override|overwrite|regenerate|rotate)\b[^\n]{0,60}?"
    rb"(?:\b(?:in|for|before)\s+(?:production|prod|deploy)|\byour\s+own\s+(?:secret|signing|random)"
    rb"|\bown\s+(?:secret|signing|random)\b)"
    rb"|\bdefault\b[^\n]{0,40}?\b(?:change|replace|override)\b"
)
_COMMENT = rb"(?:#|//|/\*|--|;|\*)"
_REPLACE_AFTER = re.compile(
    rb"[ \t\"'`),;\]}]{0,12}" + _COMMENT + rb"[^\n]{0,120}?(?:" + _REPLACE + rb")", re.I
)
_REPLACE_LINE = re.compile(rb"[ \t]*" + _COMMENT + rb"[^\n]{0,160}?(?:" + _REPLACE + rb")", re.I)
_COMMENT_LINE = re.compile(rb"[ \t]*" + _COMMENT)
REPLACE_ABOVE = 3  # comment lines right above the value that are read
SAID_DEFAULT = "a default the code says to replace: make sure every deployment sets its own"


def said_default(data: bytes, start: int, end: int) -> bool:
    """Whether a comment on the value's line (after it) or in the comment block right above the
    value's line says the value is a default to replace in every deployment."""
    if _REPLACE_AFTER.match(data, end, end + SAID_FAKE_SPAN) is not None:
        return True
    ls = data.rfind(b"\n", 0, start) + 1
    for _ in range(REPLACE_ABOVE):
        if ls == 0:
            return False
        prev = data.rfind(b"\n", 0, ls - 1) + 1
        if _COMMENT_LINE.match(data, prev, ls - 1) is None:
            return False  # the block above ends: code or a blank line
        if _REPLACE_LINE.match(data, prev, ls - 1) is not None:
            return True
        ls = prev
    return False


def is_placeholder(secret: str) -> bool:
    """True for strings that stand in for a key rather than being one."""
    return bool(_PLACEHOLDER.search(secret) or _DOC_MARKER.search(secret))


def _longest_run(s: str) -> int:
    best = run = 1
    for a, b in itertools.pairwise(s):
        run = run + 1 if a == b else 1
        best = max(best, run)
    return best


def _windows(n: int) -> re.Pattern[str]:
    """Every n-character window of the sequences, as one lookahead alternation."""
    alt = sorted({seq[i : i + n] for seq in _SEQUENCES for i in range(len(seq) - n + 1)})
    return re.compile("(?=(?:" + "|".join(alt) + "))")


_RUN10, _RUN8 = _windows(10), _windows(8)


def _sequential(body: str) -> bool:
    """A keyboard or alphabet run: 10+ characters long, or 8+ (at an offset that is a multiple
    of 4) in a body with many repeats. One regex search in C per body, not a Python loop over its
    windows: the loop was a tenth of the matcher's CPU on the labelled corpus."""
    low = body.lower()
    if _RUN10.search(low) or (len(low) < 10 and any(low in seq for seq in _SEQUENCES)):
        return True
    if len(set(low)) >= len(low) * 0.6:
        return False
    return any(m.start() % 4 == 0 for m in _RUN8.finditer(low))


def looks_fake(body: str, entropy_floor: float) -> bool:
    """Repeated or sequential characters, or entropy below the rule's floor."""
    if len(body) < 8:
        return False
    if _longest_run(body) >= max(6, len(body) // 4):
        return True
    if len(set(body)) <= 3:
        return True
    if _sequential(body):
        return True
    return entropy_floor > 0 and shannon(body) <= entropy_floor


# Well-known public development keys (ARCHITECTURE.md §4: not reported). Kept as SHA-256 digests
# of the published values, never the values: the Supabase CLI's local `supabase-demo` JWTs
# (service_role and anon, signed with the CLI's published dev secret; tests rebuild them from it)
# the test-mode keys printed in Stripe's documentation, and the fixed `sb_secret_` key that the
# Supabase CLI's local stack prints (`supabase status`), and the account key of Azurite (Azure's
# storage emulator, `devstoreaccount1`). A real account's keys are not here.
KNOWN_PUBLIC = frozenset(
    {
        "70541e07fd4f900b66e289f5be55c85f9bef1def4924a5b0c518c45ea1688c12",  # supabase-demo service_role
        "bf1725a8f98bea37e88618702e725ba84bd8acdb2647c5e0ed638bfd685791cf",  # supabase-demo anon
        "f2d6ca16515033e5dce14eba840b979d27b5cbae24bb3e5bf484339667f86397",  # Stripe docs test key
        "2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326",  # Stripe docs test key (API reference)
        "c85debb55f2f204d868cc1552c42faa143b4c675f61363ab040dd50b5b5304cd",  # Supabase CLI local secret key
        "0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059",  # Azurite devstoreaccount1 key
        # Supabase's self-hosting docker-compose default SECRET_KEY_BASE (published in its repository)
        "52f004438faf780274c9c95f79d1cf39d2355fbcf035899fc0242b1437f30df3",
        # the secret access key of the AWS S3 REST authentication (signature v1) documentation's example
        "0e8ad95d75d71161d9eb8929c48030c857b8774d9812bb1a5898ea81643e415b",
    }
)


def is_known_public(secret: str) -> bool:
    """A documented public development key: anyone can read it where it was published."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest() in KNOWN_PUBLIC
