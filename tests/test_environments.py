"""The environment table (scanner/environments.py, docs/environments.md): each form it recognises,
the names it refuses, how a user extends it, and a workflow's `environment:` key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scanner.environments import (
    DEFAULT,
    FORMS,
    EnvironmentTable,
    environment_of,
    environments_of,
    is_workflow,
    shared_environments,
    workflow_environment,
    workflow_environments,
)

RECOGNISED = [
    # dotenv, any name but the table's non-environments
    (".env.development", "development"),
    (".env.staging", "staging"),
    (".env.production", "production"),
    ("apps/web/.env.production", "production"),
    (".env.development.local", "development"),  # the local override of development
    (".env.eu-west", "eu-west"),  # per-environment by convention: any name counts
    ("config/production.env", "production"),
    # ASP.NET and Rails: named per environment by the framework
    ("src/Api/appsettings.Development.json", "Development"),
    ("config/environments/production.rb", "production"),
    # config/<env>.<ext>, only the table's names
    ("config/dev.yaml", "dev"),
    ("config/prod.yaml", "prod"),
    ("service/config/staging.json", "staging"),
    ("config/test.toml", "test"),
    # Helm
    ("charts/app/values-dev.yaml", "dev"),
    ("charts/app/values-prod.yaml", "prod"),
    ("values.staging.yml", "staging"),
    # kustomize overlays, any name
    ("k8s/overlays/staging/secret.yaml", "staging"),
    ("deploy/k8s/overlays/prod-eu/kustomization.yaml", "prod-eu"),
    # docker compose overrides
    ("docker-compose.prod.yml", "prod"),
    ("compose.staging.yaml", "staging"),
    # Terraform
    ("infra/prod.tfvars", "prod"),
    ("infra/staging.auto.tfvars", "staging"),
    ("infra/dev.tfvars.json", "dev"),
    ("terraform/envs/prod/main.tf", "prod"),
    ("terraform/environments/qa/terraform.tfvars", "qa"),  # the folder names it, the file does not
    # Spring profiles, deploy folders
    ("src/main/resources/application-prod.yml", "prod"),
    ("deploy/production/app.yaml", "production"),
]

NOT_ENVIRONMENTS = [
    ".env",
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.local",  # a developer's machine: local overrides that no deployment shares
    ".env.production.example",  # a template for production, not production's file
    ".env.defaults",
    "config/database.yaml",  # a mixed folder: only the table's names count
    "config/settings.json",
    "config/default.yaml",
    "charts/app/values.yaml",
    "charts/app/values-gpu.yaml",
    "k8s/overlays/base/kustomization.yaml",
    "docker-compose.yml",
    "docker-compose.override.yml",
    "terraform.tfvars",
    "infra/secrets.tfvars",
    "env/lib/python3.11/site-packages/x.py",  # a virtualenv folder, not an environment
    "src/dev/tools.py",  # a folder named dev is not a deployment
    "production.py",
    "docs/production.md",
    "appsettings.json",
    "src/main/resources/application.yml",
]


@pytest.mark.parametrize(("path", "expected"), RECOGNISED)
def test_each_form_names_the_environment_as_written(path: str, expected: str) -> None:
    assert environment_of(path) == expected


@pytest.mark.parametrize("path", NOT_ENVIRONMENTS)
def test_what_names_no_environment(path: str) -> None:
    assert environment_of(path) is None


def test_every_form_is_tested_and_documented() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "environments.md").read_text(encoding="utf-8")
    for form in FORMS:
        assert any(re.search(form.pattern, path, re.I) for path, _ in RECOGNISED), form.name
        assert f"`{form.name}`" in doc, form.name
        for example in form.example.split(", "):  # each form's own examples are recognised
            assert environment_of(example) is not None, (form.name, example)


def test_the_file_name_says_more_than_its_folder() -> None:
    assert environment_of("k8s/overlays/prod/values-staging.yaml") == "staging"
    assert environment_of("deploy/staging/overlays/canary/x.yaml") == "canary"  # the innermost folder


def test_names_are_never_normalised_but_case_is_one_spelling() -> None:
    paths = [".env.development", "appsettings.Development.json", "config/dev.yaml", ".env.production"]
    assert environments_of(paths) == ("dev", "Development", "production")


def test_shared_means_two_environments_or_more() -> None:
    assert shared_environments([".env.development", ".env.production", "src/app.ts"]) == (
        "development",
        "production",
    )
    assert shared_environments(["charts/values-dev.yaml", "charts/values-prod.yaml"]) == ("dev", "prod")
    assert shared_environments([".env.production", "config/production.env"]) == ()  # one environment
    assert shared_environments([".env.production", "src/app.ts", ".env.example"]) == ()
    assert shared_environments([]) == ()


def test_the_table_is_configurable() -> None:
    assert environment_of("charts/values-gpu.yaml") is None
    table = DEFAULT.with_names(names=["GPU"], not_environments=["eu-west"])
    assert environment_of("charts/values-gpu.yaml", table) == "gpu"
    assert environment_of(".env.eu-west", table) is None
    assert environment_of(".env.eu-west") == "eu-west"  # the default table is unchanged
    only_dotenv = EnvironmentTable(forms=FORMS[:1])
    assert environment_of("config/prod.yaml", only_dotenv) is None
    assert environment_of(".env.prod", only_dotenv) == "prod"


WORKFLOW = """\
name: deploy
on: push
env:
  GLOBAL: x
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: make
        env:
          environment: not-a-job-key
  staging:
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - run: ./deploy staging
  production:
    needs: staging
    environment:
      name: production  # the real one
      url: https://example.invalid
    steps:
      - run: ./deploy production
  preview:
    environment: { name: "preview", url: "https://example.invalid" }
    steps:
      - run: ./deploy preview
  dynamic:
    environment: ${{ inputs.target }}
    steps:
      - run: ./deploy
"""


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_a_workflow_job_names_its_environment() -> None:
    assert workflow_environment(WORKFLOW, _line(WORKFLOW, "./deploy staging")) == "staging"
    assert workflow_environment(WORKFLOW, _line(WORKFLOW, "./deploy production")) == "production"
    assert workflow_environment(WORKFLOW, _line(WORKFLOW, "./deploy preview")) == "preview"
    # no environment: a job without the key, a step's env named so, the top level, an expression
    assert workflow_environment(WORKFLOW, _line(WORKFLOW, "run: make")) is None
    assert workflow_environment(WORKFLOW, _line(WORKFLOW, "not-a-job-key")) is None
    assert workflow_environment(WORKFLOW, _line(WORKFLOW, "GLOBAL")) is None
    assert workflow_environment(WORKFLOW, len(WORKFLOW.splitlines())) is None  # the dynamic job's step
    assert workflow_environments(WORKFLOW) == ("staging", "production", "preview")


def test_only_workflow_files_are_workflows() -> None:
    assert is_workflow(".github/workflows/deploy.yml")
    assert not is_workflow("docs/.github/workflows-notes.md")
    assert not is_workflow(".github/dependabot.yml")
