"""Command line: the only module that reads argv, the environment and writes files."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    return 0
