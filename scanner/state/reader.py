"""Reading untrusted JSON field by field: every value is checked for its type as it is taken, and
an object with a key nobody read is refused, so nothing of unknown shape gets past a parse.

`json.loads` gives `Any`; it never leaves this module: `Fields` hands out `str`, `int`, `bool`,
`float`, lists of `Fields` and the like, or raises `Invalid` naming the field's path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from enum import Enum
from typing import TypeVar

E = TypeVar("E", bound=Enum)
T = TypeVar("T")


class Invalid(ValueError):
    """A document that is not what it claims: the message names the field and why."""


def _no_constant(name: str) -> float:
    raise Invalid(f"{name} is not a JSON number")


def parse_json(text: str) -> Fields:
    """The top-level object of `text`; Invalid when `text` is not one JSON object."""
    try:
        raw: object = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise Invalid(
            f"not JSON ({e.msg} at line {e.lineno} column {e.colno}): damaged or truncated"
        ) from None
    except RecursionError:
        raise Invalid("nested too deeply to be a state") from None
    return Fields(raw, "$")


class Fields:
    """One JSON object, read key by key (`done` refuses keys that were not read)."""

    __slots__ = ("_raw", "_read", "where")

    def __init__(self, raw: object, where: str) -> None:
        if not isinstance(raw, dict):
            raise Invalid(f"{where}: expected an object, found {_kind(raw)}")
        self._raw: dict[str, object] = raw
        self._read: set[str] = set()
        self.where = where

    def has(self, key: str) -> bool:
        return key in self._raw

    def value(self, key: str) -> object:
        if key not in self._raw:
            raise Invalid(f"{self.where}.{key}: missing")
        self._read.add(key)
        return self._raw[key]

    def _bad(self, key: str, want: str, got: object) -> Invalid:
        return Invalid(f"{self.where}.{key}: expected {want}, found {_kind(got)}")

    def text(self, key: str) -> str:
        v = self.value(key)
        if not isinstance(v, str):
            raise self._bad(key, "a string", v)
        return v

    def opt_text(self, key: str) -> str | None:
        v = self.value(key)
        if v is None:
            return None
        if not isinstance(v, str):
            raise self._bad(key, "a string or null", v)
        return v

    def integer(self, key: str) -> int:
        v = self.value(key)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self._bad(key, "an integer", v)
        return v

    def count(self, key: str) -> int:
        v = self.integer(key)
        if v < 0:
            raise Invalid(f"{self.where}.{key}: a count cannot be negative")
        return v

    def opt_integer(self, key: str) -> int | None:
        return None if self.value(key) is None else self.integer(key)

    def number(self, key: str) -> float:
        v = self.value(key)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self._bad(key, "a number", v)
        return float(v)

    def flag(self, key: str) -> bool:
        v = self.value(key)
        if not isinstance(v, bool):
            raise self._bad(key, "true or false", v)
        return v

    def opt_flag(self, key: str) -> bool | None:
        return None if self.value(key) is None else self.flag(key)

    def enum(self, key: str, cls: type[E]) -> E:
        v = self.text(key)
        try:
            return cls(v)
        except ValueError:
            allowed = ", ".join(str(m.value) for m in cls)
            raise Invalid(f"{self.where}.{key}: {v!r} is not one of {allowed}") from None

    def opt_enum(self, key: str, cls: type[E]) -> E | None:
        return None if self.value(key) is None else self.enum(key, cls)

    def obj(self, key: str) -> Fields:
        return Fields(self.value(key), f"{self.where}.{key}")

    def opt(self, key: str, build: Callable[[Fields], T]) -> T | None:
        """`build` of the object under `key`, or None for null."""
        if self.value(key) is None:
            return None
        return build(self.obj(key))

    def objects(self, key: str, build: Callable[[Fields], T]) -> tuple[T, ...]:
        """`build` of every object of the list under `key`."""
        v = self.value(key)
        if not isinstance(v, list):
            raise self._bad(key, "a list", v)
        return tuple(build(Fields(item, f"{self.where}.{key}[{i}]")) for i, item in enumerate(v))

    def strs(self, key: str) -> tuple[str, ...]:
        v = self.value(key)
        if not isinstance(v, list):
            raise self._bad(key, "a list of strings", v)
        for i, item in enumerate(v):
            if not isinstance(item, str):
                raise Invalid(f"{self.where}.{key}[{i}]: expected a string, found {_kind(item)}")
        return tuple(v)

    def counts(self, key: str) -> dict[str, int]:
        """An object of non-negative integers, in its order."""
        inner = self.obj(key)
        return {k: inner.count(k) for k in inner.names()}

    def names(self) -> tuple[str, ...]:
        return tuple(self._raw)

    def done(self) -> None:
        """Refuse what was not read: a field this version does not know."""
        extra = sorted(set(self._raw) - self._read)
        if extra:
            raise Invalid(f"{self.where}: unknown field {extra[0]!r}")


def _kind(v: object) -> str:
    match v:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "a list"
        case dict():
            return "an object"
    return type(v).__name__
