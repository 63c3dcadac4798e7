"""Which environment a file belongs to, from its path alone: the one table of issue 24's "shared
across environments" (docs/environments.md).

A key in `.env.development` and in `.env.production` is one key shared by two environments: a
leak of the development copy is a leak of production. The environment is read from where the file
sits — `.env.<env>`, `config/<env>.yaml`, Helm's `values-<env>.yaml`, `k8s/overlays/<env>/`,
`docker-compose.<env>.yml`, Terraform's `<env>.tfvars`, … — and written as it appears there
(`development`, not normalised to `dev`), never guessed from a file's content. The one exception
is a GitHub workflow's `environment:` key, which names it explicitly (`workflow_environment`).

Two kinds of form: a place whose convention is one file or folder per environment (`.env.<x>`,
`overlays/<x>/`, `environments/<x>/`, `appsettings.<X>.json`) names an environment by any name
but the table's `not_environments` (`example`, `local`, …); a place that also holds other things
(`config/<x>.yaml` next to `config/database.yaml`, `values-<x>.yaml`, `<x>.tfvars`) names one only
when `<x>` is one of the table's `names`. Both lists and the forms are the table's data: a caller
makes its own with `EnvironmentTable.with_names` / `replace`. Pure: no I/O, no git, no yaml.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

_NAME = r"(?P<env>[A-Za-z0-9][A-Za-z0-9_-]*)"
_CONFIG_EXT = r"(?:ya?ml|json|jsonc|toml|ini|conf|cfg|properties|env|js|cjs|mjs|ts|rb|py|php|exs?)"


@dataclass(frozen=True, slots=True)
class Form:
    """One way a path names an environment: `pattern` (searched in the path, case-insensitive)
    captures the name as `env`; `any_name`: the place is per-environment by convention, so any
    name but the table's `not_environments` counts; otherwise only the table's `names`."""

    name: str
    pattern: str
    any_name: bool
    example: str


FORMS: tuple[Form, ...] = (
    # file names first (the file's own name says more than the folder it sits in)
    Form("dotenv", rf"(?:^|/)\.env\.{_NAME}(?:\.local)?$", True, ".env.production, .env.development.local"),
    Form("dotenv-named", rf"(?:^|/){_NAME}\.env$", False, "config/production.env"),
    Form("aspnet", rf"(?:^|/)appsettings\.{_NAME}\.json$", True, "appsettings.Development.json"),
    Form(
        "rails", rf"(?:^|/)config/environments/{_NAME}\.[A-Za-z]+$", True, "config/environments/production.rb"
    ),
    Form("config", rf"(?:^|/)config/{_NAME}\.{_CONFIG_EXT}$", False, "config/dev.yaml, config/prod.json"),
    Form("helm", rf"(?:^|/)values[-.]{_NAME}\.ya?ml$", False, "values-dev.yaml, values.prod.yaml"),
    Form("compose", rf"(?:^|/)(?:docker-)?compose\.{_NAME}\.ya?ml$", False, "docker-compose.prod.yml"),
    Form(
        "terraform",
        rf"(?:^|/){_NAME}(?:\.auto)?\.tfvars(?:\.json)?$",
        False,
        "prod.tfvars, staging.auto.tfvars",
    ),
    Form("spring", rf"(?:^|/)application-{_NAME}\.(?:ya?ml|properties)$", False, "application-prod.yml"),
    # then folders, innermost first
    Form("overlay", rf"(?:^|/)overlays/{_NAME}/", True, "k8s/overlays/staging/secret.yaml"),
    Form("environments", rf"(?:^|/)(?:environments|envs)/{_NAME}/", True, "terraform/envs/prod/main.tf"),
    Form(
        "folder", rf"(?:^|/)(?:env|deploy|deployments?|stages?)/{_NAME}/", False, "deploy/production/app.yaml"
    ),
)

NAMES: frozenset[str] = frozenset(
    {
        "development", "develop", "dev",
        "staging", "stage", "stg",
        "production", "prod", "prd", "live",
        "test", "testing", "qa", "uat", "acceptance", "integration", "int", "ci", "e2e",
        "preprod", "pre-prod", "preproduction", "nonprod", "non-prod",
        "sandbox", "demo", "preview", "canary", "perf", "performance", "beta",
    }
)  # fmt: skip
"""Names a mixed place (`config/<x>.yaml`, `values-<x>.yaml`, `<x>.tfvars`) must use to count,
compared case-insensitively."""

NOT_ENVIRONMENTS: frozenset[str] = frozenset(
    {
        "example", "examples", "sample", "samples", "template", "templates", "tmpl", "tpl", "dist",
        "defaults", "default", "schema", "base", "common", "shared", "global", "override", "overrides",
        "local", "bak", "backup", "orig", "old", "copy", "swp", "secret", "secrets", "vault", "keys",
        "terraform", "variables", "vars", "values", "docker", "compose", "config", "settings",
    }
)  # fmt: skip
"""Words that a per-environment place may hold but that name no environment: templates
(`.env.example`), a developer's machine (`.env.local`: local overrides, shared by no deployment),
the base of overlays (`overlays/base/`), and the places' own generic names (`terraform.tfvars`)."""


