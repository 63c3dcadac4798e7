"""Issue 24 end to end through `keysweep scan`: one key in `.env.development` and `.env.production`
since 400 days ago is one finding naming both environments and an age of 400 days in the JSON, the
HTML (opened in real headless Chromium), the console and the summary (one line each); and the
environment table extended by `.keysweep.toml` `[environments]` (docs/environments.md).

Commits are dated relative to the real clock (the CLI counts ages to its own start)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scanner import cli
from scanner.errors import ConfigError
from scanner.suppress.settings import parse_config
from tests.browser import Browser, need_chromium
from tests.dated_git import Git
from tests.keys import make_key
from tests.keys import rules as all_rules

SHARED = "shared across environments development, production (at the same time)"


def _env(key: str) -> str:
    return f"OPENAI_API_KEY={key}\n"


def test_done_means_both_environments_and_400_days_in_every_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = Git(tmp_path / "r")
    key = make_key(seed=2424)
    when = datetime.now(UTC) - timedelta(days=400, hours=1)
    repo.commit(when, {".env.development": _env(key), ".env.production": _env(key)})
    out = {kind: tmp_path / f"r.{kind}" for kind in ("json", "html", "md")}
    argv = ["scan", str(repo.path), "--json", str(out["json"]), "--html", str(out["html"])]
    assert cli.main([*argv, "--summary", str(out["md"]), "--fail-on", "none", "--jobs", "1"]) == 0
    console = capsys.readouterr()
    (found,) = json.loads(out["json"].read_text())["findings"]
    assert found["age_days"] == 400
    assert found["environments"]["names"] == ["development", "production"]
    assert found["environments"]["held"] == "together"
    # the console and the summary: one line each says both environments
    assert sum(SHARED in line for line in console.out.splitlines()) == 1
    assert sum(SHARED in line for line in out["md"].read_text().splitlines()) == 1
    assert "in history for 13 months, still at HEAD" in console.out
    for text in (console.out, console.err, *(p.read_text() for p in out.values())):
        assert key not in text
    # the HTML, as a browser shows it: the row, expanded, names both environments and the age
    with Browser(need_chromium()) as browser:
        browser.open(out["html"])
        opened = browser.evaluate(
            """(() => { const d = document.querySelector('#rows > details'); d.open = true;
            return new Promise(r => setTimeout(() => r(document.body.innerText), 100)); })()"""
        )
    assert "development" in opened and "production" in opened
    assert "400 days" in opened or "13 months" in opened, opened


CONFIG = """\
[environments]
names = ["eu-west"]
not-environments = ["sandbox"]
patterns = ["regions/{env}/", "secrets.{env}.yaml"]
"""


def test_the_config_adds_names_and_places_to_the_table(tmp_path: Path) -> None:
    """`regions/eu1/` and `secrets.us1.yaml` name environments only through the config's patterns;
    `config/eu-west.yaml` only through its names; `.env.sandbox` is no environment once the config
    says so."""
    repo = Git(tmp_path / "r")
    shared, named, dropped = (make_key(seed=s) for s in (2425, 2426, 2427))
    files = {
        "infra/regions/eu1/app.env": _env(shared),
        "deploy/secrets.us1.yaml": f"openai: {shared}\n",
        "config/eu-west.yaml": f"openai: {named}\n",
        "config/prod.yaml": f"openai: {named}\n",
        ".env.sandbox": _env(dropped),
        ".env.production": _env(dropped),
    }
    repo.commit(datetime.now(UTC) - timedelta(days=3), files)

    def environments(config: str | None) -> dict[str, list[str] | None]:
        if config is not None:
            (repo.path / ".keysweep.toml").write_text(config)
        out = tmp_path / "r.json"
        assert cli.main(["scan", str(repo.path), "--json", str(out), "--fail-on", "none", "--jobs", "1"]) == 0
        got = {}
        for f in json.loads(out.read_text())["findings"]:
            k = next(k for k in (shared, named, dropped) if f["redacted"].endswith(k[-4:] + f" ({len(k)})"))
            got[k] = f["environments"]["names"] if f["environments"] else None
        return got

    before = environments(None)
    assert before[shared] is None and before[named] == ["prod"]
    assert before[dropped] == ["production", "sandbox"]
    after = environments(CONFIG)
    assert after[shared] == ["eu1", "us1"]
    assert after[named] == ["eu-west", "prod"]
    assert after[dropped] == ["production"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[environments]\npatterns = ['regions/*/']\n", "exactly once"),
        ("[environments]\npatterns = ['/abs/{env}/']\n", "relative path"),
        ("[environments]\nnames = ['a b']\n", "is not a name"),
        ("[environments]\nnames = 'prod'\n", "list of non-empty strings"),
        ("[environments]\nregions = []\n", "unknown key"),
        ("environments = 3\n", "must be a table"),
    ],
)
def test_a_bad_environments_table_is_a_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as e:
        parse_config(text, ".keysweep.toml", all_rules())
    assert ".keysweep.toml:" in str(e.value) or "environments" in str(e.value)


def _workflow(key: str, other: str) -> str:
    return f"""\
name: deploy
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      OPENAI_API_KEY: {other}
    steps:
      - run: make
  staging:
    runs-on: ubuntu-latest
    environment: staging
    env:
      OPENAI_API_KEY: {key}
    steps:
      - run: ./deploy
  production:
    runs-on: ubuntu-latest
    environment:
      name: production
      url: https://example.invalid
    env:
      OPENAI_API_KEY: {key}
    steps:
      - run: ./deploy
"""


def _by_key(out: Path, keys: tuple[str, ...]) -> dict[str, dict[str, object]]:
    got = {}
    for f in json.loads(out.read_text())["findings"]:
        k = next(k for k in keys if f["redacted"].endswith(k[-4:] + f" ({len(k)})"))
        got[k] = f
    return got


@pytest.mark.parametrize("where", ["history", "directory"])
def test_a_workflow_jobs_environment_key_names_its_secrets_environment(tmp_path: Path, where: str) -> None:
    """The same key in a job with `environment: staging` and in one with `environment: {name:
    production}` (block form) is shared across staging and production; a key in a job without the
    key has no environment. In history (the blob) and in a plain directory (the file on disk)."""
    key, other = make_key(seed=2430), make_key(seed=2431)
    text = _workflow(key, other)
    if where == "history":
        repo = Git(tmp_path / "r")
        repo.commit(datetime.now(UTC) - timedelta(days=10), {".github/workflows/deploy.yml": text})
        root = repo.path
    else:
        root = tmp_path / "d"
        (root / ".github" / "workflows").mkdir(parents=True)
        (root / ".github" / "workflows" / "deploy.yml").write_text(text)
    out = tmp_path / "r.json"
    assert cli.main(["scan", str(root), "--json", str(out), "--fail-on", "none", "--jobs", "1"]) == 0
    got = _by_key(out, (key, other))
    assert got[key]["environments"] == {
        "names": ["production", "staging"],
        "shared": True,
        "held": "together",
    }
    assert got[other].get("environments") is None
    assert "shared across environments production, staging" in str(got[key]["severity_reason"])
