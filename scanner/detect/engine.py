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
from scanner.detect.filters import is_placeholder, looks_fake
from scanner.detect.hosts import host_forms
from scanner.detect.prefilter import Prefilter, make_prefilter, span_max
from scanner.detect.validators import VALIDATORS, Verdict
from scanner.model import Confidence, Kind, Match, Rule

PRAGMA = b"keysweep:allow"
PRAGMA_MAX_LINE = 1000
CONTEXT_WIDTH = 120  # bytes of line kept each side of a match for its context (minified lines)
MAX_DECODE_DEPTH = 2  # e.g. a docker auth inside a base64 .dockerconfigjson inside a Secret


@dataclass(frozen=True, slots=True)
class _Candidate:
    rule: int
    start: int
    end: int
    secret: str | None
    checksum: bool
    confidence: Confidence
    text: str | None


class Matcher:
    """Compiled rules plus the prefilter that narrows where each may match."""

    def __init__(self, rules: Sequence[Rule], engine: str = "auto", serialized: bytes | None = None) -> None:
        # each rule, then the generic-property forms of the rules that list API hosts (same ids)
        self.rules = (*rules, *host_forms(rules))
        # compiled when a rule's prefilter first fires: a small scan (a range, a cached sweep)
        # touches a few rules, and compiling all of them is a visible part of its start-up
        self._regex: list[re.Pattern[bytes] | None] = [None] * len(self.rules)
        self._span = [span_max(r) for r in self.rules]
        self._prefix = [len(r.prefix) for r in self.rules]
        self._context = [tuple(c.encode() for c in r.context) for r in self.rules]
        self.prefilter: Prefilter = make_prefilter(self.rules, engine, serialized)
        self.engine = self.prefilter.name

    def scan(self, data: bytes) -> list[Match]:
        """Every secret in `data`, one match per span, with decoded layers included."""
        found = self._scan_decoded(data, MAX_DECODE_DEPTH)
        found.sort(key=lambda m: (m.start, m.end, m.rule_id))
        return [self._mark_line(data, m) for m in found]

    def _scan_decoded(self, data: bytes, depth: int) -> list[Match]:
        """Raw matches plus those inside decoded layers, located at the outermost encoded token."""
        found, triggers = self._scan_pass(data)
        if depth <= 0:
            return found
        for layer in decoders.layers(data, triggers):
            for m in self._scan_decoded(layer.text, depth - 1):
                if m.secret is None:
                    continue
                if any(f.secret == m.secret and f.start < layer.end and layer.start < f.end for f in found):
                    continue
                start, end = layer.locate(m.start, m.end)
                found.append(replace(m, start=start, end=end, encoding=layer.encoding, pragma=False))
        return found

    def scan_raw(self, data: bytes) -> list[Match]:
        """The matches in `data` as written, without decoding anything."""
        return self._scan_pass(data)[0]

    def _scan_pass(self, data: bytes) -> tuple[list[Match], frozenset[str]]:
        cands: list[_Candidate] = []
        hits, triggers = self.prefilter.hits(data)
        for hit in hits:
            rx = self._regex[hit.rule]
            if rx is None:
                rx = self._regex[hit.rule] = re.compile(self.rules[hit.rule].pattern.encode())
            pos, endpos = hit.lo, min(len(data), hit.hi + self._span[hit.rule])
            while pos < hit.hi:
                m = rx.search(data, pos, endpos)
                if m is None or m.start() >= hit.hi:
                    break
                pos = m.end() if m.end() > m.start() else m.start() + 1
                c = self._candidate(hit.rule, m, data)
                if c is not None:
                    cands.append(c)
        return self._resolve(cands), triggers

    def _candidate(self, i: int, m: re.Match[bytes], data: bytes) -> _Candidate | None:
        rule = self.rules[i]
        if self._context[i]:
            cw = rule.context_window
            around = data[max(0, m.start() - cw) : m.end() + cw].lower()
            if not any(c in around for c in self._context[i]):
                return None
        if rule.kind is Kind.EXPOSURE:
            text = m.group(0).decode("utf-8", "replace")
            return _Candidate(i, m.start(), m.end(), None, False, rule.confidence, text)
        raw = m.group("secret")
        secret = raw.decode("utf-8", "replace")
        if is_placeholder(secret) or looks_fake(secret[self._prefix[i] :], rule.entropy_floor):
            return None
        verdict = Verdict(True)
        if rule.validator:
            verdict = VALIDATORS[rule.validator](secret, m.group(0).decode("utf-8", "replace"))
            if not verdict.ok:
                return None
        conf = rule.confidence
        if rule.markers and any(mk in secret for mk in rule.markers):
            conf = Confidence.HIGH
        s, e = m.span("secret")
        return _Candidate(i, s, e, verdict.secret or secret, verdict.checksum, conf, None)

    def _rank(self, c: _Candidate) -> tuple[int, int, int, int, str]:
        r = self.rules[c.rule]
        return (-int(c.checksum), -len(r.prefix), -int(bool(r.context)), -(c.end - c.start), r.id)

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
                members = [c for c in group if self.rules[c.rule].kind is kind]
                if not members:
                    continue
                best = min(members, key=self._rank)
                others = tuple(sorted({self.rules[c.rule].id for c in members} - {self.rules[best.rule].id}))
                out.append(
                    Match(
                        rule_id=self.rules[best.rule].id,
                        start=best.start,
                        end=best.end,
                        secret=best.secret,
                        confidence=best.confidence,
                        also_matched=others,
                        exposure_text=best.text,
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
    def _mark_line(data: bytes, m: Match) -> Match:
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
            assigned = assigned_to(data, m.start)
            left = data[max(ls, m.start - CONTEXT_WIDTH) : m.start]
            right = data[m.end : max(m.end, min(le, m.end + CONTEXT_WIDTH))]
            masked = b"".join(left.split()) + b"\0" + b"".join(right.split())  # reformat-proof
            context = hashlib.sha256(masked).hexdigest()
        if pragma or context is not None:
            return replace(m, pragma=pragma, context=context, assigned=assigned)
        return m
