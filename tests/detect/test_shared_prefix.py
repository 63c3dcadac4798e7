"""Prefixes that two providers share (Stripe's and Clerk's `sk_live_` / `sk_test_`): the code
around the key says whose it is, in every form a project writes it; with nothing there the key
stays Stripe's and the match names Clerk's rule too, never a silent guess. Keys are built at run
time from the rules' templates."""

from __future__ import annotations

import random

import pytest

from scanner.detect.engine import Matcher
from scanner.model import Match
from scanner.rules.templates import expand
from tests.keys import rules

ENGINES = ("hyperscan", "python")
STRIPE, CLERK = "stripe.secret-key", "clerk.secret-key"


@pytest.fixture(scope="module")
def matchers() -> dict[str, Matcher]:
    return {e: Matcher(rules(), e) for e in ENGINES}


def _key(seed: str, mode: str = "live", body: int = 42) -> str:
    return expand(f"sk_{mode}_{{alnum:{body}}}", random.Random(seed))


def _one(m: Matcher, text: str) -> Match:
    found = m.scan(text.encode())
    assert len(found) == 1, [(x.rule_id, x.also_matched) for x in found]
    return found[0]


def clerk_forms(key: str) -> dict[str, str]:
    return {
        "env": f"CLERK_SECRET_KEY={key}\n",
        "env-quoted": f'CLERK_SECRET_KEY="{key}"\n',
        "next-config": f'module.exports = {{ env: {{ CLERK_SECRET_KEY: "{key}" }} }};\n',
        "ts-options": (
            "import { createClerkClient } from '@clerk/backend';\n"
            f"const clerk = createClerkClient({{ secretKey: '{key}' }});\n"
        ),
        "ts-import-only": (
            "import { clerkMiddleware } from '@clerk/nextjs/server';\n"
            f"const secretKey = '{key}';\nexport default clerkMiddleware({{ secretKey }});\n"
        ),
        "py-call": f'from clerk_backend_api import Clerk\nsdk = Clerk(bearer_auth="{key}")\n',
        "go-call": f'import "github.com/clerk/clerk-sdk-go/v2"\n\nfunc init() {{ clerk.SetKey("{key}") }}\n',
        "curl-host": f'curl https://api.clerk.com/v1/users -H "Authorization: Bearer {key}"\n',
        "yaml": f"auth:\n  clerk:\n    secret_key: {key}\n",
    }


def stripe_forms(key: str) -> dict[str, str]:
    return {
        "env": f"STRIPE_SECRET_KEY={key}\n",
        "ts-new": f"import Stripe from 'stripe';\nconst stripe = new Stripe('{key}');\n",
        "js-require": f"const stripe = require('stripe')('{key}');\n",
        "py-module": f'import stripe\nstripe.api_key = "{key}"\n',
        "go-import": (
            f'import "github.com/stripe/stripe-go/v76"\n\nfunc init() {{ stripe.Key = "{key}" }}\n'
        ),
        "curl-host": f"curl https://api.stripe.com/v1/charges -u {key}:\n",
        "yaml": f"payments:\n  stripe:\n    secret_key: {key}\n",
    }


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("form", sorted(clerk_forms("x")))
def test_a_clerk_key_is_clerks_where_the_code_says_clerk(
    form: str, engine: str, matchers: dict[str, Matcher]
) -> None:
    for mode in ("live", "test"):
        key = _key(f"clerk {form} {mode}", mode)
        m = _one(matchers[engine], clerk_forms(key)[form])
        assert (m.rule_id, m.secret, m.also_matched) == (CLERK, key, ())  # evidence decided


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("form", sorted(stripe_forms("x")))
def test_a_stripe_key_is_stripes_where_the_code_says_stripe(
    form: str, engine: str, matchers: dict[str, Matcher]
) -> None:
    for mode, body in (("live", 24), ("test", 99), ("live", 42)):
        key = _key(f"stripe {form} {mode} {body}", mode, body)
        m = _one(matchers[engine], stripe_forms(key)[form])
        assert (m.rule_id, m.secret, m.also_matched) == (STRIPE, key, ())


@pytest.mark.parametrize("engine", ENGINES)
def test_side_by_side_each_name_decides(engine: str, matchers: dict[str, Matcher]) -> None:
    """A SaaS app's .env holds both: each key is its own name's, though both names are near."""
    clerk, stripe = _key("side clerk"), _key("side stripe")
    for text in (
        f"CLERK_SECRET_KEY={clerk}\nSTRIPE_SECRET_KEY={stripe}\n",
        f"STRIPE_SECRET_KEY={stripe}\nCLERK_SECRET_KEY={clerk}\n",
        f'{{"clerkSecretKey": "{clerk}", "stripeSecretKey": "{stripe}"}}',
    ):
        found = {m.secret: m.rule_id for m in matchers[engine].scan(text.encode())}
        assert found == {clerk: CLERK, stripe: STRIPE}, text[:20]


@pytest.mark.parametrize("engine", ENGINES)
def test_with_nothing_said_the_key_is_stripes_and_names_clerk(
    engine: str, matchers: dict[str, Matcher]
) -> None:
    key = _key("bare")
    for text in (f"SECRET_KEY={key}\n", f'const k = "{key}";\n', f"{key}\n"):
        m = _one(matchers[engine], text)
        assert (m.rule_id, m.also_matched) == (STRIPE, (CLERK,)), text
    prod = _key("prod", "prod")  # sk_prod_ is Stripe's alone: no rival named
    assert _one(matchers[engine], f"SECRET_KEY={prod}\n").also_matched == ()


@pytest.mark.parametrize("engine", ENGINES)
def test_non_credential_names_and_placeholders_stay_silent(engine: str, matchers: dict[str, Matcher]) -> None:
    for text in (
        "CLERK_SECRET_KEY=sk_test_...\n",
        "CLERK_SECRET_KEY=sk_live_your_secret_key_here\n",
        f"CLERK_SECRET_KEY=sk_test_{'x' * 42}\n",
        "STRIPE_SECRET_KEY=sk_test_REPLACE_ME\n",
    ):
        assert matchers[engine].scan(text.encode()) == [], text
