"""Formatters: pure functions from a finished `Report` to text.

Every format is one module with `render(report, context: RenderContext) -> str`, registered by
name in `formats.py` (sarif, json, summary, console, annotations); `context.py` holds what a
format needs beyond the report. Nothing here opens files, reads environment variables or calls
git; the entry points write what it returns. `severity` holds the one table that maps a severity
to SARIF `level` and `security-severity`; `escape` the one set of characters never printed raw.
"""
