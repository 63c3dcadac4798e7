"""One error tree: the CLI maps each branch to an exit code (usage/config → 2, scan → 3)."""

from __future__ import annotations


class KeysweepError(Exception):
    """Base of every error keysweep raises on purpose. Messages never hold a secret."""


class UsageError(KeysweepError):
    """Bad arguments or configuration: exit 2."""


class RuleError(UsageError):
    """A rule file failed validation at load: exit 2."""


class RevisionError(UsageError):
    """A malformed revision expression or an unknown ref name: exit 2."""


class ScanError(KeysweepError):
    """The scan could not run (unreadable target, unresolvable range): exit 3."""
