"""AWS key IDs verified with their paired secret access key (issue 25: STS GetCallerIdentity,
signed with the pair; a key ID alone is never verified).

A real repository holds each form a pair is written in; `keysweep scan --verify` runs against
the loopback HTTPS server of tests/verify_server.py, which recomputes every SigV4 signature with
the secret it was told belongs to the key ID (SignatureDoesNotMatch otherwise, as STS says).
No test reaches the internet: the endpoint override is the test-only settings hook."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import trustme

from scanner import cli
from scanner.rules.verifiers import OFFICIAL_HOSTS
from scanner.verify import VerifySettings
from tests.keys import leak_windows, make_key, matcher
from tests.repo_builder import RepoBuilder
from tests.verify_server import Endpoint, ca_bundle, credential, https_server

HOSTS = sorted({h for hosts in OFFICIAL_HOSTS.values() for h in hosts})
STS = ("sts.amazonaws.com", "/")


def key_id(seed: int) -> str:
    return make_key("aws.access-key-id", seed, example=0)  # AKIA: a long-term key


def secret(seed: int) -> str:
    return make_key("aws.secret-access-key", seed)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


# every form a pair is written in: path -> text, from the pair's key ID and secret
FORMS = {
    "app/.env": "AWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={s}\nAWS_REGION=eu-west-1\n",
    "home/.aws/credentials": "[default]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n",
    "config/aws.json": '{{"aws": {{"accessKeyId": "{k}", "secretAccessKey": "{s}"}}}}\n',
    "config/aws.yaml": "aws:\n  access_key_id: {k}\n  secret_access_key: {s}\n",
    "app/s3.py": (
        'import boto3\ns3 = boto3.client("s3", aws_access_key_id="{k}",\n    aws_secret_access_key="{s}")\n'
    ),
    "web/aws.js": (
        'const AWS = require("aws-sdk");\n'
        'AWS.config.update(new AWS.Config({{accessKeyId: "{k}", secretAccessKey: "{s}"}}));\n'
    ),
    "cmd/main.go": (
        'import "github.com/aws/aws-sdk-go/aws/credentials"\n\n'
        'creds := credentials.NewStaticCredentials("{k}", "{s}", "")\n'
    ),
    # no AWS secret setting names the secret: the detector's companion value is the pair
    "ops/ci_accessKeys.csv": "Access key ID,Secret access key\n{k},{s}\n",
    "ops/setup.sh": "aws configure set aws_access_key_id {k}\naws configure set aws_secret_access_key {s}\n",
    # a 40-character value no setting calls a secret sits nearer the ID: the named secret wins
    "app/settings.env": "AWS_ACCESS_KEY_ID={k}\nAWS_SESSION_LABEL={other}\nAWS_SECRET_ACCESS_KEY={s}\n",
}
TWO, REVOKED, WRONG, LONE, SHARED = 40, 41, 42, 43, 10  # seeds of the special cases


@dataclass
class Planted:
    repo: Path
    ids: dict[str, str]  # path -> key ID
    secrets: list[str]  # every secret access key planted


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def server(ca: trustme.CA) -> Iterator[Endpoint]:
    with https_server(ca) as endpoint:
        yield endpoint


@pytest.fixture
def planted(tmp_path: Path) -> Planted:
    files: dict[str, bytes] = {}
    ids: dict[str, str] = {}
    for n, (path, form) in enumerate(FORMS.items(), start=SHARED):
        ids[path] = key_id(n)
        files[path] = form.format(k=key_id(n), s=secret(n), other=secret(n + 200)).encode()
    # the first pair again in another file: still one request
    files["deploy/prod.env"] = FORMS["app/.env"].format(k=key_id(SHARED), s=secret(SHARED)).encode()
    # one key ID, two secrets beside it: the nearest (after it) is its pair, the far one is not
    files["two/.env"] = (
        f"AWS_SECRET_ACCESS_KEY={secret(TWO + 100)}\n# the current key\n"
        f"AWS_ACCESS_KEY_ID={key_id(TWO)}\nAWS_SECRET_ACCESS_KEY={secret(TWO)}\n"
    ).encode()
    files["old/.env"] = FORMS["app/.env"].format(k=key_id(REVOKED), s=secret(REVOKED)).encode()
    files["wrong/.env"] = FORMS["app/.env"].format(k=key_id(WRONG), s=secret(WRONG)).encode()
    files["logs/access.log"] = f"GET /bucket/object?X-Amz-Credential={key_id(LONE)}%2F20250101 200\n".encode()
    ids.update({"two/.env": key_id(TWO), "old/.env": key_id(REVOKED), "wrong/.env": key_id(WRONG)})
    ids["logs/access.log"] = key_id(LONE)
    b = RepoBuilder(tmp_path / "repo")
    b.commit(files)
    seeds = [*range(SHARED, SHARED + len(FORMS)), TWO, TWO + 100, REVOKED, WRONG]
    return Planted(b.path, ids, [secret(n) for n in seeds])


def _point_at(monkeypatch: pytest.MonkeyPatch, netloc: str, ca_file: str) -> None:
    """The test-only hook: the entry point's settings, with every verifier host sent to `netloc`."""
    real = VerifySettings.from_env

    def from_env(env: Any, **given: Any) -> VerifySettings:
        return replace(real(env, **given), endpoints=dict.fromkeys(HOSTS, netloc))

    monkeypatch.setattr(VerifySettings, "from_env", staticmethod(from_env))
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def _scan(repo: Path, out: Path, *extra: str) -> dict[str, Any]:
    """The JSON report of a scan, with the exit code under `exit`."""
    out.mkdir(exist_ok=True)
    args = ["scan", str(repo), "--jobs", "1", "--json", str(out / "r.json"), "--sarif", str(out / "r.sarif")]
    args += ["--summary", str(out / "r.md"), "--state", str(out / "r.state"), "--html", str(out / "r.html")]
    code = cli.main([*args, *extra])
    doc: dict[str, Any] = json.loads((out / "r.json").read_text())
    return {**doc, "exit": code}


