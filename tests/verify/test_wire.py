"""`keysweep scan --verify` end to end (issue 25): a real repository with planted keys, the
verifiers pointed at the loopback HTTPS server of tests/verify_server.py. No test reaches the
internet: the endpoint override is set by monkeypatching the settings factory the entry point
calls (`VerifySettings.from_env`), never by a flag, a config or the scanned content, and the CA
is trusted through SSL_CERT_FILE, read by the entry point like a user's own."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pygit2
import pytest
import trustme

from scanner import cli
from scanner.github.inputs import read_inputs
from scanner.rules.verifiers import OFFICIAL_HOSTS
from scanner.verify import VerifySettings
from tests.keys import leak_windows, make_key
from tests.output_fixtures import load_schema, sarif_schema_errors
from tests.repo_builder import RepoBuilder
from tests.verify_server import Endpoint, ca_bundle, https_server

HOSTS = sorted({h for hosts in OFFICIAL_HOSTS.values() for h in hosts})
REVOKED_LINE = "revoked: clean history only if you must"


@dataclass
class Planted:
    repo: Path
    live: str  # OpenAI project key, beside a base_url of the attacker's host
    revoked: str  # Anthropic key
    local: str  # an ignored .env's key: never asked about
    aws_id: str  # an AWS key ID, committed beside a secret access key that is not its own
    aws_secret: str


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def servers(ca: trustme.CA) -> Iterator[tuple[Endpoint, Endpoint]]:
    with https_server(ca) as server, https_server(ca) as attacker:
        yield server, attacker


@pytest.fixture
def planted(tmp_path: Path) -> Planted:
    live, revoked = make_key("openai.project-key", 71), make_key("anthropic.api-key", 72)
    local = make_key("openai.project-key", 73)
    aws_id, aws_secret = make_key("aws.access-key-id", 74), make_key("aws.secret-access-key", 74)
    aws = f"AWS_ACCESS_KEY_ID={aws_id}\nAWS_SECRET_ACCESS_KEY={aws_secret}\n"
    b = RepoBuilder(tmp_path / "repo")
    b.commit(
        {
            ".gitignore": b".env\n",
            "app/client.py": (
                'from openai import OpenAI\nclient = OpenAI(base_url="https://ATTACKER/v1", '
                f'api_key="{live}")\n'
            ).encode(),
            "app/claude.env": f"ANTHROPIC_API_KEY={revoked}\n".encode(),
            # critical by their rules, and before openai by rule id: a live key still comes first
            "app/aws.env": aws.encode(),
        }
    )
    b.commit({"app/claude.env": None})  # removed: the key is in the history only
    b.repo.checkout_head(strategy=pygit2.GIT_CHECKOUT_FORCE)
    (b.path / ".env").write_text(f"OPENAI_API_KEY={local}\n")
    return Planted(b.path, live, revoked, local, aws_id, aws_secret)


def _point_at(monkeypatch: pytest.MonkeyPatch, netloc: str, ca_file: str, **values: Any) -> None:
    """The test-only hook: the entry point's settings, with every verifier host sent to `netloc`."""
    real = VerifySettings.from_env

    def from_env(env: Any, **given: Any) -> VerifySettings:
        settings = real(env, **given)
        return replace(settings, endpoints=dict.fromkeys(HOSTS, netloc), **values)

    monkeypatch.setattr(VerifySettings, "from_env", staticmethod(from_env))
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def _scan(repo: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    out.mkdir(exist_ok=True)
    code = cli.main(
        [
            "scan",
            str(repo),
            "--jobs",
            "1",
            "--fail-on",
            "critical",
            "--json",
            str(out / "r.json"),
            "--sarif",
            str(out / "r.sarif"),
            "--summary",
            str(out / "r.md"),
            "--state",
            str(out / "r.state"),
            "--html",
            str(out / "r.html"),
            *extra,
        ]
    )
    return code, json.loads((out / "r.json").read_text())


def _by_rule(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["rule_id"] + ("/local" if f["exposure"] == "local-only" else ""): f for f in doc["findings"]}


def test_a_live_key_goes_critical_and_first_a_revoked_one_is_said_plainly(
    planted: Planted,
    servers: tuple[Endpoint, Endpoint],
    ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server, attacker = servers
    (planted.repo / "app" / "client.py").write_text(
        (planted.repo / "app" / "client.py").read_text().replace("ATTACKER", attacker.netloc)
    )  # the working tree names the attacker's loopback server: it must never be asked
    _point_at(monkeypatch, server.netloc, ca_bundle(ca, tmp_path))
    server.plan.scenarios[planted.revoked] = "revoked"
    # the secret committed beside the AWS key ID is not its own (STS: SignatureDoesNotMatch)
    server.plan.aws_secrets[planted.aws_id] = make_key("aws.secret-access-key", 75)

    off_code, off = _scan(planted.repo, tmp_path / "off")
    assert server.plan.seen == []  # off by default: no request at all
    assert all("verification" not in f for f in off["findings"])
    capsys.readouterr()

    code, doc = _scan(planted.repo, tmp_path / "on", "--verify")
    console = capsys.readouterr().out
    before, after = _by_rule(off), _by_rule(doc)
    import jsonschema  # type: ignore[import-untyped]

    schema = load_schema("keysweep-report-v1.json")
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc)) == []
    assert sarif_schema_errors(json.loads((tmp_path / "on" / "r.sarif").read_text())) == []
    live, revoked, local = (
        after["openai.project-key"],
        after["anthropic.api-key"],
        after["openai.project-key/local"],
    )

    # live: critical with the reason, first everywhere; the gate sees it (fail-on critical)
    assert before["openai.project-key"]["severity"] == "high"
    assert live["verification"]["status"] == "live" and live["verification"]["http_status"] == 200
    assert live["verification"]["checked_at"].endswith("Z")
    assert live["severity"] == "critical" and live["severity_reason"].startswith(
        "live: the provider accepted"
    )
    assert [f["severity"] for f in off["findings"][:2]] == ["critical", "critical"]  # the AWS pair
    assert doc["findings"][0] is live and code == off_code == 1
    assert after["aws.access-key-id"]["verification"]["reason"] == (
        "the key ID exists, but the secret beside it is not its secret"
    )
    sarif = json.loads((tmp_path / "on" / "r.sarif").read_text())["runs"][0]["results"][0]
    assert sarif["properties"]["keysweep/verification"]["status"] == "live"
    assert "the provider says this key is live" in sarif["message"]["text"].lower()
    first = next(line for line in console.splitlines() if line.startswith("  ") and line.strip())
    assert "CRITICAL" in first and "openai.project-key" in first
    assert "verified: 1 live, 1 revoked, 3 unknown" in console
    summary = (tmp_path / "on" / "r.md").read_text()
    steps = summary.split("### What to do first")[1]
    assert "1 live, 1 revoked, 3 unknown" in steps
    assert steps.index("Why critical: live:") < steps.index("AWS")
    page = (tmp_path / "on" / "r.html").read_text()
    assert page.index("LIVE (HTTP 200") < page.index("aws.access-key-id") and REVOKED_LINE in page

    # revoked: said plainly, severity unchanged; local-only: never asked, unknown
    assert revoked["verification"]["status"] == "revoked" and revoked["verification"]["http_status"] == 401
    assert revoked["severity"] == before["anthropic.api-key"]["severity"]
    assert revoked["severity_reason"] == before["anthropic.api-key"]["severity_reason"]
    assert REVOKED_LINE in console
    assert local["verification"] == {
        "status": "unknown",
        "reason": "local-only: never checked",
        "http_status": None,
        "checked_at": None,
    }

    # one request per distinct secret, each to its rule's own host; nothing to the attacker's
    assert sorted((s.host, s.path) for s in server.plan.seen) == [
        ("api.anthropic.com", "/v1/models"),
        ("api.openai.com", "/v1/models"),
        ("sts.amazonaws.com", "/"),  # the AWS pair, signed (the key ID alone is never sent)
    ]
    assert attacker.plan.seen == []
    sent = json.dumps([s.headers for s in server.plan.seen])
    assert planted.local not in sent

    # the report holds no secret; the saved state carries the answers (report == scan)
    for name in ("r.json", "r.sarif", "r.md", "r.state", "r.html"):
        text = (tmp_path / "on" / name).read_text()
        for key in (planted.live, planted.revoked, planted.local, planted.aws_secret):
            assert not leak_windows(key, 8) & {text[i : i + 8] for i in range(len(text) - 7)}, name
    again = tmp_path / "again.json"
    assert cli.main(["report", str(tmp_path / "on" / "r.state"), "--json", str(again)]) == 1
    assert again.read_bytes() == (tmp_path / "on" / "r.json").read_bytes()


