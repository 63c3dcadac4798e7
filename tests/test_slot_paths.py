"""Where the credential-slot detector is not reported, and vendored samples (issue 20 item 3).

Real git histories built in code: a credential-sounding name in a lockfile, a translation
catalogue or minified vendor code is another project's text, and a private key in a vendored
package's README is that package's sample (severity low, with the reason). Keys are built at run
time from templates with a seeded RNG.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from scanner.model import Report, Severity
from scanner.rules.templates import expand, pem_block
from scanner.sources.filekinds import VENDORED_DOC, not_own_settings, vendored_doc
from tests.repo_builder import RepoBuilder

Scan = Callable[..., Report]


def _slot(seed: str) -> str:
    return expand("{alnum:14}{digits:2}{alnum:16}", random.Random(seed))


def test_credential_slots_outside_own_settings_are_not_reported(tmp_path: Path, scan: Scan) -> None:
    b = RepoBuilder(tmp_path / "r")
    own = _slot("own")
    b.commit(
        {
            "config/settings.py": f'SERPER_API_KEY = "{own}"\n'.encode(),
            "package-lock.json": f'{{"packages": {{"": {{"authToken": "{_slot("lock")}"}}}}}}\n'.encode(),
            "src/locales/de.json": f'{{"apiKeyHelpText": "x", "auth_token": "{_slot("i18n")}"}}\n'.encode(),
            "static/vendor/lib.min.js": f'var o={{apiKey:"{_slot("min")}"}};\n'.encode(),
            "node_modules/pkg/dist/index.js": f'const t = {{ token: "{_slot("nm")}" }};\n'.encode(),
        }
    )
    report = scan(tmp_path / "r")
    got = sorted((f.rule_id, loc.path) for f in report.findings for loc in f.locations)
    assert got == [("generic.credential", "config/settings.py")]


def test_a_private_key_in_a_vendored_readme_is_low_and_says_why(tmp_path: Path, scan: Scan) -> None:
    pem = pem_block(random.Random("vendored"), "RSA PRIVATE KEY")
    own = pem_block(random.Random("own"), "RSA PRIVATE KEY")
    b = RepoBuilder(tmp_path / "r")
    b.commit(
        {
            "node_modules/jwt-lib/README.md": f"## Usage\n\n```\n{pem}\n```\n".encode(),
            "deploy/key.pem": f"{own}\n".encode(),
        }
    )
    by_path = {f.locations[0].path: f for f in scan(tmp_path / "r").findings}
    vendored, mine = by_path["node_modules/jwt-lib/README.md"], by_path["deploy/key.pem"]
    assert (vendored.severity, vendored.severity_reason) == (Severity.LOW, VENDORED_DOC)
    assert mine.severity is not Severity.LOW and mine.severity_reason is None


def test_path_kinds() -> None:
    for p in (b"yarn.lock", b"web/package-lock.json", b".secrets.baseline", b"app/locales/fr/messages.po",
              b"i18n/en.json", b"public/js/jquery.min.js", b"vendor/lib/x.js"):  # fmt: skip
        assert not_own_settings(p), p
    for p in (b"src/config.ts", b"settings.json", b".env", b"docs/readme.md"):
        assert not not_own_settings(p), p
    assert vendored_doc(b"node_modules/a/README.md") and vendored_doc(b"x/node_modules/@s/b/docs/api.md")
    assert not vendored_doc(b"node_modules/a/index.js") and not vendored_doc(b"README.md")


def test_the_finding_names_the_service_as_its_provider(tmp_path: Path, scan: Scan) -> None:
    b = RepoBuilder(tmp_path / "r")
    b.commit({"config.py": f'SERPER_API_KEY = "{_slot("svc")}"\n'.encode()})
    (finding,) = scan(tmp_path / "r").findings
    assert (finding.rule_id, finding.provider) == ("generic.credential", "serper")


def test_a_weak_slot_value_publishes_no_digest(tmp_path: Path, scan: Scan) -> None:
    """§4: a value under 20 characters (a password) is one finding with no published digest."""
    pw = expand("{alpha:5}{digits:3}!{alpha:3}", random.Random("pw"))
    strong = _slot("digest")
    b = RepoBuilder(tmp_path / "r")
    b.commit({"settings.py": f'DB_PASSWORD = "{pw}"\nSERPER_API_KEY = "{strong}"\n'.encode()})
    by_name = {f.locations[0].context: f for f in scan(tmp_path / "r").findings}
    assert by_name["DB_PASSWORD = …"].secret_sha256 is None
    assert by_name["SERPER_API_KEY = …"].secret_sha256 is not None
