"""Regenerate the rule table embedded in README.md from the rule files (`make readme`)."""

from __future__ import annotations

from pathlib import Path

from scanner.output.ruletable import render_markdown
from scanner.rules import load_rules

BEGIN, END = "<!-- rules:begin -->\n", "<!-- rules:end -->"


def main() -> None:
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    readme.write_text(head + BEGIN + render_markdown(load_rules()) + END + tail, encoding="utf-8")


if __name__ == "__main__":
    main()
