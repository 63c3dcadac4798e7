"""Issue 22, tier 2 (breadth): what the new rules' example matrix cannot say by itself.

Test-mode and sandbox forms stay silent, shapes shared with other providers go to the right rule,
short prefixes need their provider near, and payload checks reject values that only look right.
Keys are built at run time; nothing key-shaped is stored here.
"""

from __future__ import annotations

import base64
import json
import random

import pytest

from scanner.rules.templates import expand
from tests.keys import found

ENGINES = ("hyperscan", "python")


def key(template: str, seed: int = 0) -> str:
    return expand(template, random.Random(f"breadth2:{template}:{seed}"))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("name", "live", "test"),
    [
        ("SHIPPO_API_KEY", "shippo_live_{hex:40}", "shippo_test_{hex:40}"),
        ("DUFFEL_ACCESS_TOKEN", "duffel_live_{b64url:43}", "duffel_test_{b64url:43}"),
        ("EASYPOST_API_KEY", "EZAK{alnum:54}", "EZTK{alnum:54}"),
        ("FLW_SECRET_KEY", "FLWSECK-{hex:32}-X", "FLWSECK_TEST-{hex:32}-X"),
        ("PLAID_ACCESS_TOKEN", "access-production-{uuid4}", "access-sandbox-{uuid4}"),
        (
            "BRAINTREE_ACCESS_TOKEN",
            "access_token$production${lowernum:16}${hex:32}",
            "access_token$sandbox${lowernum:16}${hex:32}",
        ),
    ],
)
def test_live_keys_reported_test_mode_keys_silent(engine: str, name: str, live: str, test: str) -> None:
    assert found(engine, f"{name}={key(test)}\n") == []
    value = key(live)
    assert [s for _, s in found(engine, f"{name}={value}\n")] == [value]


@pytest.mark.parametrize("engine", ENGINES)
def test_fly_macaroons_after_flyv1_are_each_reported(engine: str) -> None:
    first, second = key("fm2_lJPE{b64:300}", 1), key("fm2_lJPE{b64:120}==", 2)
    text = f'FLY_API_TOKEN="FlyV1 {first},{second}"\n'
    assert found(engine, text) == [("fly.macaroon-token", first), ("fly.macaroon-token", second)]


@pytest.mark.parametrize("engine", ENGINES)
def test_qstash_token_needs_its_json_payload(engine: str) -> None:
    good = key("{qstash}")
    assert found(engine, f"QSTASH_TOKEN={good}\n") == [("upstash.qstash-token", good)]
    doc = {"UserID": key("{uuid4}"), "Region": "eu-central-1"}  # a JSON object, but no Password
    other = base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()
    assert other.startswith("eyJVc2VySUQiOi")
    assert found(engine, f"QSTASH_TOKEN={other}\n") == []


@pytest.mark.parametrize("engine", ENGINES)
def test_meta_token_is_not_square_and_needs_meta_near(engine: str) -> None:
    meta = key("EAAG{alnum:180}")
    assert found(engine, f"FACEBOOK_ACCESS_TOKEN={meta}\n") == [("meta.access-token", meta)]
    assert found(engine, f"SESSION={meta}\n") == []
    square = key("EAAA{b64url:60}")
    assert [r for r, _ in found(engine, f"FACEBOOK_ACCESS_TOKEN={square}\n")] == ["square.access-token"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("name", "template", "rule_id"),
    [
        ("TWITTER_BEARER_TOKEN", "AAAAAAAAAAAAAAAAAAAAAM{alnum:20}%3D{alnum:60}", "twitter.bearer-token"),
        ("LAUNCHDARKLY_ACCESS_TOKEN", "api-{uuid4}", "launchdarkly.access-token"),
        ("LAUNCHDARKLY_SDK_KEY", "sdk-{uuid4}", "launchdarkly.sdk-key"),
        ("MAILGUN_API_KEY", "{hex:32}-{hex:8}-{hex:8}", "mailgun.api-key"),
        ("DROPBOX_ACCESS_TOKEN", "sl.u.AF{b64url:400}", "dropbox.access-token"),
    ],
)
def test_short_prefixes_need_their_provider_near(engine: str, name: str, template: str, rule_id: str) -> None:
    value = key(template)
    assert found(engine, f"{name}={value}\n") == [(rule_id, value)]
    assert found(engine, f"REQUEST_ID={value}\n") == []


@pytest.mark.parametrize("engine", ENGINES)
def test_google_oauth_tokens_in_a_token_json(engine: str) -> None:
    refresh, access = key("1//0{b64url:99}"), key("ya29.a0{b64url:150}")
    text = json.dumps(
        {"token": access, "refresh_token": refresh, "client_id": "x.apps.googleusercontent.com"}
    )
    assert sorted(found(engine, text + "\n")) == [
        ("gcp.oauth-access-token", access),
        ("gcp.oauth-refresh-token", refresh),
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_mailchimp_key_needs_its_datacenter_suffix(engine: str) -> None:
    value = key("{hex:32}-us{digits:2}")
    assert found(engine, f"MC_KEY={value}\n") == [("mailchimp.api-key", value)]
    assert found(engine, f"REGION_TAG={key('{hex:32}')}-us-east-1\n") == []


@pytest.mark.parametrize("engine", ENGINES)
def test_cloudinary_url_documentation_placeholder_is_silent(engine: str) -> None:
    assert found(engine, "CLOUDINARY_URL=cloudinary://<api_key>:<api_secret>@<cloud_name>\n") == []
    url = key("cloudinary://{digits:15}:{b64url:27}@{lower:10}")
    assert found(engine, f"CLOUDINARY_URL={url}\n") == [("cloudinary.url", url)]
