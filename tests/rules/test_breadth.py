"""Issue 22 (breadth): what the new rules' example matrix cannot say by itself.

Public and test-mode forms stay silent (a provider's publishable key, its CLI's fixed local key,
a documentation placeholder), URL forms of a token are found, and structural checks reject values
that only look right. Keys are built at run time; nothing key-shaped is stored here.
"""

from __future__ import annotations

import random

import pytest

from scanner.rules.templates import expand
from tests.keys import found

ENGINES = ("hyperscan", "python")


def key(template: str, seed: int = 0) -> str:
    return expand(template, random.Random(f"breadth:{template}:{seed}"))


@pytest.mark.parametrize("engine", ENGINES)
def test_supabase_publishable_and_cli_local_keys_are_silent(engine: str) -> None:
    publishable = key("sb_publishable_{b64url:22}_{alnum:8}")
    local = "sb_" + "secret_" + "N7UND0UgjKTVK" + "-Uodkm0Hg" + "_xSvEMPvz"  # `supabase status`, local stack
    text = f"SUPABASE_PUBLISHABLE_KEY={publishable}\nSUPABASE_SECRET_KEY={local}\n"
    assert found(engine, text) == []
    # a project's own secret key beside them is reported
    real = key("sb_secret_{b64url:22}_{alnum:8}")
    assert found(engine, text + f"SUPABASE_SECRET_KEY_2={real}\n") == [("supabase.secret-key", real)]


@pytest.mark.parametrize("engine", ENGINES)
def test_telegram_token_in_a_bot_api_url(engine: str) -> None:
    token = key("{digits:10}:AA{b64url:33}")
    text = f'requests.post("https://api.telegram.org/bot{token}/sendMessage", json=payload)\n'
    assert found(engine, text) == [("telegram.bot-token", token)]
    # glued to other digits or letters it is some other identifier
    assert found(engine, f"id = x{token}\n") == []


@pytest.mark.parametrize("engine", ENGINES)
def test_discord_bot_token_needs_a_snowflake(engine: str) -> None:
    good = key("{discord_bot}")
    assert found(engine, f"DISCORD_BOT_TOKEN={good}\n") == [("discord.bot-token", good)]
    _head, rest = good.split(".", 1)
    not_digits = "N" + key("{alnum:23}") + "." + rest  # decodes, but not to a user id
    assert found(engine, f"DISCORD_BOT_TOKEN={not_digits}\n") == []
    # without a Discord name the shape alone is not enough: a credential slot at most, never Discord's
    assert [r for r, _ in found(engine, f"TOKEN={good}\n")] == ["generic.credential"]


@pytest.mark.parametrize("engine", ENGINES)
def test_discord_bot_token_in_a_bot_that_imports_discord(engine: str) -> None:
    good = key("{discord_bot}", 1)
    text = f'import discord\n\nclient = discord.Client(intents=discord.Intents.default())\ntoken = "{good}"\nclient.run(token)\n'
    assert found(engine, text) == [("discord.bot-token", good)]
    other = text.replace("import discord", "import logging").replace("discord.", "lib.")
    assert [r for r, _ in found(engine, other)] == ["generic.credential"]  # a token slot, not Discord's


@pytest.mark.parametrize("engine", ENGINES)
def test_mapbox_public_token_is_silent_and_the_secret_one_found(engine: str) -> None:
    public, secret = key("{mapbox_pk}"), key("{mapbox_sk}")
    text = f'mapboxgl.accessToken = "{public}";\nMAPBOX_DOWNLOADS_TOKEN={secret}\n'
    assert found(engine, text) == [("mapbox.secret-token", secret)]


@pytest.mark.parametrize("engine", ENGINES)
def test_offline_checks_reject_one_character_off(engine: str) -> None:
    """Grafana's CRC-32 and age's bech32 checksum: a key with one character changed is not a key."""
    for template, rule_id in (
        ("{grafana_sa}", "grafana.service-account-token"),
        ("{age_secret}", "age.secret-key"),
    ):
        good = key(template, 5)
        bad = good[:20] + ("Q" if good[20] != "Q" else "P") + good[21:]
        assert found(engine, f"K={good}\n") == [(rule_id, good)]
        assert found(engine, f"K={bad}\n") == []


@pytest.mark.parametrize("engine", ENGINES)
def test_azurite_development_key_is_silent(engine: str) -> None:
    azurite = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq" + "/K1SZFPTOtr/KBHBeksoGMGw=="
    conn = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={};BlobEndpoint=http://127.0.0.1:10000/"
    assert found(engine, f'AZURE_STORAGE_CONNECTION_STRING="{conn.format(azurite)}"\n') == []
    real = key("{b64:86}==")
    assert found(engine, f'AZURE_STORAGE_CONNECTION_STRING="{conn.format(real)}"\n') == [
        ("azure.storage-account-key", real)
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_salesforce_session_needs_salesforce_evidence(engine: str) -> None:
    token = key("00D{alnum:15}!AQ{b64url:94}")
    assert found(engine, f"TOKEN={token}\n") == []
    assert found(
        engine,
        f'curl https://acme.my.salesforce.com/services/data/v60.0 -H "Authorization: Bearer {token}"\n',
    ) == [("salesforce.access-token", token)]


@pytest.mark.parametrize("engine", ENGINES)
def test_pgp_armor_without_its_optional_checksum_line(engine: str) -> None:
    """RFC 9580 makes the `=XXXX` CRC-24 line optional: without it the packet check still decides."""
    armored = key("{pgp_private}")
    lines = armored.split("\n")
    without_crc = "\n".join(ln for ln in lines if not (len(ln) == 5 and ln.startswith("=")))
    assert [r for r, _ in found(engine, without_crc + "\n")] == ["private-key.pgp"]
    # a public key block of the same armor is not a secret
    public = without_crc.replace("PRIVATE", "PUBLIC")
    assert found(engine, public + "\n") == []


@pytest.mark.parametrize("engine", ENGINES)
def test_planetscale_password_in_a_url_is_reported_once(engine: str) -> None:
    """In mysql://user:pscale_pw_…@host the database URL rule reports the whole URL; the password
    rule does not report the same password a second time."""
    pw = key("pscale_pw_{alnum:43}")
    url = f"mysql://{key('{lowernum:20}')}:{pw}@aws.connect.psdb.cloud/shop"
    assert [r for r, _ in found(engine, f'DATABASE_URL="{url}"\n')] == ["database.connection-url"]
    assert found(engine, f'DATABASE_PASSWORD="{pw}"\n') == [("planetscale.password", pw)]


@pytest.mark.parametrize("engine", ("hyperscan", "python"))
def test_an_anythingllm_key_under_its_name_and_not_elsewhere(engine: str) -> None:
    """AnythingLLM's keys are four dash-joined groups of seven (uuid-apikey): named only under an
    AnythingLLM name, in any casing (a public AI-chatbot history wrote `AnythingLLM_API_Key=`);
    the same shape under another name is a licence or product key, not AnythingLLM's."""
    value = expand("{uppernum:7}-{uppernum:7}-{uppernum:7}-{uppernum:7}", random.Random("anythingllm"))
    for text in (f"AnythingLLM_API_Key={value}\n", f'ANYTHING_LLM_API_KEY="{value}"\n'):
        assert [(r, s) for r, s in found(engine, text)] == [("anythingllm.api-key", value)], text
    assert [r for r, _ in found(engine, f"LICENSE_KEY={value}\n")] != ["anythingllm.api-key"]
