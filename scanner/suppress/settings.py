"""`.keysweep.toml`: the repository's configuration, read with the standard library's tomllib.

```toml
fail-on = "high"                      # none | low | medium | high | critical (--fail-on wins)
baseline = ".keysweep-baseline.json"  # used when --baseline is not given
fingerprint-key = "acme-secrets-2024" # the organisation's fingerprint key (ARCHITECTURE.md §4)
max-key-age = 90                      # days a key may sit at HEAD before it is "never rotated"
disable-rules = ["aws.access-key-id"]

[[allow]]                             # findings whose every location is under these globs
paths = ["tests/fixtures/**", "docs/*.md"]
reason = "revoked sample keys"        # required: it is what the reports say
rules = ["openai.project-key"]        # optional: only these rules

[[severity]]                          # every location under paths (or anywhere), for rules (or all)
paths = ["scripts/dev/**"]
severity = "low"

[pragmas]                             # a `keysweep:allow` that the scanned change (range, staged) adds
added-by-change = "unverified"        # suppresses all but offline-verified secrets | none | all

[environments]                        # added to the environment table (docs/environments.md)
names = ["eu-west", "customer-a"]     # more names for config/<x>.yaml, values-<x>.yaml, <x>.tfvars…
not-environments = ["ci-cache"]       # words that never name one (.env.ci-cache)
patterns = ["regions/{env}/"]         # your own places: {env} once, * and **; before the table's forms

[[rules]]                             # extra rules: the bundled YAML rule schema, plus `provider`
provider = "acme"
id = "acme.api-token"
...
```

Everything is checked when the file is read: an unknown key, a wrong type, a bad glob, an unknown
rule id, an invalid regex or a rule without examples is a UsageError (exit 2) naming the file,
the field and its line. tomllib reports lines only for syntax errors; for the rest the line is
found by looking for the field in the text, which is enough to point a person at it.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from scanner.environments import DEFAULT as DEFAULT_ENVIRONMENTS
from scanner.environments import EnvironmentTable
from scanner.errors import ConfigError, RuleError
from scanner.model import Rule, Severity
from scanner.suppress.globs import GlobError, PathGlob, compile_glob
from scanner.suppress.policy import AddedPragmas, AllowEntry, Policy, SeverityOverride

CONFIG_NAME = ".keysweep.toml"
FAIL_ON = ("none", "low", "medium", "high", "critical")
_TOP = frozenset(
    {
        "fail-on",
        "baseline",
        "fingerprint-key",
        "max-key-age",
        "disable-rules",
        "allow",
        "severity",
        "rules",
        "pragmas",
        "environments",
    }
)
_ENVIRONMENTS = frozenset({"names", "not-environments", "patterns"})
_PRAGMAS = frozenset({"added-by-change"})
_ALLOW = frozenset({"paths", "reason", "rules"})
_SEVERITY = frozenset({"paths", "rules", "severity"})


@dataclass(frozen=True, slots=True)
class Settings:
    source: str  # the file it came from (a path, or `<commit>:.keysweep.toml`)
    policy: Policy  # allowlists, disabled rules and overrides; the baseline is loaded separately
    fail_on: str | None = None  # None: not set here
    baseline: str | None = None  # a path relative to the repository root
    fingerprint_key: bytes | None = None
    rules: tuple[Rule, ...] = ()  # extra rules, validated like the bundled ones
    max_key_age: int | None = None  # days at HEAD before a key is "never rotated"; None: not set here
    environments: EnvironmentTable | None = None  # the documented table with `[environments]`; None: not set


def find_config(root: Path) -> Path | None:
    """`.keysweep.toml` at the root of the scanned repository or directory, if there is one."""
    path = root / CONFIG_NAME
    return path if path.is_file() else None


def load_config(path: Path, builtin: Iterable[Rule]) -> Settings:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the config is not UTF-8") from None
    return parse_config(text, str(path), builtin)


def parse_config(text: str, source: str, builtin: Iterable[Rule]) -> Settings:
    """The settings in `text`; `source` names the file in errors; `builtin` are the rules the
    config may name (disable, allow, override) besides its own."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        where = f"{source}:{m.group(1)}:{m.group(2)}" if m else source
        raise ConfigError(f"{where}: not valid TOML: {str(e).split(' (at ')[0]}") from None
    except RecursionError:  # a hostile file costs its own error, never an internal one
        raise ConfigError(f"{source}: not valid TOML: nested too deeply") from None
    return _Reader(text, source).settings(doc, tuple(builtin))


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def fail(
        self, field: str, message: str, table: tuple[str, int] | None = None, key: str | None = None
    ) -> NoReturn:
        line = self.line_of(table, key if key is not None else field.split(".")[-1].split("[")[0])
        where = f"{self.source}:{line}" if line else self.source
        raise ConfigError(f"{where}: {field}: {message}")

    def line_of(self, table: tuple[str, int] | None, key: str | None) -> int | None:
        """The line of `key` in `table` (None: top level; (name, i): the i-th `[[name]]`)."""
        current: tuple[str, int] | None = None
        seen: dict[str, int] = {}
        header_line = None
        for n, raw in enumerate(self.lines, 1):
            s = raw.strip()
            h = re.match(r"^\[\[\s*([A-Za-z0-9_-]+)\s*\]\]", s) or re.match(r"^\[\s*([A-Za-z0-9_-]+)\s*\]", s)
            if h:
                name = h.group(1)
                if s.startswith("[["):
                    seen[name] = seen.get(name, -1) + 1
                    current = (name, seen[name])
                else:
                    current = (name, -1)
                if current == table:
                    header_line = n
                continue
            if current == table and key and re.match(rf"^[\"']?{re.escape(key)}[\"']?\s*=", s):
                return n
        return header_line

    def settings(self, doc: dict[str, Any], builtin: tuple[Rule, ...]) -> Settings:
        for k in doc:
            if k not in _TOP:
                self.fail(k, f"unknown key (known: {', '.join(sorted(_TOP))})")
        extra = self.rules(doc.get("rules", []), builtin)
        known = {r.id for r in builtin} | {r.id for r in extra}
        fail_on = doc.get("fail-on")
        if fail_on is not None and fail_on not in FAIL_ON:
            self.fail("fail-on", f"must be one of {', '.join(FAIL_ON)}, not {fail_on!r}")
        baseline = doc.get("baseline")
        if baseline is not None and (not isinstance(baseline, str) or not baseline.strip()):
            self.fail("baseline", "must be a path relative to the repository root")
        key = doc.get("fingerprint-key")
        if key is not None and (not isinstance(key, str) or len(key) < 16):
            self.fail("fingerprint-key", "must be a string of at least 16 characters")
        age = doc.get("max-key-age")
        if age is not None and (type(age) is not int or age < 1):
            self.fail("max-key-age", f"must be a whole number of days (1 or more), not {age!r}")
        disabled = self.rule_ids(doc.get("disable-rules", []), "disable-rules", None, known)
        allow = tuple(self.allow(i, t, known) for i, t in enumerate(self.tables(doc, "allow")))
        overrides = tuple(self.override(i, t, known) for i, t in enumerate(self.tables(doc, "severity")))
        policy = Policy(
            allow=allow,
            disabled_rules=frozenset(disabled),
            overrides=overrides,
            added_pragmas=self.pragmas(doc.get("pragmas", {})),
        )
        return Settings(
            source=self.source,
            policy=policy,
            fail_on=fail_on,
            baseline=baseline,
            fingerprint_key=key.encode("utf-8") if key is not None else None,
            rules=extra,
            max_key_age=age,
            environments=self.environments(doc["environments"]) if "environments" in doc else None,
        )

    def sub_table(self, name: str, value: Any, known: Iterable[str]) -> tuple[str, int]:
        """A `[name]` table with only `known` keys; its place, for the errors about its values."""
        table = (name, -1)
        if not isinstance(value, dict):
            self.fail(name, f"must be a table ([{name}])")
        for k in value:
            if k not in known:
                self.fail(f"{name}.{k}", f"unknown key (known: {', '.join(sorted(known))})", table, k)
        return table

    def environments(self, value: Any) -> EnvironmentTable:
        """`[environments]`: names, words that name none, and path patterns added to the table."""
        table = self.sub_table("environments", value, _ENVIRONMENTS)
        lists: dict[str, list[str]] = {}
        for k in sorted(_ENVIRONMENTS):
            v = value.get(k, [])
            if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
                self.fail(f"environments.{k}", "must be a list of non-empty strings", table, k)
            lists[k] = v
        for i, name in enumerate(lists["names"] + lists["not-environments"]):
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
                key = "names" if i < len(lists["names"]) else "not-environments"
                self.fail(
                    f"environments.{key}", f"{name!r} is not a name (letters, digits, - and _)", table, key
                )
        try:
            return DEFAULT_ENVIRONMENTS.extended(lists["names"], lists["not-environments"], lists["patterns"])
        except ValueError as e:
            self.fail("environments.patterns", str(e), table, "patterns")

    def pragmas(self, value: Any) -> AddedPragmas:
        """`[pragmas]`: what a pragma the scanned change itself adds may suppress."""
        table = self.sub_table("pragmas", value, _PRAGMAS)
        mode = value.get("added-by-change", AddedPragmas.UNVERIFIED.value)
        known = [m.value for m in AddedPragmas]
        if mode not in known:
            self.fail(
                "pragmas.added-by-change",
                f"must be one of {', '.join(known)}, not {mode!r}",
                table,
                "added-by-change",
            )
        return AddedPragmas(mode)

    def tables(self, doc: dict[str, Any], name: str) -> list[dict[str, Any]]:
        value = doc.get(name, [])
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            self.fail(name, f"must be an array of tables ([[{name}]])")
        return list(value)

    def rule_ids(
        self, value: Any, field: str, table: tuple[str, int] | None, known: set[str]
    ) -> tuple[str, ...]:
        key = field.split(".")[-1]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(field, "must be a list of rule ids", table, key)
        for i, rid in enumerate(value):
            if rid not in known:
                self.fail(f"{field}[{i}]", f"unknown rule id {rid!r} (see `keysweep rules`)", table, key)
        return tuple(value)

    def globs(self, value: Any, field: str, table: tuple[str, int], required: bool) -> tuple[PathGlob, ...]:
        if value is None and not required:
            return ()
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.fail(field, "must be a non-empty list of path globs", table, "paths")
        out: list[PathGlob] = []
        for i, text in enumerate(value):
            try:
                out.append(compile_glob(text))
            except GlobError as e:
                self.fail(f"{field}[{i}]", f"bad glob {text!r}: {e}", table, "paths")
        return tuple(out)

    def unknown(self, t: dict[str, Any], allowed: frozenset[str], name: str, i: int) -> None:
        for k in t:
            if k not in allowed:
                self.fail(
                    f"{name}[{i}].{k}", f"unknown key (known: {', '.join(sorted(allowed))})", (name, i), k
                )

    def allow(self, i: int, t: dict[str, Any], known: set[str]) -> AllowEntry:
        table = ("allow", i)
        self.unknown(t, _ALLOW, "allow", i)
        paths = self.globs(t.get("paths"), f"allow[{i}].paths", table, True)
        reason = t.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            self.fail(
                f"allow[{i}].reason", "a non-empty reason is required (the reports show it)", table, "reason"
            )
        rules = self.rule_ids(t.get("rules", []), f"allow[{i}].rules", table, known)
        return AllowEntry(paths=paths, reason=reason.strip(), rules=rules)

    def override(self, i: int, t: dict[str, Any], known: set[str]) -> SeverityOverride:
        table = ("severity", i)
        self.unknown(t, _SEVERITY, "severity", i)
        level = t.get("severity")
        if level not in {s.value for s in Severity}:
            self.fail(f"severity[{i}].severity", "must be low, medium, high or critical", table, "severity")
        paths = self.globs(t.get("paths"), f"severity[{i}].paths", table, False)
        rules = self.rule_ids(t.get("rules", []), f"severity[{i}].rules", table, known)
        if not paths and not rules:
            self.fail(f"severity[{i}]", "needs 'rules', 'paths' or both", table, "")
        return SeverityOverride(severity=Severity(level), rules=rules, paths=paths)

    def rules(self, value: Any, builtin: tuple[Rule, ...]) -> tuple[Rule, ...]:
        from scanner.rules import parse_rule

        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            self.fail("rules", "must be an array of tables ([[rules]])")
        taken = {r.id for r in builtin}
        out: list[Rule] = []
        for i, raw in enumerate(value):
            table = ("rules", i)
            provider = raw.get("provider")
            if not isinstance(provider, str) or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", provider):
                self.fail(f"rules[{i}].provider", "a lowercase provider name is required", table, "provider")
            line = self.line_of(table, None)
            where = f"{self.source}:{line}: rules[{i}]" if line else f"{self.source}: rules[{i}]"
            body = {k: v for k, v in raw.items() if k != "provider"}
            try:
                rule = parse_rule(body, provider, where)
            except RuleError as e:
                raise ConfigError(str(e)) from None
            if rule.id in taken:
                self.fail(f"rules[{i}].id", f"rule id {rule.id!r} is already taken", table, "id")
            taken.add(rule.id)
            out.append(rule)
        return tuple(out)