def test_each_key_id_is_checked_once_signed_with_the_secret_beside_it(
    planted: Planted,
    server: Endpoint,
    ca: trustme.CA,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _point_at(monkeypatch, server.netloc, ca_bundle(ca, tmp_path))
    plan = server.plan
    for n in [*range(SHARED, SHARED + len(FORMS)), TWO, REVOKED]:
        plan.aws_secrets[key_id(n)] = secret(n)
    plan.aws_secrets[key_id(WRONG)] = secret(WRONG + 100)  # what was committed is not its secret
    plan.scenarios[key_id(REVOKED)] = "revoked"  # deleted: STS says InvalidClientTokenId

    cache = tmp_path / "cache"
    cache.mkdir()
    doc = _scan(planted.repo, tmp_path / "out", "--verify", "--cache", str(cache))
    console = capsys.readouterr()
    answers = {f["secret_sha256"]: f["verification"] for f in doc["findings"] if f.get("secret_sha256")}

    # every form: live, one request, Credential = that key ID, signed with its own secret
    aws = [s for s in plan.seen if (s.host, s.path) == STS]
    assert all(s.signature_valid is not None for s in aws)
    signed = Counter(credential(s.headers) for s in aws)
    pairs = [planted.ids[p] for p in FORMS] + [key_id(n) for n in (TWO, REVOKED, WRONG)]
    assert signed == Counter(pairs)  # one per distinct pair: prod.env's copy asks nothing more
    valid = {credential(s.headers): s.signature_valid for s in aws}
    assert valid == {**dict.fromkeys(pairs, True), key_id(WRONG): False}
    for s in aws:
        assert s.body == b"Action=GetCallerIdentity&Version=2011-06-15" and s.method == "POST"
        assert "/us-east-1/sts/aws4_request" in s.headers["authorization"]
    for path in FORMS:
        got = answers[digest(planted.ids[path])]
        assert got["status"] == "live" and got["http_status"] == 200, (path, got)
    for n, path in enumerate(FORMS, start=SHARED):  # the pair's secret: the same answer, says why
        if path.startswith("ops/"):  # the CSV's and the CLI's secret are no finding of their own
            assert digest(secret(n)) not in answers
            continue
        got = answers[digest(secret(n))]
        assert got["status"] == "live" and got["reason"].startswith("paired with the access key ID"), path

    # two secrets beside one key ID: the nearest was its pair, and the answer says so
    two = answers[digest(key_id(TWO))]
    assert two["status"] == "live" and "the nearest of the 2 secret access keys beside it" in two["reason"]
    far = answers[digest(secret(TWO + 100))]
    assert far["status"] == "unknown" and "access key ID" in far["reason"]

    # revoked: the key ID is invalid, and so is the secret that was its pair
    assert answers[digest(key_id(REVOKED))]["status"] == "revoked"
    assert answers[digest(secret(REVOKED))]["status"] == "revoked"
    # a signature mismatch: the secret is not that key ID's; unknown, with the reason, not revoked
    wrong = answers[digest(key_id(WRONG))]
    assert wrong == {
        "status": "unknown",
        "reason": "the key ID exists, but the secret beside it is not its secret",
        "http_status": 403,
        "checked_at": wrong["checked_at"],
    }
    assert answers[digest(secret(WRONG))]["status"] == "unknown"

    # a key ID alone: never sent anywhere, unknown, says why
    lone = answers[digest(key_id(LONE))]
    assert lone["status"] == "unknown" and lone["reason"].startswith("a key ID alone is never verified")
    assert all(key_id(LONE) not in json.dumps(s.headers) for s in plan.seen)

    # no secret access key anywhere: JSON, SARIF, summary, HTML, state, console, cache
    outputs = {p.name: p.read_bytes().decode("latin-1") for p in (tmp_path / "out").iterdir()}
    outputs |= {f"cache/{p.name}": p.read_bytes().decode("latin-1") for p in cache.rglob("*") if p.is_file()}
    outputs |= {"stdout": console.out, "stderr": console.err}
    assert any(name.startswith("cache/") for name in outputs)  # the cache was written
    for name, text in outputs.items():
        windows = {text[i : i + 8] for i in range(len(text) - 7)}
        for value in planted.secrets:
            assert not leak_windows(value, 0) & windows, (name, "a secret access key leaked")
    assert all(value not in json.dumps(s.headers) + s.body.decode() for s in aws for value in planted.secrets)


def test_the_detector_keeps_the_nearest_companion_in_memory_only() -> None:
    k, near, far = key_id(1), secret(1), secret(2)
    # stacked blocks: the block above's secret is fewer bytes away, but a line further
    text = f"AWS_SECRET_ACCESS_KEY={far}\nAWS_ACCESS_KEY_ID={k}\nAWS_SECRET_ACCESS_KEY={near}\n"
    (m,) = [m for m in matcher().scan(text.encode()) if m.rule_id == "aws.access-key-id"]
    assert m.pair == near and m.alone is None
    text = f"AWS_SECRET_ACCESS_KEY={far}\nAWS_ACCESS_KEY_ID={k}\n\n\nAWS_SECRET_ACCESS_KEY={near}\n"
    (m,) = [m for m in matcher().scan(text.encode()) if m.rule_id == "aws.access-key-id"]
    assert m.pair == far  # fewer lines between wins
    assert near not in repr(m) and far not in repr(m)
    # equal distance either side: the one after the key ID (an ID is written before its secret)
    even = f"{far} {k} {near}"
    (m,) = [m for m in matcher().scan(even.encode()) if m.rule_id == "aws.access-key-id"]
    assert m.pair == near
    # a Kubernetes Secret: each value is its own base64 layer, the pair is the next one
    b64 = [base64.b64encode(v.encode()).decode() for v in (k, near)]
    kube = f"apiVersion: v1\nkind: Secret\ntype: Opaque\ndata:\n  ID: {b64[0]}\n  KEY: {b64[1]}\n"
    (m,) = [m for m in matcher().scan(kube.encode()) if m.rule_id == "aws.access-key-id"]
    assert m.pair == near and m.alone is None
    (alone,) = matcher().scan(f"arn and {k} in a log line\n".encode())
    assert alone.pair is None and alone.alone is not None


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()  # nothing listens there now: every connection is refused
    return port


@pytest.mark.parametrize("network", ["local-server", "none"])
def test_fifty_keys_with_aws_pairs_within_the_budget(
    network: str, server: Endpoint, ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """50 distinct keys — 10 AWS pairs (20 keys, 10 signed requests) and 30 keys of the other
    verifiable providers (30 requests) — scanned with --verify: against the local server every
    one is answered; with no network (HTTPS_PROXY at a closed port) every one is unknown, the
    exit code and the findings are unchanged, and the run ends well within the budget."""
    from scanner.rules import load_verifiers
    from tests.keys import rule

    others = sorted(r for r in load_verifiers() if not r.startswith("aws"))
    files: dict[str, bytes] = {}
    keys: list[str] = []
    for n in range(10):
        k, s = key_id(500 + n), secret(500 + n)
        files[f"svc{n}/.env"] = FORMS["app/.env"].format(k=k, s=s).encode()
        server.plan.aws_secrets[k] = s
        keys += [k, s]
    for n in range(30):
        rid = others[n % len(others)]
        key = make_key(rid, 600 + n)
        files[f"keys/{n}.env"] = f"{rule(rid).example_name}={key}\n".encode()
        keys.append(key)
    assert len(set(keys)) == 50
    b = RepoBuilder(tmp_path / "repo")
    b.commit(files)
    _point_at(
        monkeypatch,
        server.netloc if network == "local-server" else f"127.0.0.1:{_closed_port()}",
        ca_bundle(ca, tmp_path),
    )
    if network == "none":
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{_closed_port()}")
    off = _scan(b.path, tmp_path / "off")
    t0 = time.monotonic()
    doc = _scan(b.path, tmp_path / "on", "--verify")
    took = time.monotonic() - t0
    print(
        f"\n50 keys, {network}: scan --verify took {took:.2f} s (the scan alone: {off['stats']['seconds']} s)"
    )
    answers = {f["secret_sha256"]: f["verification"] for f in doc["findings"]}
    assert set(answers) == {digest(k) for k in keys}
    if network == "local-server":
        assert {a["status"] for a in answers.values()} == {"live"}, answers
        aws = [s for s in server.plan.seen if (s.host, s.path) == STS]
        assert len(server.plan.seen) == 40 and len(aws) == 10 and all(s.signature_valid for s in aws)
        assert took < 15, took
        return
    assert server.plan.seen == []
    assert {a["status"] for a in answers.values()} == {"unknown"}
    assert {a["reason"] for a in answers.values()} == {
        "proxy unreachable",
        "paired with the access key ID beside it: proxy unreachable",
    }
    for f in doc["findings"]:
        f.pop("verification")
    assert doc["findings"] == off["findings"] and doc["exit"] == off["exit"] == 1
    assert took < 30, took  # the default budget; refused connections end far sooner
