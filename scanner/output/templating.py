"""The jinja2 environments that render keysweep's Markdown: rule help and the job summary.

Templates are package data (`scanner/templates/`), loaded by `PackageLoader`; that is the only
I/O here. Two environments share them:

- **markdown** (HTML autoescape on): GitHub renders inline HTML in rule help and job summaries,
  so any value that reaches the output unfiltered is HTML-escaped. Values from a scanned
  repository go through `md` (one line, controls as visible escapes, Markdown punctuation
  backslash-escaped, so a path cannot open a link, an image, a table cell or an HTML tag) or
  `code` (a code span whose fence no backtick in the value can close).
- **text** (no autoescape): the same templates as plain text, for SARIF `help.text`.

`StrictUndefined` everywhere: a template that names a value the renderer does not pass fails
the tests instead of printing an empty string.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from scanner.output.escape import escape_text

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>&|~!#])")
_BACKTICKS = re.compile(r"`+")
_CODE_SPAN = re.compile(r"`([^`]+)`")
_URL_SAFE = ":/?#@!$&'*+,;=%~-._"


def md_text(value: object) -> Markup:
    """Untrusted text as inline Markdown that renders as exactly that text, on one line (a
    newline or control shows as its backslash escape)."""
    return Markup(_MD_SPECIAL.sub(r"\\\1", escape_text(str(value))))


def md_code(value: object, cell: bool = False) -> Markup:
    """Untrusted text as a Markdown code span; `cell` escapes `|` for a table cell (GFM reads
    `\\|` as a literal pipe even inside a code span)."""
    text = escape_text(str(value))
    if cell:
        text = text.replace("|", "\\|")
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    if text.startswith(("`", " ")) or text.endswith(("`", " ")):
        text = f" {text} "
    return Markup(f"{fence}{text}{fence}")


def md_rich(value: object) -> Markup:
    """Text whose `code spans` stay code spans, everything else escaped as `md_text` escapes it
    (a rule's description: the only Markdown it may carry)."""
    text = str(value)
    parts: list[Markup] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        parts += [md_text(text[position : match.start()]), md_code(match.group(1))]
        position = match.end()
    parts.append(md_text(text[position:]))
    return Markup("").join(parts)


def safe_url(url: str) -> str:
    """`url` percent-encoded so it cannot close a Markdown link target (spaces, parentheses,
    angle brackets and controls encoded)."""
    return quote(url.strip(), safe=_URL_SAFE)


def md_url(url: str) -> Markup:
    """A link target: percent-encoded, so it needs no further escaping."""
    return Markup(safe_url(url))


def md_link(url: str, label: object | None = None) -> Markup:
    """A Markdown link (an autolink without a label); the label is escaped text, the URL
    percent-encoded."""
    target = safe_url(url)
    if label is None:
        return Markup(f"<{target}>")
    return Markup(f"[{md_text(label)}]({target})")


def md_strong(value: object) -> Markup:
    return Markup(f"**{md_text(value)}**")


def md_heading(value: object, level: int = 3) -> Markup:
    return Markup(f"{'#' * level} {md_text(value)}")


def text_line(value: object) -> str:
    return escape_text(str(value))


def text_code(value: object, cell: bool = False) -> str:
    del cell
    return escape_text(str(value))


def text_link(url: str, label: object | None = None) -> str:
    return safe_url(url) if label is None else f"{text_line(label)} ({safe_url(url)})"


def text_heading(value: object, level: int = 3) -> str:
    del level
    return text_line(value) + ":"


def prose(value: str) -> str:
    """Prose (a block of a template, a rule's description) as one line: every run of whitespace,
    newlines included, as one space (keeps Markup as Markup)."""
    if isinstance(value, Markup):
        return Markup(" ").join(value.split())
    return " ".join(value.split())


@functools.cache
def environment(markdown: bool = True) -> Environment:
    """The environment for Markdown (autoescaped) or plain text, built once per process."""
    env = Environment(
        loader=PackageLoader("scanner", "templates"),
        autoescape=markdown,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
    )
    helpers: dict[str, Any]
    if markdown:
        helpers = {"link": md_link, "strong": md_strong, "heading": md_heading}
        env.filters.update(md=md_text, rich=md_rich, code=md_code, prose=prose, url=md_url)
    else:
        helpers = {"link": text_link, "strong": text_line, "heading": text_heading}
        env.filters.update(md=text_line, rich=text_line, code=text_code, prose=prose, url=safe_url)
    env.globals.update(helpers)
    return env


def render(name: str, markdown: bool = True, **values: Any) -> str:
    """Template `name` rendered with `values`."""
    return environment(markdown).get_template(name).render(**values)


@functools.cache
def template_names() -> frozenset[str]:
    """Every template the package holds (listed once per process)."""
    return frozenset(environment(True).list_templates())
