"""Rules are data: one YAML file per provider, validated when loaded (ARCHITECTURE.md §3)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from scanner.errors import RuleError
from scanner.model import Confidence, Kind, Rule, Severity
from scanner.paths import cache_home, write_atomic
from scanner.rules.verifiers import VerifySpec, parse_verify

RULES_DIR = Path(__file__).parent
SHAPES = RULES_DIR.parent / "detect" / "shapes.py"
CACHE_FORMAT = b"rules-json-3"  # bump when the cached fields change (detect/shapes.py is hashed too)
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*\.[a-z0-9]+(?:-[a-z0-9]+)*$")
_FILE_KEYS = {"provider", "display", "revoke_url", "rules"}
_RULE_KEYS = {f.name for f in fields(Rule)} - {"provider", "slot_pattern"}
_REQUIRED = {"id", "name", "max_length", "keywords", "severity", "confidence"}
# what can tie a match to its provider (detect/evidence.py)
EVIDENCE = ("near", "call", "import", "host", "bare")


def _tuple(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RuleError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def _example_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise RuleError(f"{where}: 'example_name' must be a variable name")
    return value


def _rule(raw: Any, provider: str, defaults: dict[str, Any], where: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: each rule must be a mapping")
    if "verify" in raw:  # load_file takes a bundled rule's block off before: anything else is a config's
        raise RuleError(f"{where}: 'verify' is read only from keysweep's bundled rules")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
    missing = _REQUIRED - set(raw)
    if missing:
        raise RuleError(f"{where}: missing keys {sorted(missing)}")
    rid = raw["id"]
    where = f"{where} rule {rid!r}"
    if not isinstance(rid, str) or not _ID.match(rid) or rid.split(".")[0] != provider:
        raise RuleError(f"{where}: id must be '{provider}.<kind>' in lowercase")
    try:
        kind = Kind(raw.get("kind", "secret"))
        severity = Severity(raw["severity"])
        confidence = Confidence(raw["confidence"])
    except ValueError as e:
        raise RuleError(f"{where}: {e}") from None
    keywords = _tuple(raw["keywords"], where, "keywords")
    if not keywords or any(not k or k != k.lower() for k in keywords):
        raise RuleError(f"{where}: keywords must be non-empty lowercase literals")
    ties = _ties(raw, where, keywords)
    pattern, slot = _patterns(raw, where, ties)
    for p, what in ((pattern, "pattern"), (slot, "slot pattern")):
        if not p:
            continue
        try:
            compiled = re.compile(p.encode())
        except (re.error, AttributeError) as e:
            raise RuleError(f"{where}: bad {what}: {e}") from None
        if kind is Kind.SECRET and "secret" not in compiled.groupindex:
            raise RuleError(f"{where}: {what} needs a named group 'secret'")
    companion = str(raw.get("companion", ""))
    if companion:
        try:
            re.compile(companion.encode())
        except re.error as e:
            raise RuleError(f"{where}: bad companion: {e}") from None
        if not raw.get("alone") or int(raw.get("companion_window", 0)) <= 0:
            raise RuleError(f"{where}: a companion needs 'alone' (why) and a 'companion_window'")
    max_length = raw["max_length"]
    if not isinstance(max_length, int) or max_length <= 0:
        raise RuleError(f"{where}: max_length must be a positive integer")
    from scanner.detect.validators import VALIDATORS  # detect owns the validator registry

    validator = raw.get("validator")
    if validator is not None and validator not in VALIDATORS:
        raise RuleError(f"{where}: unknown validator {validator!r}")
    from scanner.rules.templates import TemplateError
    from scanner.rules.templates import check as check_template

    examples = _tuple(raw.get("examples"), where, "examples")
    negatives = _tuple(raw.get("negative_examples"), where, "negative_examples")
    for t in examples + negatives:
        try:
            check_template(t)
        except TemplateError as e:
            raise RuleError(f"{where}: bad example template: {e}") from None
    if raw.get("hosts") is not None and kind is not Kind.SECRET:
        raise RuleError(f"{where}: 'hosts' gates a secret rule's generic property form")
    if kind is Kind.SECRET and not examples:
        raise RuleError(f"{where}: a secret rule needs at least one example")
    return Rule(
        id=rid,
        name=str(raw["name"]),
        provider=provider,
        pattern=pattern,
        max_length=max_length,
        keywords=keywords,
        severity=severity,
        confidence=confidence,
        kind=kind,
        context=ties["context"],
        context_window=int(raw.get("context_window", 256)),
        hosts=ties["hosts"],
        host_window=int(raw.get("host_window", 16384)),
        validator=validator,
        markers=_tuple(raw.get("markers"), where, "markers"),
        entropy_floor=float(raw.get("entropy_floor", 0.0)),
        prefix=str(raw.get("prefix", "")),
        contexts=_tuple(raw.get("contexts"), where, "contexts"),
        remediation=str(raw.get("remediation", defaults.get("remediation", ""))).strip(),
        revoke_url=str(raw.get("revoke_url", defaults.get("revoke_url", ""))),
        references=_tuple(raw.get("references"), where, "references"),
        examples=examples,
        negative_examples=negatives,
        description=str(raw.get("description", "")).strip(),
        example_name=_example_name(raw.get("example_name", "API_TOKEN"), where),
        variable=str(raw.get("variable", "")),
        value=str(raw.get("value", "")),
        slot_pattern=slot,
        accept=ties["accept"],
        callees=ties["callees"],
        clients=ties["clients"],
        imports=ties["imports"],
        companion=companion,
        companion_window=int(raw.get("companion_window", 0)),
        alone=str(raw.get("alone", "")).strip(),
        structure=_structure(raw, where),
        rivals=_rivals(raw, where, ties["accept"]),
        public_with=_tuple(raw.get("public_with"), where, "public_with"),
        public_min=int(raw.get("public_min", 1)),
        public_window=int(raw.get("public_window", 0)),
        public_reason=" ".join(str(raw.get("public_reason", "")).split()),
        code_only=bool(raw.get("code_only", False)),
    )


def _structure(raw: dict[str, Any], where: str) -> tuple[str, ...]:
    """Literals every key of the rule holds; short ones would verify nothing."""
    found = _tuple(raw.get("structure"), where, "structure")
    if any(len(s) < 6 for s in found):
        raise RuleError(f"{where}: a 'structure' literal needs at least 6 characters")
    return found


def _rivals(raw: dict[str, Any], where: str, accept: tuple[str, ...]) -> tuple[str, ...]:
    """Rules that share this rule's shape; named only on a match no evidence ties (`bare`)."""
    rivals = _tuple(raw.get("rivals"), where, "rivals")
    if rivals and "bare" not in accept:
        raise RuleError(f"{where}: 'rivals' are named only on a bare match: accept 'bare'")
    return rivals


