"""The rule engine: prefilter regions, then each rule's precise regex, validators and filters.

`Matcher.scan(data)` is pure: bytes in, matches out. A blob is scanned once for every path that
holds it, so nothing here depends on a path.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from scanner.detect import decoders
from scanner.detect.context import assigned_to
from scanner.detect.evidence import Evidence, Tie, import_regex
from scanner.detect.filters import (
    SAID_DEFAULT,
    SAID_FAKE,
    is_known_public,
    is_placeholder,
    looks_fake,
    said_default,
    said_fake,
)
from scanner.detect.hosts import host_forms
from scanner.detect.jslex import code_offsets
from scanner.detect.prefilter import Hit, Prefilter, make_prefilter, slot_span, span_max
from scanner.detect.shapes import VALUE_END, VALUE_START, anchored, prefix_max
from scanner.detect.slots import (
    FLOAT,
    MIN_VALUE,
    PATTERN_WORDS,
    RELAY_RULE,
    RELAY_SHAPE,
    SLOT_VALIDATOR,
    judge,
    names_a_credential,
    relay_host,
    service_of,
    value_class,
)
from scanner.detect.validators import VALIDATORS, Verdict
from scanner.model import Confidence, Kind, Match, Rule

PRAGMA = b"keysweep:allow"
PRAGMA_MAX_LINE = 1000
CONTEXT_WIDTH = 120  # bytes of line kept each side of a match for its context (minified lines)
MAX_DECODE_DEPTH = 2  # e.g. a docker auth inside a base64 .dockerconfigjson inside a Secret


def _occurrences(text: bytes, needle: bytes) -> list[int]:
    out = []
    k = text.find(needle)
    while k != -1:
        out.append(k)
        k = text.find(needle, k + 1)
    return out


@dataclass(frozen=True, slots=True)
class _Candidate:
    rule: int
    start: int
    end: int
    secret: str | None
    checksum: bool
    confidence: Confidence
    text: str | None
    tie: int = Tie.NAMED
    alone: str | None = None
    said_fake: str | None = None
    # the secret's structure is verified offline: a checksum passes, the provider's payload decodes,
    # a structural literal is in it (pragmas a change adds, "not real" comments); an observed
    # marker (Groq's) only raises confidence
    verified: bool = False
    public: str | None = None
    vetoed: bool = False  # a provider's shape its checks rejected: never reported (see _candidate)
    service: str | None = None  # the service the evidence names (detect/slots.py)
    pair: str | None = None  # the nearest companion value (an AWS key ID's secret): `--verify` only


class Matcher:
    """Compiled rules plus the prefilter that narrows where each may match."""

    def __init__(self, rules: Sequence[Rule], engine: str = "auto", serialized: bytes | None = None) -> None:
        # each rule, then the generic-property forms of the rules that list API hosts (same ids)
        self.rules = (*rules, *host_forms(rules))
        # compiled when a rule's prefilter first fires: a small scan (a range, a cached sweep)
        # touches a few rules, and compiling all of them is a visible part of its start-up
        self._regex: list[re.Pattern[bytes] | None] = [None] * len(self.rules)
        self._slot: list[re.Pattern[bytes] | None] = [None] * len(self.rules)
        self._imports: dict[int, re.Pattern[bytes] | None] = {}  # compiled when first asked
        self._companion: list[re.Pattern[bytes] | None] = [None] * len(self.rules)
        self._public_rx: dict[int, tuple[re.Pattern[bytes], ...]] = {}
        self._span = [span_max(r) for r in self.rules]
        self._slot_span = [slot_span(r) if r.slot_pattern else 0 for r in self.rules]
        self._slot_prefix = [
            prefix_max(r.callees, r.clients, anchored(r.accept)) if r.slot_pattern else 0 for r in self.rules
        ]
        self._value: list[re.Pattern[bytes] | None] = [None] * len(self.rules)
        self._prefix = [len(r.prefix) for r in self.rules]
        self._by_id = {r.id: i for i, r in enumerate(rules)}  # the written rules, not their host forms
        self._context = [tuple(c.encode() for c in r.context) for r in self.rules]  # lowercase
        # a written pattern needs evidence when the rule names context terms (a shared prefix, or
        # generic setting names), or accepts evidence and has no slot pattern; otherwise the
        # pattern holds the provider's name itself (`MISTRAL_API_KEY=…`)
        # the credential-slot detector (detect/slots.py): any provider rule on the same value wins
        self._generic = [r.validator == SLOT_VALIDATOR for r in self.rules]
        self._known_hosts = tuple(sorted({h for r in rules for h in r.hosts}))  # providers' own API hosts
        self._name_only = [bool(r.variable) and not r.prefix for r in self.rules]  # prefix-less named
        # a value with a provider's own prefix that no rule takes is a malformed or stand-in key
        # of that provider (a wrong checksum or marker, a length off by one), not an unknown one
        self._prefixes = tuple(sorted({r.prefix for r in rules if len(r.prefix) >= 3}))
        self._pattern_tied = [bool(r.context) or (bool(r.accept) and not r.slot_pattern) for r in self.rules]
        self.prefilter: Prefilter = make_prefilter(self.rules, engine, serialized)
        self.engine = self.prefilter.name

    def scan(self, data: bytes) -> list[Match]:
        """Every secret in `data`, one match per span, with decoded layers included."""
        found = self._scan_decoded(data, MAX_DECODE_DEPTH)
        found.sort(key=lambda m: (m.start, m.end, m.rule_id))
        taken = [(m.start, m.end) for m in found if m.secret is not None]  # a key as a name is no context
        return [self._mark_line(data, m, taken) for m in found]

    def _scan_decoded(self, data: bytes, depth: int) -> list[Match]:
        """Raw matches plus those inside decoded layers, located at the outermost encoded token."""
        found, triggers = self._scan_pass(data)
        if depth <= 0:
            return found
        layers = decoders.layers(data, triggers)
        for layer in layers:
            for m in self._scan_decoded(layer.text, depth - 1):
                if m.secret is None:
                    continue
                if any(f.secret == m.secret and f.start < layer.end and layer.start < f.end for f in found):
                    continue
                start, end = layer.locate(m.start, m.end)
                found.append(replace(m, start=start, end=end, encoding=layer.encoding, pragma=False))
        if layers:  # a key ID in one base64 value of a Secret, its secret in the next one
            found = [self._paired(data, m, layers) if m.alone else m for m in found]
        return found

    def scan_raw(self, data: bytes) -> list[Match]:
        """The matches in `data` as written, without decoding anything."""
        return self._scan_pass(data)[0]

    def _scan_pass(self, data: bytes) -> tuple[list[Match], frozenset[str]]:
        cands: list[_Candidate] = []
        hits, triggers = self.prefilter.hits(data)
        evidence: Evidence | None = None
        for hit in hits:
            for m in self._matches(hit, data):
                if evidence is None and (hit.slot or self._pattern_tied[hit.rule]):
                    evidence = Evidence(data, self._import_regex)
                c = self._candidate(hit.rule, m, data, hit.slot, evidence)
                if c is not None:
                    cands.append(c)
        code_only = [c.start for c in cands if self.rules[c.rule].code_only]
        if code_only:  # an option quoted in prose is no option (detect/jslex.py)
            in_code = code_offsets(data, code_only)
            cands = [c for c in cands if not self.rules[c.rule].code_only or c.start in in_code]
        return self._resolve(cands), triggers

    def _matches(self, hit: Hit, data: bytes) -> list[re.Match[bytes]]:
        """The matches of the hit's pattern that start in its region, left to right.

        A slot pattern is costly to try at every position, so its value is found first (a plain
        character-class regex); a slot match ends at a value and starts at most `prefix_max`
        bytes before it, so the slot regex is tried from there only — the same matches."""
        i = hit.rule
        rx = self._compiled(i, hit.slot)
        pos = hit.lo
        endpos = min(len(data), hit.hi + (self._slot_span[i] if hit.slot else self._span[i]))
        if self._generic[i]:  # (not in binary files: names and values there are not assignments)
            if data.find(b"\0", 0, 8192) != -1:  # (no 8 KiB copy per hit, as `in data[:8192]` made)
                return []
            return self._word_matches(rx, data, hit.lo, hit.hi, endpos)
        vrx = self._value_regex(i) if hit.slot else None
        out = []
        while pos < hit.hi:
            start = pos
            if vrx is not None:
                v = vrx.search(data, pos, endpos)
                if v is None:
                    break
                start = max(pos, v.start() + 1 - self._slot_prefix[i])  # +1: the character before
                if start >= hit.hi:
                    break
            m = rx.search(data, start, endpos)
            if m is None or m.start() >= hit.hi:
                break
            pos = m.end() if m.end() > m.start() else m.start() + 1
            out.append(m)
        return out

    @staticmethod
    def _word_matches(
        rx: re.Pattern[bytes], data: bytes, lo: int, hi: int, endpos: int
    ) -> list[re.Match[bytes]]:
        """The credential-slot pattern's matches starting in [lo, hi): every match starts at a
        credential word, so the pattern is tried only where one starts (found in the lowercased
        text at C speed) — the same matches as a search, at a fraction of its cost on code."""
        out: list[re.Match[bytes]] = []
        last = lo
        low = data[lo:hi].lower()
        starts: set[int] = set()
        for word in PATTERN_WORDS:  # bytes.find runs at memchr speed; a regex alternation does not
            k = low.find(word)
            while k != -1:
                starts.add(k)
                k = low.find(word, k + 1)
        for k in sorted(starts):
            at = lo + k
            if at < last:
                continue
            m = rx.match(data, at, endpos)
            if m is not None:
                last = m.end()
                vs, ve = m.span("secret")
                if ve - vs < MIN_VALUE or FLOAT.match(data, vs, ve):
                    continue  # (most slots in code hold a short word or a number: dropped here)
                # judge's first question (memoised), asked here so that the slot values that are
                # no secret (most of them) never become candidates: judge would drop them anyway
                if value_class(data[vs:ve].decode("utf-8", "replace"), password=True) is not None:
                    out.append(m)
        return out

    def _value_regex(self, i: int) -> re.Pattern[bytes]:
        vrx = self._value[i]
        if vrx is None:
            vrx = self._value[i] = re.compile(f"{VALUE_START}(?:{self.rules[i].value}){VALUE_END}".encode())
        return vrx

    def _compiled(self, i: int, slot: bool) -> re.Pattern[bytes]:
        """The rule's compiled pattern, or its slot pattern (compiled when first needed)."""
        cache = self._slot if slot else self._regex
        rx = cache[i]
        if rx is None:
            rule = self.rules[i]
            rx = cache[i] = re.compile((rule.slot_pattern if slot else rule.pattern).encode())
        return rx

    def _import_regex(self, i: int) -> re.Pattern[bytes] | None:
        if i not in self._imports:
            self._imports[i] = import_regex(self.rules[i].imports)
        return self._imports[i]

    def _tie(self, i: int, m: re.Match[bytes], slot: bool, evidence: Evidence | None) -> Tie:
        """How the match is tied to the rule's provider (Tie.NONE: it is not)."""
        rule = self.rules[i]
        if not slot and not self._pattern_tied[i]:
            return Tie.NAMED  # the provider's name is in the match, or the rule needs no evidence
        assert evidence is not None
        positional = slot and "pos" in m.re.groupindex and m.group("pos") is not None
        value = m.start("secret") if "secret" in m.re.groupindex else m.start()
        return evidence.tie(i, rule, self._context[i], m.span(), value, positional)

    def _companion_regex(self, i: int) -> re.Pattern[bytes]:
        rx = self._companion[i]
        if rx is None:
            rx = self._companion[i] = re.compile(self.rules[i].companion.encode())
        return rx

    def _alone(self, i: int, data: bytes, s: int, e: int) -> str | None:
        """The rule's `alone` reason when its companion is nowhere near [s, e)."""
        rule = self.rules[i]
        if not rule.companion:
            return None
        w = rule.companion_window
        for m in self._companion_regex(i).finditer(data, max(0, s - w), min(len(data), e + w)):
            if m.end() <= s or m.start() >= e:
                return None
        return rule.alone

    def _companion_near(self, i: int, data: bytes, s: int, e: int) -> str | None:
        """The companion value nearest to [s, e) within the rule's window, for `--verify` to sign
        with; None if none. Nearest: fewest line breaks between, then the one after it (an ID
        is written before its secret), then fewest bytes — not bytes first: setting names differ
        in length, and the secret of the block above is often fewer bytes away."""
        if not self.rules[i].companion:
            return None
        w = self.rules[i].companion_window
        best: tuple[int, int, int, bytes] | None = None
        for m in self._companion_regex(i).finditer(data, max(0, s - w), min(len(data), e + w)):
            if m.end() <= s or m.start() >= e:
                lo, hi, before = (m.end(), s, 1) if m.end() <= s else (e, m.start(), 0)
                rank = (data.count(b"\n", lo, hi), before, hi - lo)
                if best is None or rank < best[:3]:
                    best = (*rank, m.group(0))
        return best[3].decode("ascii", "replace") if best is not None else None

    def _paired(self, data: bytes, m: Match, layers: Sequence[decoders.Layer]) -> Match:
        """`m` (alone where it was found) with its companion looked for in the text around it as
        written and in the decoded layers near it: each value of a Kubernetes Secret is its own
        base64 layer, and a JSON string with escapes its own literal."""
        i = self._by_id[m.rule_id]
        if m.alone != self.rules[i].alone or not self.rules[i].companion:
            return m  # a validator's own low reason (an expired token), not a missing companion
        if m.secret is None or self._alone(i, data, m.start, m.end) is None:
            return replace(m, alone=None, pair=self._companion_near(i, data, m.start, m.end))
        w = self.rules[i].companion_window
        rx = self._companion_regex(i)
        own = m.secret.encode()
        for layer in layers:
            if layer.end <= m.start - w or layer.start >= m.end + w:
                continue
            text = layer.text
            ids = [(k, k + len(own)) for k in _occurrences(text, own)]
            for c in rx.finditer(text):
                if not any(c.start() < b and a < c.end() for a, b in ids):
                    return replace(m, alone=None, pair=c.group(0).decode("ascii", "replace"))
        return m

    def _public(self, i: int, data: bytes, s: int, e: int) -> str | None:
        """The rule's `public_reason` when a context that makes the key public by design (a
        Firebase web config) surrounds [s, e): enough of its markers in the same object or block
        (no `{`, `}` or `;` between a marker and the key), so that a bare key minified next to a
        config is not taken for one of its fields."""
        rule = self.rules[i]
        if not rule.public_with:
            return None
        rxs = self._public_rx.get(i)
        if rxs is None:
            rxs = self._public_rx[i] = tuple(re.compile(p.encode()) for p in rule.public_with)
        w = rule.public_window
        lo, hi = max(0, s - w), min(len(data), e + w)
        seen = 0
        for rx in rxs:
            for m in rx.finditer(data, lo, hi):
                gap = data[m.end() : s] if m.end() <= s else data[e : m.start()]
                if not any(c in gap for c in b"{};"):
                    seen += 1
                    break
        return rule.public_reason if seen >= rule.public_min else None

    def _candidate(
        self, i: int, m: re.Match[bytes], data: bytes, slot: bool = False, evidence: Evidence | None = None
    ) -> _Candidate | None:
        rule = self.rules[i]
        tie = self._tie(i, m, slot, evidence)
        if tie is Tie.NONE:
            return None
        if rule.kind is Kind.EXPOSURE:
            text = m.group(0).decode("utf-8", "replace")
            return _Candidate(i, m.start(), m.end(), None, False, rule.confidence, text)
        raw = m.group("secret")
        secret = raw.decode("utf-8", "replace")
        s, e = m.span("secret")
        # a provider's own shape that its checks reject (a placeholder, a wrong checksum, a known
        # public key) is not a credential: it vetoes the credential-slot detector on that value
        veto = (
            None if self._generic[i] else _Candidate(i, s, e, None, False, rule.confidence, None, vetoed=True)
        )
        conf = rule.confidence
        if self._name_only[i] and not slot and not names_a_credential(data, s, secret):
            return None  # a rule that needs only a name still needs a credential's name and value
        if self._generic[i]:  # the whole name around the value first: most slots are no credential
            judged = judge(data, s, secret)
            if judged is None or (secret.startswith(self._prefixes) and not RELAY_SHAPE.fullmatch(secret)):
                return None
            conf = judged
        elif is_placeholder(secret) or looks_fake(secret[self._prefix[i] :], rule.entropy_floor):
            return veto
        if is_known_public(secret):  # documented public development keys: not a leak (§4)
            return veto
        verdict = Verdict(True)
        if rule.validator and not self._generic[i]:  # (judge has seen the value)
            verdict = VALIDATORS[rule.validator](secret, m.group(0).decode("utf-8", "replace"))
            if not verdict.ok:
                return veto
        marker = bool(rule.markers) and any(mk in secret for mk in rule.markers)
        # `"sk-…"  # correct format, not real`: never dropped; low unless verified offline
        verified = verdict.structure or any(x in secret for x in rule.structure)
        fake = SAID_FAKE if not verified and said_fake(data, m.end("secret")) else None
        if fake is None and self._generic[i] and said_default(data, s, e):
            fake = SAID_DEFAULT  # a shipped default the code says to replace: low, says why
        if marker:
            conf = Confidence.HIGH
        pair = self._companion_near(i, data, s, e) if rule.companion else None
        alone = (rule.alone if rule.companion and pair is None else None) or verdict.low
        public = self._public(i, data, s, e)
        service = verdict.service  # a JWT's issuer (validators.py)
        if self._generic[i]:
            service = service_of(data, s, e)
        elif rule.id == RELAY_RULE:
            service = relay_host(data, s, e, self._known_hosts)
            if service is not None:
                tie = max(tie, Tie.HOST)  # the relay's base URL outranks a provider word nearby
        return _Candidate(
            i,
            s,
            e,
            verdict.secret or secret,
            verdict.checksum,
            conf,
            None,
            tie,
            alone,
            fake,
            verified,
            public,
            service=service,
            pair=pair,
        )

    def _rank(self, c: _Candidate) -> tuple[int, int, int, int, int, str]:
        r = self.rules[c.rule]
        return (-int(c.checksum), -len(r.prefix), -int(bool(r.context)), -c.tie, -(c.end - c.start), r.id)

    def _rivals(self, c: _Candidate) -> set[str]:
        """The rivals of a match that no evidence ties: the rules whose own pattern takes the same
        secret (Clerk's `sk_live_` keys for an untied Stripe-shaped one), named, never guessed away."""
        rule = self.rules[c.rule]
        if c.tie != Tie.BARE or not rule.rivals or c.secret is None:
            return set()
        out = set()
        for rid in rule.rivals:
            j = self._by_id.get(rid)
            if j is not None and self._compiled(j, False).fullmatch(c.secret.encode()):
                out.add(rid)
        return out

    def _resolve(self, cands: list[_Candidate]) -> list[Match]:
        """When several rules match one span, one names the finding; the rest are `also_matched`."""
        cands.sort(key=lambda c: (c.start, -c.end))
        out: list[Match] = []
        group: list[_Candidate] = []
        group_end = -1

        def flush() -> None:
            if not group:
                return
            for kind in (Kind.SECRET, Kind.EXPOSURE):
                members = [c for c in group if self.rules[c.rule].kind is kind and not c.vetoed]
                named = [c for c in members if not self._generic[c.rule]]
                if named or any(c.vetoed for c in group):  # a provider rule on the value decides
                    members = named
                if not members:
                    continue
                best = min(members, key=self._rank)
                # a rule that matched with no evidence is no rival of one the evidence names
                ids = {self.rules[c.rule].id for c in members if c.tie != Tie.BARE or best.tie == Tie.BARE}
                ids |= self._rivals(best)
                others = tuple(sorted(ids - {self.rules[best.rule].id}))
                out.append(
                    Match(
                        rule_id=self.rules[best.rule].id,
                        start=best.start,
                        end=best.end,
                        secret=best.secret,
                        confidence=best.confidence,
                        also_matched=others,
                        exposure_text=best.text,
                        alone=best.alone,
                        service=best.service,
                        said_fake=best.said_fake,
                        verified=best.verified,
                        public=best.public,
                        pair=best.pair,
                    )
                )

        for c in cands:
            if c.start >= group_end:
                flush()
                group = []
            group.append(c)
            group_end = max(group_end, c.end)
        flush()
        return out

    @staticmethod
    def _mark_line(data: bytes, m: Match, taken: Sequence[tuple[int, int]] = ()) -> Match:
        """The pragma on the match's line, and for a secret the line's context digest."""
        ls = max(data.rfind(b"\n", 0, m.start), data.rfind(b"\r", 0, m.start)) + 1
        le = len(data)
        for sep in (b"\n", b"\r"):
            j = data.find(sep, m.start)
            if j != -1:
                le = min(le, j)
        pragma = le - ls <= PRAGMA_MAX_LINE and PRAGMA in data[ls:le]
        context = assigned = None
        if m.secret is not None:
            assigned = assigned_to(data, m.start, taken)
            left = data[max(ls, m.start - CONTEXT_WIDTH) : m.start]
            right = data[m.end : max(m.end, min(le, m.end + CONTEXT_WIDTH))]
            masked = b"".join(left.split()) + b"\0" + b"".join(right.split())  # reformat-proof
            context = hashlib.sha256(masked).hexdigest()
        if pragma or context is not None:
            return replace(m, pragma=pragma, context=context, assigned=assigned)
        return m
