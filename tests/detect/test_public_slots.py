"""Credential slots that hold no secret of this project (issue 20 "Done means", the holdout noise).

An Algolia search-only key beside its app id and index name is public by design (low, with the
reason); a client-side analytics write key (RudderStack, Segment) is not a credential slot at all;
a shipped default that its own comment says to replace is low, with the reason. Both engines,
values built at run time from templates with a seeded RNG.
"""

from __future__ import annotations

import random

import pytest

from scanner.detect.engine import Matcher
from scanner.detect.filters import SAID_DEFAULT
from scanner.findings import Hit, build_findings
from scanner.model import Exposure, Location, Position, Severity, SourceKind
from scanner.rules.templates import expand
from tests.keys import make_key, matcher, rule, rules

ENGINES = ("hyperscan", "python")
SLOT = "generic.credential"
ALGOLIA_REASON = rule(SLOT).public_reason


def _findings(text: str, m: Matcher) -> list[tuple[str, Severity, str | None]]:
    loc = Location(SourceKind.DIRECTORY, "f", Position(1, 1, 1, 2, 0))
    hits = [Hit(x, loc, Exposure.REPOSITORY) for x in m.scan(text.encode())]
    by_id = {r.id: r for r in rules()}
    return [(f.rule_id, f.severity, f.severity_reason) for f in build_findings(hits, by_id)]


def _v(template: str, seed: str) -> str:
    return expand(template, random.Random(seed))


# --- Algolia DocSearch ---------------------------------------------------------------------------


def _algolia(kind: str, key: str) -> str:
    app = _v("{upper:1}{digits:1}{upper:8}", "app")
    return {
        "docusaurus": (
            "  themeConfig: {\n    algolia: {\n"
            f"      appId: '{app}',\n      apiKey: '{key}', // public API key\n"
            "      indexName: 'reworkd',\n      contextualSearch: true,\n    },\n  },\n"
        ),
        "docsearch": f'docsearch({{ appId: "{app}", apiKey: "{key}", indexName: "docs", container: "#s" }});\n',
        "jekyll": (f"algolia:\n  application_id: {app}\n  index_name: site\n  search_only_api_key: {key}\n"),
        "env": f"NEXT_ALGOLIA_APP_ID={app}\nALGOLIA_SEARCH_API_KEY={key}\nALGOLIA_INDEX_NAME=docs\n",
    }[kind]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", ["docusaurus", "docsearch", "jekyll", "env"])
def test_an_algolia_search_key_beside_its_app_and_index_is_public(kind: str, engine: str) -> None:
    key = _v("{hex:32}", f"algolia:{kind}")
    got = _findings(_algolia(kind, key), matcher(engine))
    assert got == [(SLOT, Severity.LOW, ALGOLIA_REASON)], got
    assert "search-only" in ALGOLIA_REASON and "admin" in ALGOLIA_REASON


@pytest.mark.parametrize("engine", ENGINES)
def test_an_algolia_admin_key_or_a_key_without_its_config_stays(engine: str) -> None:
    key = _v("{hex:32}", "admin")
    app = _v("{upper:10}", "app2")
    texts = [
        # an indexing script's admin key beside the same app id and index name
        f'ALGOLIA_APP_ID = "{app}"\nALGOLIA_API_KEY = "{key}"\nALGOLIA_INDEX_NAME = "docs"\n',
        f"const c = {{ appId: '{app}', adminApiKey: '{key}', indexName: 'docs' }};\n",
        # an apiKey with an app id but no index: any service's
        f"const c = {{ appId: '{app}', apiKey: '{key}' }};\n",
    ]
    for text in texts:
        got = _findings(text, matcher(engine))
        assert got == [(SLOT, Severity.HIGH, None)], (text, got)


# --- analytics write keys --------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_an_analytics_write_key_is_no_credential_slot(engine: str) -> None:
    wk = _v("{digits:1}{alnum:26}", "write")
    for text in (
        f'    rudder_analytics.write_key = "{wk}"\n    rudder_analytics.dataPlaneUrl = "https://x.dataplane.rudderstack.com"\n',
        f"analytics.load({{ writeKey: '{wk}' }});\n",
        f"SEGMENT_WRITE_KEY={wk}\n",
        f"RUDDERSTACK_WRITE_KEY: {wk}\n",
        f'write_key = "{wk}"\n',
    ):
        assert _findings(text, matcher(engine)) == [], text
    # a write token of a store (Vercel Blob) or a bare upper-case WRITE_KEY is still a credential
    for text in (f"BLOB_READ_WRITE_TOKEN={wk}\n", f"WRITE_KEY={wk}\n", f"INFLUX_WRITE_KEY={wk}\n"):
        assert [f[0] for f in _findings(text, matcher(engine))] == [SLOT], text


# --- a default the code says to replace -----------------------------------------------------------


def _signing(seed: str) -> str:
    return _v("{b64url:43}=", seed)


SAYS_REPLACE = [
    "    # Make sure you update this with your own secret key\n    # Must be 32 url-safe base64-encoded bytes\n"
    '    secret_signing_key: str = "{v}"\n',
    'SECRET_KEY = "{v}"  # change this in production\n',
    "  sessionSecret: '{v}', // default: override it with SESSION_SECRET\n",
    "# replace before deploying to production\nJWT_SECRET={v}\n",
]
SAYS_NOTHING = [
    # "replace with your key" is what people write beside a real key they paste
    'SERPER_API_KEY = "{v}"  # replace with your key\n',
    # a blank line: the comment is about something else
    "# change this in production\n\nJWT_SECRET={v}\n",
    # too far above: four comment lines
    "# change this in production\n# a\n# b\n# c\nJWT_SECRET={v}\n",
    # the next line's comment is about the next value
    'JWT_SECRET = "{v}"\n# change this in production\nOTHER = 1\n',
]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_default_the_code_says_to_replace_is_low_and_says_why(engine: str) -> None:
    for k, text in enumerate(SAYS_REPLACE):
        got = _findings(text.format(v=_signing(f"d{k}")), matcher(engine))
        assert got == [(SLOT, Severity.LOW, SAID_DEFAULT)], (text, got)
    for k, text in enumerate(SAYS_NOTHING):
        got = _findings(text.format(v=_signing(f"n{k}")), matcher(engine))
        assert got == [(SLOT, Severity.HIGH, None)], (text, got)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_provider_key_beside_a_replace_comment_keeps_its_severity(engine: str) -> None:
    """Only the credential-slot detector reads the comment: a key of a known format is real
    whatever the code says about replacing it."""
    key = make_key("anthropic.api-key", seed=5)
    got = _findings(f'ANTHROPIC_API_KEY = "{key}"  # change this in production\n', matcher(engine))
    assert got == [("anthropic.api-key", rule("anthropic.api-key").severity, None)]
