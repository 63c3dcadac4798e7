"""Evidence that ties a key with no identifying prefix to its provider, within bounded windows.

A rule names the kinds it accepts (`accept`) and the terms of each:

- **near**: one of the rule's `context` terms (provider name, env var name, header) within
  `context_window` bytes either side of the match;
- **call**: the value sits in a call or `new` expression whose callee names the provider
  (`Mistral(api_key="…")`, `new CohereClient({ token: "…" })`, `cohere.ClientV2("…")`,
  `mistral.NewMistralClientDefault("…")`): the enclosing callees are found by walking back over
  brackets at most CALL_WINDOW bytes and CALL_DEPTH calls; a positional argument counts only
  for the call it is an argument of;
- **import**: the text imports one of the rule's SDK modules (Python `import`/`from`, JS/TS
  `import … from`/`require()`/`import()`, a Go import path) within IMPORT_WINDOW bytes before the
  match; a positional argument of one of the rule's `clients` (`ClientV2("…")`) needs it;
- **host**: one of the rule's API hosts within the rule's `host_window` bytes either side (the
  window detect/hosts.py uses for minified bundles, where client code and key drift apart);
- **bare**: none of these, and the rule still owns the match (a prefix that two providers share,
  such as Stripe's and Clerk's `sk_live_`, whose first owner keeps it at the weakest tie and names
  its `rivals` in also_matched).

Ties rank the rules that match one span: a term in the name the value is assigned to
(`CLERK_SECRET_KEY=…` beside `STRIPE_SECRET_KEY=…`) beats the call, the host or a term merely
near, which beat an import, which beats no evidence.

Everything here is a pure function of the text: both engines ask the same questions of the same
bytes, so they agree. Term positions are found once per text and rule (`Evidence`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from enum import IntEnum

from scanner.detect.context import assigned_name
from scanner.model import Rule

CALL_WINDOW = 600
CALL_DEPTH = 3
IMPORT_WINDOW = 64 * 1024

_CLOSE = frozenset(b")]}")
_CALLEE_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_$.:")
_SPACE = frozenset(b" \t\r\n")


class Tie(IntEnum):
    """How strongly a match is tied to its rule's provider (ranks rules that share a shape)."""

    NONE = 0
    BARE = 1  # no evidence, and the rule accepts that (`bare`): its rivals are named too
    IMPORT = 2
    NEAR = 3
    HOST = 4  # the host a key is sent to outranks a provider word merely nearby (issue 20)
    CALL = 5
    NAMED = 6  # the provider's name holds the value, or the rule needs no evidence


_BRACKETS = re.compile(rb"[()\[\]{}]")


def enclosing_calls(data: bytes, pos: int) -> list[tuple[bytes, bool]]:
    """The callees of the calls around `pos`, innermost first, and whether each call is the
    innermost bracket (the value is then one of its own arguments, not inside an object or a
    list passed to it). Brackets inside string literals are not told apart (bounded, rare)."""
    out: list[tuple[bytes, bool]] = []
    depth = 0
    innermost = True
    lo = max(0, pos - CALL_WINDOW)
    for m in reversed(list(_BRACKETS.finditer(data, lo, pos))):
        c = data[m.start()]
        if c in _CLOSE:
            depth += 1
        elif depth:
            depth -= 1
        else:
            if c == 0x28:  # "("
                out.append((_callee_before(data, m.start()), innermost))
                if len(out) >= CALL_DEPTH:
                    break
            innermost = False
    return out


def _callee_before(data: bytes, i: int) -> bytes:
    j = i
    while j > 0 and data[j - 1] in _SPACE and i - j < 8:
        j -= 1
    k = j
    while k > 0 and data[k - 1] in _CALLEE_CHARS and j - k < 120:
        k -= 1
    return data[k:j]


