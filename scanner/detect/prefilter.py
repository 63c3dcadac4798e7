"""The multi-pattern pass: which rules might match where, found in one pass over the text.

Two interchangeable implementations give the same candidate regions to the precise stage:
hyperscan (C, one pass for all rules) and a pure-Python fallback (literal keywords, then the
whole text). `KEYSWEEP_ENGINE=python` — read by the CLI, passed in here — selects the fallback.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scanner.detect.decoders import TRIGGERS
from scanner.detect.shapes import anchored, prefilter_slots, prefix_max, shared_slots
from scanner.detect.slots import SLOT_REACH, SLOT_VALIDATOR, hs_expression
from scanner.model import Rule

hyperscan: Any
try:  # hyperscan has wheels for x86-64 Linux only; elsewhere the fallback runs
    import hyperscan
except ImportError:  # pragma: no cover - depends on the platform
    hyperscan = None

SLACK = 256  # room for assignment keywords and boundaries around a secret
# bump when the compiled database changes for reasons other than the rules (cache key)
DATABASE_FORMAT = 9  # 3: host forms (detect/hosts.py); 4: slot patterns under their own ids; 5: inline-map
# trigger; 6-7: the credential-slot pattern compiled exactly (detect/slots.py hs_expression); 8: with its
# bounded repeats left open; 9: patterns cut after their last required piece (hs_pattern), evidence gates
_TRIGGER_NAMES = tuple(TRIGGERS)
_TRIGGER_RX = tuple(re.compile(TRIGGERS[n]) for n in _TRIGGER_NAMES)


def span_max(rule: Rule) -> int:
    """Longest stretch of text one match of `rule` can cover."""
    return rule.max_length + SLACK


def slot_span(rule: Rule) -> int:
    """Longest stretch one match of the rule's slot pattern can cover (it may start at the
    provider's callee, well before the credential's name)."""
    return rule.max_length + prefix_max(rule.callees, rule.clients, anchored(rule.accept)) + 16


SHORT_KEYWORD = 3  # a rule with a keyword this short has no literal for hyperscan to anchor on


def evidence_gate(rule: Rule) -> tuple[str, ...]:
    """For a rule whose shape has no literal to anchor on (a keyword shorter than SHORT_KEYWORD:
    Mailgun's `32 hex - 8 hex - 8 hex`) and whose every match needs evidence (no `bare`): the
    terms one of which a text must hold for a match to be tied to the provider there
    (detect/evidence.py: a context term near, a callee, an import, a host), lowercased; else ().

    Hyperscan then looks for those terms instead of the shape (runs of a character class cost it
    more than a whole rule set's literals: 0.07 s of a 0.5 s pass over the corpus tree), and a text
    that holds one is tried whole, as the Python prefilter tries every text with a keyword."""
    if rule.slot_pattern or rule.validator == SLOT_VALIDATOR or not rule.accept or "bare" in rule.accept:
        return ()
    if not any(len(k) < SHORT_KEYWORD for k in rule.keywords):
        return ()
    terms = {"near": rule.context, "call": rule.callees, "import": rule.imports, "host": rule.hosts}
    return tuple(sorted({t.lower() for kind in rule.accept for t in terms.get(kind, ())}))


def _strip_names(pattern: str) -> str:
    return re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(", pattern)


_TAIL_RANGE = re.compile(r"(\{(\d+),(\d*)\}|[+*])(\)*)$")


def _closers(p: str) -> dict[int, int]:
    """Where each group of the regex `p` closes -> where it opens (escapes and classes skipped)."""
    out: dict[int, int] = {}
    stack: list[int] = []
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 2 if p.startswith("[^", i) else 1
            i += 1 if i < n and p[i] == "]" else 0  # a leading `]` is a member
            while i < n and p[i] != "]":
                i += 2 if p[i] == "\\" else 1
        elif c == "(":
            stack.append(i)
        elif c == ")" and stack:
            out[i] = stack.pop()
        i += 1
    return out


_OPTIONAL = re.compile(r"(?:\?|\*|\{0,\d*\})$")


def _cut_tail(p: str) -> str:
    """`p` without what may end a match after its last required piece: trailing lookaheads
    (hyperscan's prefilter mode ignores them) and optional groups or classes (`(?:==?)?`,
    `(?:-[0-9])?`), looked for at the end of the groups that end the pattern."""
    while True:
        groups = _closers(p)
        k = len(p)
        cut: tuple[int, int] | None = None
        while cut is None and k > 0:
            q = _OPTIONAL.search(p, 0, k)
            if q is not None and q.start() > 0 and p[q.start() - 1] == ")" and q.start() - 1 in groups:
                cut = (groups[q.start() - 1], k)  # an optional group
            elif (
                q is not None
                and q.start() > 0
                and p[q.start() - 1] == "]"
                and not p[:k].endswith("\\]" + q.group())
            ):
                j = p.rfind("[", 0, q.start() - 1)
                if j == -1:
                    break
                cut = (j, k)  # an optional class (no `[` inside it: the rules' classes hold none)
            elif p[k - 1] == ")" and k - 1 in groups:
                o = groups[k - 1]
                if p.startswith(("(?!", "(?="), o):
                    cut = (o, k)
                else:
                    k -= 1  # the last piece of the group that ends the pattern
            else:
                break
        if cut is None:
            return p
        p = p[: cut[0]] + p[cut[1] :]


def hs_pattern(pattern: str) -> str:
    """The rule's regex as hyperscan takes it: no group names, and its tail cut to the shortest
    form every match starts with: trailing lookaheads and optional pieces dropped, then the last
    repeat cut to its minimum.

    Every match of the full pattern then has a prefix that the cut form matches, ending no later
    than the full match (inside its region, detect/engine.py), and hyperscan reports one end per
    match instead of one per extra character: an open `{100,1990}` before `(?:==?)?` (a base64
    token's padding) gave one event per character of every token on the corpus tree."""
    body = _cut_tail(_strip_names(pattern))
    m2 = _TAIL_RANGE.search(body)
    if m2:
        q, lo = m2.group(1), m2.group(2)
        repl = "{" + lo + "}" if lo is not None else ("" if q == "+" else "{0}")
        head = body[: m2.start()]
        if repl in ("{0}", "{}") and head.endswith("]") and "[" in head:
            head, repl = head[: head.rindex("[")], ""  # hyperscan takes no `{0}`: drop the class
        body = head + repl + m2.group(4)
    return body


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule that may match, and the region of text where its match may start."""

    rule: int
    lo: int
    hi: int
    slot: bool = False  # a hit of the rule's slot pattern (docs/rules-notes.md "Context")


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    spans.sort()
    out: list[tuple[int, int]] = []
    for lo, hi in spans:
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


class PythonPrefilter:
    """Pure-Python prefilter: a rule whose keyword occurs is tried over the whole text."""

    name = "python"

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._keywords = [tuple(k.encode() for k in r.keywords) for r in rules]
        self._slot = [bool(r.slot_pattern) for r in rules]

    def hits(self, data: bytes) -> tuple[list[Hit], frozenset[str]]:
        """Candidate regions per rule, and the decoders the text calls for."""
        low = data.lower()
        n = len(data)
        hits = []
        for i, kws in enumerate(self._keywords):
            if any(k in low for k in kws):
                hits.append(Hit(i, 0, n))
                if self._slot[i]:
                    hits.append(Hit(i, 0, n, True))
        triggers = frozenset(
            name for name, rx in zip(_TRIGGER_NAMES, _TRIGGER_RX, strict=True) if rx.search(data)
        )
        return hits, triggers


class HyperscanPrefilter:
    """One hyperscan pass over the text for every rule; windows around each reported end."""

    name = "hyperscan"

    def __init__(self, rules: Sequence[Rule], serialized: bytes | None = None) -> None:
        if hyperscan is None:
            raise RuntimeError("hyperscan is not installed")
        # how far before a reported end a match can start: the credential-slot pattern is compiled
        # exactly and ends at its value's first digit and letter, well within SLOT_REACH
        self._spans = [SLOT_REACH if r.validator == SLOT_VALIDATOR else span_max(r) for r in rules]
        self._slot_spans = [slot_span(r) if r.slot_pattern else 0 for r in rules]
        self._shared = [i for i, r in enumerate(rules) if r.slot_pattern and not anchored(r.accept)]
        self._nrules = len(rules)
        if serialized is not None:
            self._db = hyperscan.loadb(serialized, hyperscan.HS_MODE_BLOCK)
        else:
            self._db = self._compile(rules)
        self._db.scratch = hyperscan.Scratch(self._db)

    @staticmethod
    def _expressions(rules: Sequence[Rule]) -> list[tuple[bytes, int, Rule | None]]:
        """(expression, id, rule) for every pattern; ids: rules' patterns [0, n), decoder
        triggers [n, n + T), slot patterns [n + T, 2n + T), and one expression for the
        unanchored credential slots of every rule (2n + T); the evidence gates of the rules
        that have one take [2n + T + 1, 3n + T + 1) (_compile)."""
        out: list[tuple[bytes, int, Rule | None]] = []
        slot_base = len(rules) + len(_TRIGGER_NAMES)
        for i, r in enumerate(rules):
            slot = (
                prefilter_slots(r.value, r.callees, r.clients, anchored(r.accept)) if r.slot_pattern else ""
            )
            gated = bool(evidence_gate(r))  # its terms are looked for instead (_compile)
            for pattern, rid in ((r.pattern, i), (slot, slot_base + i)):
                if pattern and not (gated and rid == i):
                    hs = (
                        hs_expression(pattern)
                        if r.validator == SLOT_VALIDATOR and rid == i
                        else hs_pattern(pattern)
                    )
                    out.append((hs.encode(), rid, r))
        shared = [r.value for r in rules if r.slot_pattern and not anchored(r.accept)]
        if shared:
            out.append((hs_pattern(shared_slots(shared)).encode(), slot_base + len(rules), None))
        return out

    @classmethod
    def _compile(cls, rules: Sequence[Rule]) -> Any:
        patterns = cls._expressions(rules)
        # decoder triggers ride along in the same pass, reported once each
        base = len(rules)
        triggers = [(TRIGGERS[name], base + j) for j, name in enumerate(_TRIGGER_NAMES)]

        def build(items: list[tuple[bytes, int, int]]) -> Any:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            db.compile(
                expressions=[e for e, _, _ in items],
                ids=[i for _, i, _ in items],
                flags=[f for _, _, f in items],
            )
            return db

        tail = [(e, i, hyperscan.HS_FLAG_SINGLEMATCH) for e, i in triggers]
        gate_base = 2 * len(rules) + len(_TRIGGER_NAMES) + 1
        once = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_CASELESS
        for i, rule in enumerate(rules):  # a gated rule's evidence terms, reported once each
            tail.extend((re.escape(t).encode(), gate_base + i, once) for t in evidence_gate(rule))

        def flag(r: Rule | None) -> int:
            # the credential-slot pattern is compiled exactly: in prefilter mode hyperscan widens
            # it to little more than its leading words, which occur everywhere in code
            return 0 if r is not None and r.validator == SLOT_VALIDATOR else hyperscan.HS_FLAG_PREFILTER

        try:  # one compile when every pattern is fine (the usual case)
            return build([(e, i, flag(r)) for e, i, r in patterns] + tail)
        except Exception:  # noqa: BLE001 - hyperscan raises one class per cause
            pass
        items: list[tuple[bytes, int, int]] = []
        for e, rid, r in patterns:
            try:  # patterns that hyperscan cannot take fall back to their rule's literal keywords
                build([(e, rid, flag(r))])
                items.append((e, rid, flag(r)))
            except Exception:  # noqa: BLE001
                keywords = r.keywords if r is not None else ()
                items.extend((re.escape(k).encode(), rid, hyperscan.HS_FLAG_CASELESS) for k in keywords)
        return build(items + tail)

    def serialize(self) -> bytes:
        return bytes(hyperscan.dumpb(self._db))

    def hits(self, data: bytes) -> tuple[list[Hit], frozenset[str]]:
        """Candidate regions per rule, and the decoders the text calls for, in one pass."""
        if not data:
            return [], frozenset()
        ends: list[tuple[int, int]] = []
        add = ends.append

        def on_match(rid: int, _from: int, to: int, _flags: int, _ctx: object) -> None:
            add((rid, to))

        self._db.scan(data, match_event_handler=on_match)
        if not ends:
            return [], frozenset()
        per: dict[int, list[tuple[int, int]]] = {}
        triggers: set[str] = set()
        n = len(data)
        nrules = self._nrules
        slot_base = nrules + len(_TRIGGER_NAMES)
        shared_id = slot_base + nrules
        whole: set[int] = set()  # gated rules whose evidence the text holds: tried over all of it
        for rid, to in ends:
            if rid > shared_id:
                whole.add(rid - shared_id - 1)
                continue
            if nrules <= rid < slot_base:
                triggers.add(_TRIGGER_NAMES[rid - nrules])
                continue
            if rid == shared_id:  # an unanchored credential slot: any of those rules' values
                for i in self._shared:
                    s = self._slot_spans[i]
                    per.setdefault(slot_base + i, []).append((max(0, to - s), min(n, to + 1)))
                continue
            s = self._slot_spans[rid - slot_base] if rid >= slot_base else self._spans[rid]
            per.setdefault(rid, []).append((max(0, to - s), min(n, to + 1)))
        hits = [
            Hit(rid - slot_base, lo, hi, True) if rid >= slot_base else Hit(rid, lo, hi)
            for rid, spans in sorted(per.items())
            for lo, hi in _merge(spans)
        ]
        hits.extend(Hit(i, 0, n) for i in sorted(whole))
        hits.sort(key=lambda h: h.rule)
        return hits, frozenset(triggers)


Prefilter = PythonPrefilter | HyperscanPrefilter


def make_prefilter(rules: Sequence[Rule], engine: str, serialized: bytes | None = None) -> Prefilter:
    """`engine` is "hyperscan", "python" or "auto" (hyperscan when installed)."""
    if engine == "python" or (engine == "auto" and hyperscan is None):
        return PythonPrefilter(rules)
    return HyperscanPrefilter(rules, serialized)
