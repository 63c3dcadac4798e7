"""One error tree, and the exit codes it maps to: the only place either is defined.

Exit codes, by precedence 2 > 3 > 1 > 0 (a run that is both misconfigured and failed says 2):

| code | meaning | raised as |
|---|---|---|
| 0 | the scan ran; nothing at or above the fail-on threshold | — |
| 1 | findings at or above the threshold (confidence ≥ medium, not suppressed) | — (`outcome.gate`) |
| 2 | bad arguments, inputs, configuration, baseline or rules | `UsageError` and its subclasses |
| 3 | the scan could not run, or (strict, range, staged) left something unread; a crash | `ScanError`, `InternalError`, any other exception |

The entry points (`cli.py`, `action.py`) catch these and turn them into the code; `KeysweepError.exit_code`
says which, so a new error class only has to pick its branch.
"""

from __future__ import annotations

import traceback
from pathlib import Path

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_FAILED = 3


class KeysweepError(Exception):
    """Base of every error keysweep raises on purpose. Messages never hold a secret."""

    exit_code = EXIT_FAILED


class UsageError(KeysweepError):
    """Bad arguments or configuration: exit 2."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file (`.keysweep.toml`) that cannot be used: exit 2, naming the file and field."""


class BaselineError(UsageError):
    """A baseline file that cannot be used: exit 2, naming the file and the entry."""


class RuleError(UsageError):
    """A rule file failed validation at load: exit 2."""


class RevisionError(UsageError):
    """A malformed revision expression or an unknown ref name: exit 2."""


class ScanError(KeysweepError):
    """The scan could not run (unreadable target, unresolvable range): exit 3."""


class InternalError(KeysweepError):
    """An unexpected error, already described without its message (`describe`): exit 3."""


def describe(e: BaseException) -> str:
    """An unexpected exception as the outputs name it: its type and innermost frame only, since
    its message could quote scanned data."""
    tb = traceback.extract_tb(e.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    return f"internal error ({type(e).__name__}){where}"