@dataclass(frozen=True, slots=True)
class EnvironmentTable:
    """The forms and the two lists they are judged by; `DEFAULT` is the documented table."""

    forms: tuple[Form, ...] = FORMS
    names: frozenset[str] = NAMES
    not_environments: frozenset[str] = NOT_ENVIRONMENTS
    _compiled: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", tuple(_compile(f.pattern) for f in self.forms))

    def with_names(self, names: Iterable[str] = (), not_environments: Iterable[str] = ()) -> EnvironmentTable:
        """This table with more environment names and more words that name none (a user's config)."""
        return replace(
            self,
            names=self.names | {n.lower() for n in names},
            not_environments=self.not_environments | {n.lower() for n in not_environments},
        )

    def extended(
        self, names: Iterable[str] = (), not_environments: Iterable[str] = (), patterns: Iterable[str] = ()
    ) -> EnvironmentTable:
        """This table with a user's additions (`.keysweep.toml` `[environments]`): more names,
        more words that name none, and path patterns of their own, tried before the table's forms
        (a user's layout says more than a convention). Raises ValueError naming a bad pattern."""
        forms = tuple(user_form(p) for p in patterns)
        return replace(self.with_names(names, not_environments), forms=(*forms, *self.forms))

    def environment_of(self, path: str) -> str | None:
        """The environment `path` (repository-relative, `/`-separated) belongs to, as written there;
        None when its path names none."""
        for form, pattern in zip(self.forms, self._compiled, strict=True):
            # a folder form may match several folders: the innermost says most
            for match in reversed(list(pattern.finditer(path))):
                name = match.group("env")
                if self._accepts(form, name):
                    return name
        return None

    def _accepts(self, form: Form, name: str) -> bool:
        lowered = name.lower()
        if lowered in self.not_environments:
            return False
        return form.any_name or lowered in self.names


_PLACEHOLDER = "{env}"


def user_form(pattern: str) -> Form:
    """A path pattern of a user's config as a form: `{env}` (once) is the environment's name, `*`
    any characters but `/`, `**` any folders; it matches from the start of a path or of a folder
    name; a pattern ending in `/` names a folder (`regions/{env}/`), otherwise the whole rest of
    the path (`secrets.{env}.yaml`, `deploy/**/{env}.vars`). Any name but the non-environments
    counts: the user wrote the place for it."""
    if pattern.count(_PLACEHOLDER) != 1:
        raise ValueError(f"{pattern!r}: a pattern holds {_PLACEHOLDER} exactly once")
    if pattern.startswith("/") or "//" in pattern or "\\" in pattern or len(pattern) > 200:
        raise ValueError(f"{pattern!r}: a pattern is a relative path with / between folders")
    folder = pattern.endswith("/")
    out = []
    for part in re.split(r"(\{env\}|\*\*/|\*\*|\*)", pattern):
        if part == _PLACEHOLDER:
            out.append(_NAME)
        elif part == "**/":
            out.append(r"(?:[^/]+/)*")
        elif part == "**":
            out.append(r".*")
        elif part == "*":
            out.append(r"[^/]*")
        else:
            out.append(re.escape(part))
    body = "".join(out)
    return Form(f"config: {pattern}", rf"(?:^|/){body}" + ("" if folder else "$"), True, pattern)


@functools.cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


DEFAULT = EnvironmentTable()


def environment_of(path: str, table: EnvironmentTable = DEFAULT) -> str | None:
    """The environment named by `path`, as written there, or None (see the module's doc)."""
    return table.environment_of(path)


