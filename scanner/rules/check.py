"""`keysweep rules --check FILE`: validate a rules file and run its examples.

FILE is a provider YAML file (the bundled schema) or a `.keysweep.toml` with `[[rules]]`. Its
rules are loaded and validated exactly as the bundled ones are; then every example is built from
its template (seeded, so a failure reproduces), written as `NAME="value"` on a line of a `.env`
text, and scanned with the bundled rules plus the file's: the rule must find it (naming it, or
among `also_matched`), and must not find any of its negative examples. Messages name the rule
and the template, never an expanded value. A `verify:` block is reviewed too: honoured only in
a bundled file, to the provider's official API host, read-only (`review_verifiers`).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scanner.errors import RuleError
from scanner.model import Kind, Rule
from scanner.rules.templates import expand
from scanner.rules.verifiers import VerifySpec, review


@dataclass(frozen=True, slots=True)
class CheckResult:
    rules: int
    examples: int
    negatives: int


def load_checked(path: Path, builtin: Sequence[Rule]) -> tuple[Rule, ...]:
    """The rules of the YAML rule file `path`, validated; RuleError/UsageError if not. (A
    `.keysweep.toml`'s `[[rules]]` are the config's: the CLI loads them with the config loader,
    which is a layer above the rules, and checks them here with `check_rules`.)"""
    from scanner.rules import load_file_verifiers

    loaded = load_file_verifiers(path)
    rules = tuple(rule for rule, _ in loaded)
    bundled = path.resolve().parent == Path(__file__).parent  # scanner/rules/, this module's folder
    taken = {r.id for r in builtin}
    for r in rules:
        if r.id in taken and not bundled:
            raise RuleError(f"{path.name} rule {r.id!r}: the id is taken by a bundled rule")
    review_verifiers(path.name, [(rule, spec) for rule, spec in loaded if spec is not None], bundled)
    return rules


def review_verifiers(where: str, specs: Sequence[tuple[Rule, VerifySpec]], bundled: bool) -> None:
    """A verifier is honoured only in a bundled rule file, and only to its provider's official
    API host, by GET/HEAD (or a listed signed POST), with no credential in the URL
    (rules/verifiers.py `review`); RuleError listing every problem otherwise."""
    problems: list[str] = []
    for rule, spec in specs:
        if not bundled:
            problems.append(
                f"{where} rule {rule.id!r}: 'verify' is honoured only in keysweep's bundled rules"
            )
            continue
        problems.extend(f"{where} rule {rule.id!r}: verify: {p}" for p in review(spec, rule.provider))
    if problems:
        raise RuleError("\n".join(problems))


def _planted(rule: Rule, value: str) -> bytes:
    return f'# rules --check\n{rule.example_name}="{value}"\n'.encode()


def check_rules(rules: Sequence[Rule], builtin: Sequence[Rule], engine: str, where: str) -> CheckResult:
    """Every example of `rules` found by its rule and no negative example; RuleError listing each
    failure otherwise."""
    from scanner.rules.matcher_cache import load_matcher  # the compiled database a scan with them reuses

    ids = {r.id for r in rules}
    everything = tuple(sorted((*(r for r in builtin if r.id not in ids), *rules), key=lambda r: r.id))
    matcher = load_matcher(everything, engine)
    problems: list[str] = []
    examples = negatives = 0
    for rule in rules:
        for i, template in enumerate(rule.examples):
            examples += 1
            value = expand(template, random.Random(f"{rule.id}#{i}"))
            found = matcher.scan(_planted(rule, value))
            if not any(rule.id in (m.rule_id, *m.also_matched) for m in found):
                problems.append(
                    f"{where} rule {rule.id!r}: examples[{i}] {template!r} is not found by the rule"
                )
        for i, template in enumerate(rule.negative_examples):
            negatives += 1
            value = expand(template, random.Random(f"{rule.id}!{i}"))
            found = matcher.scan(_planted(rule, value))
            if any(rule.id in (m.rule_id, *m.also_matched) for m in found):
                problems.append(
                    f"{where} rule {rule.id!r}: negative_examples[{i}] {template!r} is found by the rule"
                )
        if rule.kind is Kind.SECRET and not rule.examples:
            problems.append(f"{where} rule {rule.id!r}: a secret rule needs at least one example")
    if problems:
        raise RuleError("\n".join(problems))
    return CheckResult(len(rules), examples, negatives)