def _closed_port() -> str:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now: every connection is refused
    return f"127.0.0.1:{port}"


def test_with_no_network_every_answer_is_unknown_and_nothing_else_changes(
    planted: Planted, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_at(monkeypatch, _closed_port(), ca_bundle(ca, tmp_path))
    off_code, off = _scan(planted.repo, tmp_path / "off")
    t0 = time.monotonic()
    code, doc = _scan(planted.repo, tmp_path / "on", "--verify", "--verify-budget", "3")
    took = time.monotonic() - t0
    assert code == off_code
    reasons = set()
    for f in doc["findings"]:
        v = f.pop("verification")
        assert v["status"] == "unknown" and v["http_status"] is None and v["checked_at"] is None, v
        reasons.add((f["rule_id"], f["exposure"], v["reason"]))
    assert ("openai.project-key", "repository", "network unreachable") in reasons
    assert ("anthropic.api-key", "repository", "network unreachable") in reasons
    for d in (doc, off):
        d["stats"].pop("seconds")
    assert doc["findings"] == off["findings"]
    assert took < 3 + 10, took  # the budget, and a small scan around it


def test_the_budget_option_is_checked() -> None:
    assert cli.main(["scan", ".", "--verify-budget", "5"]) == 2  # needs --verify
    assert cli.main(["scan", ".", "--verify", "--verify-budget", "0"]) == 2


def test_the_action_input_is_off_by_default_and_a_boolean() -> None:
    assert read_inputs({}).verify is False
    assert read_inputs({"INPUT_VERIFY": "true"}).verify is True
    from scanner.errors import UsageError

    with pytest.raises(UsageError, match="`verify` must be true or false"):
        read_inputs({"INPUT_VERIFY": "yes"})


def test_the_action_asks_once_per_secret_across_its_range_and_tree_scans(
    servers: tuple[Endpoint, Endpoint], ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request's job scans the range (the gate) and the merge commit's tree (the SARIF
    file): a key in both is asked about once, and a live one is critical in the gate's outputs."""
    import io

    from scanner.github.entry import run_action
    from tests.action_runner import parse_outputs, pull_request_job, pull_request_payload

    server, _attacker = servers
    ca_file = ca_bundle(ca, tmp_path)
    _point_at(monkeypatch, server.netloc, ca_file)
    old, new = make_key("openai.project-key", 81), make_key("anthropic.api-key", 82)
    b = RepoBuilder(tmp_path / "origin")
    c1 = b.commit({"old/.env": f"OPENAI_API_KEY={old}\n".encode()})
    f1 = b.commit({"src/claude.py": f'KEY = "{new}"\n'.encode()}, ref="refs/heads/feature", parents=[c1])
    b.repo.references.create("refs/pull/7/head", f1)
    runner, merge = pull_request_job(b, tmp_path, 7, c1, f1)
    payload = pull_request_payload(7, base=str(c1), head=str(f1), before=str(c1))
    env, output = runner.env("pull_request", payload, merge, "refs/pull/7/merge", {"verify": "true"})
    env["SSL_CERT_FILE"] = ca_file  # the Action reads the environment it is given
    monkeypatch.chdir(runner.workspace)
    out, err = io.StringIO(), io.StringIO()
    code = run_action(env, out, err)
    assert "range: 1 commit" in out.getvalue(), out.getvalue() + err.getvalue()
    assert sorted(s.host for s in server.plan.seen) == ["api.anthropic.com", "api.openai.com"]
    assert parse_outputs(output.read_text())["critical"] == "1" and code == 1
    sarif = json.loads((runner.workspace / "keysweep.sarif").read_text())["runs"][0]["results"]
    assert [r["properties"]["keysweep/verification"]["status"] for r in sarif] == ["live", "live"]


def test_the_watchdog_sees_the_run_alive_while_the_requests_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """A budget may be longer than the stall limit (KEYSWEEP_STALL_SECONDS): the verifier beats
    the watchdog's heart every second while the requests run, so a slow provider is no stall."""
    from scanner import watchdog
    from scanner.verify import Candidate
    from scanner.verify import step as step_mod

    beats: list[float] = []
    monkeypatch.setattr(watchdog, "beat", lambda: beats.append(time.monotonic()))

    def slow(todo: Any, settings: VerifySettings) -> dict[str, Any]:
        time.sleep(2.5)
        return {c.digest: None for c in todo}

    monkeypatch.setattr(step_mod, "verify", slow)
    verifier = step_mod.Verifier(VerifySettings())
    verifier.check([Candidate("d" * 64, "x", "openai.project-key")])
    assert len(beats) >= 3  # two during the wait, one at its end
    assert verifier.check([Candidate("d" * 64, "x", "openai.project-key")]) == {"d" * 64: None}
    assert len(beats) < 5  # answered from memory: no second wait