def parse_rule(raw: Any, provider: str, where: str) -> Rule:
    """One rule given as a mapping in the YAML schema (a config file's extra rules), validated
    exactly as a bundled rule is."""
    return _rule(raw, provider, {}, where)


def _ties(raw: dict[str, Any], where: str, keywords: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The context-model fields, checked: what a rule accepts needs its terms, and every term
    holds one of the rule's keywords (so that the keyword prefilter never drops a text in which
    the evidence could be found)."""
    out = {
        "context": tuple(c.lower() for c in _tuple(raw.get("context"), where, "context")),
        "callees": tuple(c.lower() for c in _tuple(raw.get("callees"), where, "callees")),
        "clients": _tuple(raw.get("clients"), where, "clients"),
        "imports": _tuple(raw.get("imports"), where, "imports"),
        "hosts": tuple(h.lower() for h in _tuple(raw.get("hosts"), where, "hosts")),
    }
    accept = _tuple(raw.get("accept"), where, "accept") or (("near",) if out["context"] else ())
    unknown = set(accept) - set(EVIDENCE)
    if unknown:
        raise RuleError(f"{where}: unknown evidence {sorted(unknown)} (known: {', '.join(EVIDENCE)})")
    needs = {"near": "context", "import": "imports", "host": "hosts"}
    for kind in accept:
        if kind == "call" and not (out["callees"] or out["clients"]):
            raise RuleError(f"{where}: 'call' evidence needs 'callees' or 'clients'")
        if kind in needs and not out[needs[kind]]:
            raise RuleError(f"{where}: {kind!r} evidence needs {needs[kind]!r}")
    if out["clients"] and "import" not in accept:
        raise RuleError(f"{where}: 'clients' name the provider only with its import: accept 'import'")
    # a match of the written pattern holds a keyword itself; a slot match may hold none
    slot = raw.get("value") is not None and bool(set(accept) & {"call", "import", "host"})
    for key in ("context", "callees", "imports", "hosts") if slot else ():
        for term in out[key]:
            if not any(k in term.lower() for k in keywords):
                raise RuleError(f"{where}: {key} term {term!r} holds none of the keywords")
    out["accept"] = accept
    return out


def _patterns(raw: dict[str, Any], where: str, ties: dict[str, tuple[str, ...]]) -> tuple[str, str]:
    """(pattern, slot pattern): written out, or built from `variable` + `value` (shapes.py)."""
    from scanner.detect.shapes import anchored, named_pattern, slot_pattern

    value, variable = raw.get("value"), raw.get("variable")
    pattern = raw.get("pattern")
    if value is None:
        if variable is not None:
            raise RuleError(f"{where}: 'variable' needs 'value'")
        if not isinstance(pattern, str):
            raise RuleError(f"{where}: missing keys ['pattern']")
        return pattern, ""
    if not isinstance(value, str) or not value or "(?P<" in value:
        raise RuleError(f"{where}: 'value' must be a regex without named groups")
    if pattern is None:
        if not isinstance(variable, str) or not variable:
            raise RuleError(f"{where}: 'value' needs 'variable' (or a written-out 'pattern')")
        pattern = named_pattern(variable, value)
    slot = ""
    if set(ties["accept"]) & {"call", "import", "host"}:
        slot = slot_pattern(value, ties["callees"], ties["clients"], anchored(ties["accept"]))
    return str(pattern), slot


def load_file(path: Path) -> list[Rule]:
    """Load and validate one provider file."""
    return [rule for rule, _ in load_file_verifiers(path)]


def load_file_verifiers(path: Path) -> list[tuple[Rule, VerifySpec | None]]:
    """Load and validate one provider file: each rule with its `verify:` block, if any
    (rules/verifiers.py; honoured only for the bundled files, `load_verifiers`)."""
    import yaml  # only when the rules are not in the cache (start-up of small scans)

    # libyaml's C loader parses the rule files ~10x faster than the pure-Python one
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    where = path.name
    try:
        doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as e:
        raise RuleError(f"{where}: cannot read rules: {e}") from None
    if not isinstance(doc, dict):
        raise RuleError(f"{where}: a rule file is a mapping with 'provider' and 'rules'")
    unknown = set(doc) - _FILE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}")
    provider = doc.get("provider")
    if not isinstance(provider, str) or not provider:
        raise RuleError(f"{where}: 'provider' is required")
    rules = doc.get("rules")
    if not isinstance(rules, list) or not rules:
        raise RuleError(f"{where}: 'rules' must be a non-empty list")
    defaults = {"revoke_url": doc.get("revoke_url", "")}
    out: list[tuple[Rule, VerifySpec | None]] = []
    for raw in rules:
        spec = None
        if isinstance(raw, dict) and "verify" in raw:
            raw = dict(raw)
            spec = parse_verify(raw.pop("verify"), f"{where} rule {raw.get('id')!r}")
        out.append((_rule(raw, provider, defaults, where), spec))
    return out


def load_verifiers() -> dict[str, VerifySpec]:
    """The verifiers of the bundled rules, by rule id: the only place verifiers come from (a
    config's rules cannot carry one, and no path is taken from a caller)."""
    return {
        rule.id: spec
        for f in sorted(RULES_DIR.glob("*.yml"))
        for rule, spec in load_file_verifiers(f)
        if spec is not None
    }


def load_rules(paths: Iterable[Path] | None = None) -> tuple[Rule, ...]:
    """Load the built-in rules (or the given files); duplicate ids are a load error."""
    if paths is None:
        return _builtin_rules()
    return _load(list(paths))


def _load(files: list[Path]) -> tuple[Rule, ...]:
    out: list[Rule] = []
    seen: dict[str, str] = {}
    for f in files:
        for rule in load_file(f):
            if rule.id in seen:
                raise RuleError(f"{f.name}: duplicate rule id {rule.id!r} (also in {seen[rule.id]})")
            seen[rule.id] = f.name
            out.append(rule)
    for rule in out:
        unknown = [r for r in rule.rivals if r not in seen]
        if unknown:
            raise RuleError(f"{seen[rule.id]}: {rule.id}: unknown rivals {unknown}")
    return tuple(sorted(out, key=lambda r: r.id))


def _builtin_rules() -> tuple[Rule, ...]:
    """The built-in rules, from a JSON copy in the cache keyed by the rule files' bytes.

    Parsing and validating 45 YAML files is ~60 ms, a visible share of a range scan or of a
    cached sweep; the copy loads in a few. It is plain data (no code is run from the cache), and
    anything unreadable is simply rebuilt."""
    files = sorted(RULES_DIR.glob("*.yml"))
    h = hashlib.sha256(CACHE_FORMAT)
    try:
        h.update(SHAPES.read_bytes())  # the builder of generated patterns: part of what is cached
        for f in files:
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    except OSError as e:
        raise RuleError(f"{e.filename}: cannot read rules: {e.strerror}") from None
    path = cache_home() / f"rules-{h.hexdigest()[:24]}.json"
    try:
        doc = json.loads(path.read_bytes())
        rules = tuple(_from_json(d) for d in doc["rules"])
        _HASHES[id(rules)] = (rules, str(doc["ruleset"]))  # the hash the copy was written with
        return rules
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    rules = _load(files)
    doc = {"ruleset": ruleset_hash(rules), "rules": [_to_json(r) for r in rules]}
    write_atomic(path, json.dumps(doc).encode())  # a read-only home: parsed again next time
    return rules


_TUPLES = frozenset(f.name for f in fields(Rule) if str(f.type).startswith("tuple"))


def _to_json(rule: Rule) -> dict[str, Any]:
    d = asdict(rule)
    d["severity"], d["confidence"], d["kind"] = rule.severity.value, rule.confidence.value, rule.kind.value
    return d


def _from_json(d: dict[str, Any]) -> Rule:
    if set(d) != {f.name for f in fields(Rule)}:
        raise KeyError("rule fields changed")
    values: dict[str, Any] = {k: tuple(v) if k in _TUPLES else v for k, v in d.items()}
    values["severity"] = Severity(d["severity"])
    values["confidence"] = Confidence(d["confidence"])
    values["kind"] = Kind(d["kind"])
    return Rule(**values)


_HASHES: dict[int, tuple[tuple[Rule, ...], str]] = {}  # by id of a rule tuple: the tuple, its hash


def ruleset_hash(rules: Iterable[Rule]) -> str:
    """A stable digest of everything that changes what a ruleset detects (computed once per rule
    tuple; the rules copy brings the hash it was written with, and a new tuple of the very same
    rule objects, as the config's merge makes, takes it over: the digest grows with the rules)."""
    known = _HASHES.get(id(rules))
    if known is not None and known[0] is rules:
        return known[1]
    if isinstance(rules, tuple):  # a new tuple of the same rule objects (a config with no extra rules)
        for same, digest in list(_HASHES.values()):
            if len(same) == len(rules) and all(a is b for a, b in zip(same, rules, strict=True)):
                _HASHES[id(rules)] = (rules, digest)
                return digest
    digest = ruleset_digest(rules)
    if isinstance(rules, tuple):
        _HASHES[id(rules)] = (rules, digest)
    return digest


def ruleset_digest(rules: Iterable[Rule]) -> str:
    blob = json.dumps([asdict(r) for r in rules], sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