def import_regex(modules: Sequence[str]) -> re.Pattern[bytes] | None:
    """Import statements of `modules` in Python, JS/TS and Go syntax."""
    if not modules:
        return None
    py = [re.escape(m) for m in modules if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", m)]
    js = [re.escape(m) for m in modules if re.fullmatch(r"[@A-Za-z0-9_.][@A-Za-z0-9_./-]*", m)]
    go = [re.escape(m) for m in modules if re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+/[A-Za-z0-9_./-]+", m)]
    parts = []
    if py:
        alt = "|".join(py)
        parts.append(
            rf"(?m:^[ \t]*(?:from[ \t]+(?:{alt})(?:\.[\w.]+)?[ \t]+import\b|import[ \t]+(?:{alt})\b))"
        )
    if js:
        alt = "|".join(js)
        parts.append(
            rf"""(?:\bfrom|\bimport|\brequire\s*\(|\bimport\s*\()\s*["'](?:{alt})(?:/[^"'\s]*)?["']"""
        )
    if go:
        parts.append(rf"""(?m:^[ \t]*(?:import[ \t]+)?(?:[\w.]+[ \t]+)?"(?:{"|".join(go)})(?:/[^"\s]*)?")""")
    return re.compile("|".join(parts).encode())


class Evidence:
    """Evidence questions about one text, for the rules whose matches need it."""

    def __init__(self, data: bytes, imports: Callable[[int], re.Pattern[bytes] | None]) -> None:
        self.data = data
        self._import_rx = imports  # rule index -> its compiled import_regex(rule.imports)
        self._low: bytes | None = None
        self._terms: dict[bytes, list[int]] = {}
        self._imports: dict[int, list[int]] = {}

    def _lower(self) -> bytes:
        if self._low is None:
            self._low = self.data.lower()
        return self._low

    def _positions(self, term: bytes) -> list[int]:
        found = self._terms.get(term)
        if found is None:
            low = self._lower()
            found = []
            i = low.find(term)
            while i != -1:
                found.append(i)
                i = low.find(term, i + 1)
            self._terms[term] = found
        return found

    def _near(self, terms: Sequence[bytes], start: int, end: int, window: int) -> bool:
        """A term wholly inside [start - window, end + window)."""
        for t in terms:
            ps = self._positions(t)
            k = bisect.bisect_left(ps, max(0, start - window))
            if k < len(ps) and ps[k] + len(t) <= end + window:
                return True
        return False

    def _imported(self, i: int, rule: Rule, start: int) -> bool:
        ps = self._imports.get(i)
        if ps is None:
            ps = []
            low = self._lower()
            if any(m.lower().encode() in low for m in rule.imports):  # one memchr-speed pass first
                rx = self._import_rx(i)
                ps = [] if rx is None else [m.start() for m in rx.finditer(self.data)]
            self._imports[i] = ps
        k = bisect.bisect_left(ps, start - IMPORT_WINDOW)
        return k < len(ps) and ps[k] < start

    def tie(
        self, i: int, rule: Rule, terms: Sequence[bytes], span: tuple[int, int], value: int, positional: bool
    ) -> Tie:
        """The strongest accepted evidence for a match of rule `i` at `span` whose value starts at
        `value` (the calls that enclose the value are the ones that count)."""
        accept = rule.accept
        start, end = span
        calls = enclosing_calls(self.data, value) if ("call" in accept or positional) else []
        if positional:  # the value is an argument: of a call naming the provider, or of a known client
            if not calls or not calls[0][1]:
                return Tie.NONE
            callee = calls[0][0]
            if _names(rule, callee):
                return Tie.CALL
            tail = re.split(rb"[.:]+", callee)[-1].decode("ascii", "replace")
            ok = tail in rule.clients and "import" in accept and self._imported(i, rule, start)
            return Tie.IMPORT if ok else Tie.NONE
        if "call" in accept and any(_names(rule, callee) for callee, _ in calls):
            return Tie.CALL
        name = assigned_name(self.data, value)
        if name is not None and foreign(name, rule):  # `XFYUN_API_KEY = …` near an Azure host
            return Tie.BARE if "bare" in accept else Tie.NONE
        if "host" in accept and self._near(
            tuple(h.encode() for h in rule.hosts), start, end, rule.host_window
        ):
            return Tie.HOST
        if "near" in accept and self._near(terms, start, end, rule.context_window):
            low = name.lower().encode() if name else b""  # `CLERK_SECRET_KEY = …`: the name says
            # `openai` names the SDK an OpenAI-compatible service is used through, not the service
            return Tie.NAMED if any(t in low for t in terms if t.decode() not in GENERIC_WORDS) else Tie.NEAR
        if "import" in accept and self._imported(i, rule, start):
            return Tie.IMPORT
        return Tie.BARE if "bare" in accept else Tie.NONE


# Words of a credential's name that say nothing of whose it is: credential words, environments,
# public env prefixes, and `openai` (OpenAI-compatible clients point at other providers' hosts)
# fmt: off
GENERIC_WORDS = frozenset({
    "api", "key", "keys", "token", "tokens", "secret", "secrets", "access", "auth", "bearer",
    "subscription", "client", "credential", "credentials", "authorization", "password", "pass",
    "value", "config", "cfg", "settings", "setting", "my", "app", "application", "service",
    "default", "env", "environ", "prod", "production", "dev", "development", "test", "testing",
    "staging", "stage", "local", "live", "new", "old", "main", "primary", "secondary", "backup",
    "your", "org", "project", "account", "user", "admin", "master", "server", "backend",
    "frontend", "public", "private", "next", "vite", "react", "expo", "nuxt", "gatsby", "set",
    "with", "get", "the", "for", "llm", "model", "models", "provider", "base", "chat",
    "completion", "completions", "embedding", "embeddings", "search", "platform", "openai",
})
# fmt: on
_NAME_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_GLUED = sorted((g for g in GENERIC_WORDS if len(g) >= 3), key=len, reverse=True)  # longest first


def _core(word: str) -> str:
    """A name's word without the generic words it is glued from (`APIKEY`, `xfyunapikey`)."""
    while word and word not in GENERIC_WORDS:
        g = next((g for g in _GLUED if word.startswith(g) or word.endswith(g)), None)
        if g is None:
            return word
        word = word[len(g) :] if word.startswith(g) else word[: -len(g)]
    return ""


def foreign(name: str, rule: Rule) -> bool:
    """Whether the name a value is assigned to names some other service than the rule's
    provider (`XFYUN_API_KEY`, `MAPBOX_TOKEN`): then only the enclosing call can tie the value to
    this rule, not a host, a term or an import elsewhere in a multi-provider file."""
    words = [_core(w.lower()) for w in _NAME_WORD.findall(name)]
    rest = [w for w in words if len(w) >= 3]
    if not rest:
        return False
    own = (rule.provider.lower(), *rule.context, *rule.callees)
    return not any(w in t or t in w for w in rest for t in own)


SHORT_TERM = 5  # a callee term shorter than this must also end a word (`fal.config`, not `fallback`)


def _names(rule: Rule, callee: bytes) -> bool:
    """Whether a callee names the provider: one of the rule's `callees` starts a word of it
    (`cohere.ClientV2`, `CohereClient`, `makeMistralClient`, `mistral_client`; not `Default`)."""
    text = callee.decode("ascii", "replace")
    low = text.lower()
    for term in rule.callees:
        i = low.find(term)
        while i != -1:
            prev = text[i - 1] if i else ""
            starts = not prev.isalnum() or (text[i].isupper() and not prev.isupper())
            end = i + len(term)
            ends = len(term) >= SHORT_TERM or end == len(text) or not text[end].islower()
            if starts and ends:
                return True
            i = low.find(term, i + 1)
    return False
