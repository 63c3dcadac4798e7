"""Key generators, variable names and decoys for the rules of issue 22 (breadth).

Kept apart from build.py so that each provider added is one entry here: a generator for formats
that are not "prefix + random alphabet", the variable a keyword-gated key is written under, and
the public forms, documented placeholders and same-shaped IDs that must yield nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Protocol

from scanner.rules.templates import expand


class _Format(Protocol):
    prefix: str
    rule_id: str
    length: str


Gen = Callable[[_Format, random.Random], str]


def _t(template: str) -> Gen:
    return lambda fmt, r: expand(template, r)


def _telegram(fmt: _Format, r: random.Random) -> str:
    digits = int(fmt.length) - 36  # the bot id before `:AA` + 33
    return expand(f"{{digits:{digits}}}:AA{{b64url:33}}", r)


STRUCTURED: dict[str, Gen] = {
    "supabase.secret-key": _t("sb_secret_{b64url:22}_{alnum:8}"),
    "airtable.personal-access-token": _t("pat{alnum:14}.{hex:64}"),
    "slack.incoming-webhook": _t("https://hooks.slack.com/services/T{uppernum:10}/B{uppernum:10}/{alnum:24}"),
    "discord.bot-token": _t("{discord_bot}"),
    "discord.webhook-url": _t("https://discord.com/api/webhooks/1{digits:18}/{b64url:68}"),
    "telegram.bot-token": _telegram,
}

VARS: dict[str, str] = {
    "supabase.secret-key": "SUPABASE_SECRET_KEY",
    "supabase.management-token": "SUPABASE_ACCESS_TOKEN",
    "airtable": "AIRTABLE_API_KEY",
    "slack.incoming-webhook": "SLACK_WEBHOOK_URL",
    "discord.bot-token": "DISCORD_BOT_TOKEN",
    "discord.webhook-url": "DISCORD_WEBHOOK_URL",
    "telegram": "TELEGRAM_BOT_TOKEN",
}

NEEDS_KEYWORD: set[str] = set()


def decoys(r: random.Random) -> dict[str, list[str]]:
    """Public keys of the same providers, their documentation's placeholders and look-alike IDs."""
    x = "x"
    supabase_local = "sb_" + "secret_" + "N7UND0UgjKTVK" + "-Uodkm0Hg" + "_xSvEMPvz"  # `supabase status`
    env = [
        "# integrations: copy to .env and fill in",
        f"NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY={expand('sb_publishable_{b64url:22}_{alnum:8}', r)}",
        "SUPABASE_SECRET_KEY=sb_secret_...",
        "SUPABASE_SECRET_KEY=sb_secret_your_key_here",
        f"SUPABASE_ACCESS_TOKEN=sbp_{x * 40}",
        "AIRTABLE_API_KEY=patXXXXXXXXXXXXXX.XXXXXXXX",
        f"AIRTABLE_BASE_ID={expand('app{alnum:14}', r)}",
        f"AIRTABLE_TABLE_ID={expand('tbl{alnum:14}', r)}",
        "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/T00000000/B00000000/" + "X" * 24,
        "DISCORD_BOT_TOKEN=your-bot-token-here",
        "DISCORD_WEBHOOK_URL=https://discord.com/api/webhooks/{id}/{token}",
        f"DISCORD_APPLICATION_ID={expand('1{digits:18}', r)}",
        "TELEGRAM_BOT_TOKEN=123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11",
        f"TELEGRAM_CHAT_ID=-100{expand('{digits:10}', r)}",
        "",
    ]
    local = [
        "# `supabase status` on the local stack (public development keys)",
        "API_URL=http://127.0.0.1:54321",
        f"SECRET_KEY={supabase_local}",
        "",
    ]
    return {"config/integrations.env.example": env, "supabase/status.local.env": local}
