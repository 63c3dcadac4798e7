"""Formatters: pure functions from a finished `Report` to text.

`json.render_json`, `sarif.render_sarif` and `console.render_console` never open files, read
environment variables or call git; the CLI writes what they return. `severity` holds the one
table that maps a severity to SARIF `level` and `security-severity`.
"""
