"""The format registry: every output keysweep writes, by name, behind one signature.

Each format is one module of `scanner/output/` with `render(report: Report, context: RenderContext)
-> str` (pure: no file, no environment, no git). The CLI (`keysweep scan`, `keysweep report`) and
the Action render through `render` below; the CLI's output flags are the formats that have one.
Modules are imported when first rendered, so a scan that writes no summary never loads jinja2.

Adding a format: write `scanner/output/<name>.py` with `render(report, context) -> str` (and its
template in `scanner/templates/` if it has one), then add one `Format` line to `FORMATS`; a `flag`
makes it a `keysweep scan`/`report` option. A fact the format needs beyond the report is a field of
`RenderContext` (`scanner/output/context.py`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from scanner.model import Report
from scanner.output.context import RenderContext

Renderer = Callable[[Report, RenderContext], str]


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    module: str  # under scanner.output
    flag: str | None = None  # the CLI option that writes it to a file ('-': stdout); None: not a file
    help: str = ""  # the option's help


FORMATS: tuple[Format, ...] = (
    Format("sarif", "sarif", "--sarif", "write SARIF 2.1.0 to F ('-' for stdout)"),
    Format("json", "json", "--json", "write the JSON report to F ('-' for stdout)"),
    Format(
        "summary",
        "summary",
        "--summary",
        "write the Markdown summary (the Action's job summary) to F ('-' for stdout)",
    ),
    Format(
        "html",
        "html",
        "--html",
        "write the HTML report (one self-contained page, filterable) to F ('-' for stdout)",
    ),
    Format("console", "console"),  # the terminal or the job log
    Format("annotations", "annotations"),  # workflow commands for a range's findings (the Action)
)
BY_NAME = {f.name: f for f in FORMATS}
FILE_FORMATS = tuple(f for f in FORMATS if f.flag is not None)
"""The formats the CLI writes to files, in the order it writes them."""


def renderer(name: str) -> Renderer:
    """The `render` function of format `name` (KeyError for an unknown one)."""
    module = importlib.import_module(f"scanner.output.{BY_NAME[name].module}")
    function: Renderer = module.render
    return function


def render(name: str, report: Report, context: RenderContext) -> str:
    """`report` in format `name`."""
    return renderer(name)(report, context)