def environments_of(paths: Iterable[str], table: EnvironmentTable = DEFAULT) -> tuple[str, ...]:
    """The distinct environments `paths` name, sorted; two spellings that differ only in case are
    one (the first in sort order is kept: `Development` and `development`); `dev` and `development`
    stay two, as the table does not guess that they are the same."""
    seen: dict[str, str] = {}
    for name in sorted(n for p in paths if (n := table.environment_of(p)) is not None):
        seen.setdefault(name.lower(), name)
    return tuple(sorted(seen.values(), key=str.lower))


def shared_environments(paths: Iterable[str], table: EnvironmentTable = DEFAULT) -> tuple[str, ...]:
    """The environments a secret found at `paths` is shared across: `environments_of` when they
    are two or more, else ()."""
    names = environments_of(paths, table)
    return names if len(names) > 1 else ()


# --- a workflow's `environment:` key: the one environment read from content --------------------------

_WORKFLOW = re.compile(r"(?:^|/)\.github/workflows/[^/]+\.ya?ml$", re.IGNORECASE)
_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'):(?:\s+(?P<value>.*?))?\s*$")


def is_workflow(path: str) -> bool:
    return _WORKFLOW.search(path) is not None


def workflow_environment(text: str, line: int) -> str | None:
    """The environment of the job that holds 1-based `line` of a GitHub workflow, as its
    `environment:` key names it (`environment: production` or `environment: {name: production}`);
    None outside a job, for a job without one, or for a name made by an expression (`${{ … }}`: not
    known until the run). Read line by line, without a YAML parser: a workflow's jobs are the keys
    one level under the top-level `jobs:`."""
    job = _job_at(text.splitlines(), line - 1)
    return _environment(job) if job is not None else None


def workflow_environments(text: str) -> tuple[str, ...]:
    """Every environment a workflow's jobs name, in order, each once."""
    lines = text.splitlines()
    out: list[str] = []
    for start, end in _jobs(lines):
        name = _environment(lines[start:end])
        if name is not None and name not in out:
            out.append(name)
    return tuple(out)


def _jobs(lines: list[str]) -> list[tuple[int, int]]:
    """(first line, end) of each job's block."""
    blocks: list[tuple[int, int]] = []
    in_jobs, job_indent, start = False, None, None
    for index, text in enumerate(lines):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        match = _KEY.match(text)
        indent = len(text) - len(text.lstrip(" "))
        if indent == 0:
            if start is not None:
                blocks.append((start, index))
                start = None
            in_jobs = match is not None and match.group("key") == "jobs"
            job_indent = None
            continue
        if not in_jobs or match is None:
            continue
        if job_indent is None:
            job_indent = indent
        if indent == job_indent:
            if start is not None:
                blocks.append((start, index))
            start = index
    if start is not None:
        blocks.append((start, len(lines)))
    return blocks


def _job_at(lines: list[str], index: int) -> list[str] | None:
    for start, end in _jobs(lines):
        if start <= index < end:
            return lines[start:end]
    return None


def _environment(job: list[str]) -> str | None:
    """The `environment:` of a job's block (its first line is the job's key)."""
    body_indent = None
    for position, text in enumerate(job[1:], start=1):
        match = _KEY.match(text)
        if match is None or text.lstrip().startswith("#"):
            continue
        indent = len(match.group("indent"))
        if body_indent is None:
            body_indent = indent
        if indent != body_indent or match.group("key") != "environment":
            continue
        value = match.group("value")
        if value and not value.startswith("#"):
            return _scalar(value)
        for below in job[position + 1 :]:  # environment: {name: …} written as a block
            inner = _KEY.match(below)
            if inner is None:
                continue
            if len(inner.group("indent")) <= indent:
                break
            if inner.group("key") == "name" and inner.group("value"):
                return _scalar(inner.group("value"))
        return None
    return None


def _scalar(value: str) -> str | None:
    text = value.split(" #", 1)[0].strip()
    if text.startswith("{"):  # flow mapping: {name: production, url: …}
        found = re.search(r"(?:^|[{,])\s*name\s*:\s*([^,}]+)", text)
        text = found.group(1).strip() if found else ""
    text = text.strip("\"'")
    if not text or "${{" in text:
        return None
    return text
