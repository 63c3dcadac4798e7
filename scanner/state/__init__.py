"""The saved scan state (`keysweep scan --state F`, `keysweep report F`; docs/state.md).

A versioned JSON document of a finished scan: its report (findings with provenance and
locations, suppressed findings, stats, scan info), the ruleset hash, what of the config shapes the
reports (fail-on, the exit code it gave), keysweep's version and the scan's wall-clock time. It
holds digests, redacted previews and keyed HMACs, never a secret.

A state is untrusted input: `read_state` checks the format, its version, keysweep's version and
the ruleset before anything else, then parses every field into the frozen dataclasses of
scanner/model.py; anything else is a StateError (exit 2) naming the file and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from scanner.errors import UsageError
from scanner.model import Report, Rule, Severity
from scanner.state.codec import encode_report, parse_report
from scanner.state.reader import Fields, Invalid, parse_json

FORMAT = "keysweep-state"
VERSION = 1  # bump on any change of meaning or shape: a state is read by the version that wrote it
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_EXIT_CODES = (0, 1, 3)  # a scan that ran: ok, findings, failed (usage errors write no state)


class StateError(UsageError):
    """A state file that cannot be rendered: damaged, of another version, keysweep or ruleset."""


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What of the run's configuration the reports show, or a merge must agree on."""

    fail_on: Severity | None  # None: --fail-on none
    exit_code: int  # the gate's verdict on the report (0, 1 or 3)
    strict: bool
    fingerprint_key_id: str  # names the key of the published fingerprints (as a baseline does)
    config_rules: tuple[str, ...] = ()  # ids of the rules the config file added to the bundled ones


@dataclass(frozen=True, slots=True)
class WeakGroups:
    """How the weak secrets of this state are grouped (docs/state.md "Weak secrets")."""

    key_id: str | None  # names the organisation's grouping key; None: a per-run key, never written

    @property
    def mergeable(self) -> bool:
        """Whether a weak secret's group can be compared with another state's of the same key_id."""
        return self.key_id is not None


@dataclass(frozen=True, slots=True)
class SavedState:
    keysweep: str  # the version that wrote it
    scanned_at: datetime  # when the scan ran (UTC, whole seconds)
    settings: RunSettings
    weak: WeakGroups
    report: Report  # its rules are not saved: `ruleset` names them

    def with_rules(self, rules: tuple[Rule, ...]) -> Report:
        return replace(self.report, rules=rules)


def render_state(state: SavedState) -> str:
    s = state.settings
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "keysweep": state.keysweep,
        "ruleset": state.report.ruleset,
        "scanned_at": state.scanned_at.strftime(_TIME),
        "settings": {
            "fail_on": s.fail_on.value if s.fail_on is not None else None,
            "exit_code": s.exit_code,
            "strict": s.strict,
            "fingerprint_key_id": s.fingerprint_key_id,
            "config_rules": list(s.config_rules),
        },
        "weak_groups": {"key_id": state.weak.key_id, "mergeable": state.weak.mergeable},
        "report": encode_report(state.report),
    }
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")) + "\n"


def read_state(data: bytes, name: str, version: str, ruleset: str) -> SavedState:
    """The state in `data` (the file `name`), written by keysweep `version` with `ruleset`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise StateError(f"{name}: not a keysweep state: not UTF-8 (byte {e.start}); damaged") from None
    try:
        top = parse_json(text)
        _check(top, name, version, ruleset)
        return _parse(top, ruleset)
    except Invalid as e:
        raise StateError(f"{name}: not a valid keysweep state: {e}") from None


def _check(top: Fields, name: str, version: str, ruleset: str) -> None:
    """Format, format version, keysweep version and ruleset, before the body is read."""
    if not top.has("format") or top.value("format") != FORMAT:
        raise StateError(f'{name}: not a keysweep state (no "format": "{FORMAT}")')
    got = top.value("version") if top.has("version") else None
    if type(got) is not int or got != VERSION:  # 1.0 and true are not version 1
        raise StateError(
            f"{name}: state format version {got!r} is unknown; this keysweep reads version {VERSION}"
        )
    made_by = top.text("keysweep")
    if made_by != version:
        raise StateError(
            f"{name}: written by keysweep {made_by}, this is keysweep {version}; "
            "render it with the version that wrote it, or scan again"
        )
    rules = top.text("ruleset")
    if rules != ruleset:
        added = top.obj("settings").strs("config_rules") if top.has("settings") else ()
        hint = (
            f"; it was made with a config adding the rules {', '.join(added)}: pass that config with --config"
            if added
            else "; pass the --config it was made with, if any"
        )
        raise StateError(f"{name}: made with ruleset {rules}, the rules here are {ruleset}{hint}")


def _parse(top: Fields, ruleset: str) -> SavedState:
    try:
        when = datetime.strptime(top.text("scanned_at"), _TIME).replace(tzinfo=UTC)
    except ValueError:
        raise Invalid("$.scanned_at: not a UTC time like 2024-05-01T12:00:00Z") from None
    s = top.obj("settings")
    code = s.integer("exit_code")
    if code not in _EXIT_CODES:
        raise Invalid(f"$.settings.exit_code: {code} is not an exit code a scan gives")
    settings = RunSettings(
        fail_on=s.opt_enum("fail_on", Severity),
        exit_code=code,
        strict=s.flag("strict"),
        fingerprint_key_id=s.text("fingerprint_key_id"),
        config_rules=s.strs("config_rules"),
    )
    s.done()
    w = top.obj("weak_groups")
    weak = WeakGroups(key_id=w.opt_text("key_id"))
    if w.flag("mergeable") != weak.mergeable:
        raise Invalid("$.weak_groups.mergeable: contradicts key_id")
    w.done()
    report = replace(parse_report(top.obj("report")), ruleset=ruleset)
    if not weak.mergeable and any(f.weak_group for f in (*report.findings, *report.suppressed)):
        raise Invalid("$.report: weak groups without a key_id to compare them by")
    top.done()
    return SavedState(
        keysweep=top.text("keysweep"),
        scanned_at=when,
        settings=settings,
        weak=weak,
        report=report,
    )
