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
from scanner.sources.filekinds import kinds, not_own_settings, vendored_package, vendored_reason
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
    assert (vendored.severity, vendored.severity_reason) == (Severity.LOW, vendored_reason("jwt-lib"))
    assert mine.severity is not Severity.LOW and mine.severity_reason is None


def test_path_kinds() -> None:
    for p in (b"yarn.lock", b"web/package-lock.json", b".secrets.baseline", b"app/locales/fr/messages.po",
              b"i18n/en.json", b"public/js/jquery.min.js", b"vendor/lib/x.js"):  # fmt: skip
        assert not_own_settings(p), p
    for p in (b"src/config.ts", b"settings.json", b".env", b"docs/readme.md"):
        assert not not_own_settings(p), p
    packages = {
        b"node_modules/a/README.md": "a",
        b"x/node_modules/@s/b/docs/api.md": "@s/b",
        b"Documents/node_modules/body-parser/node_modules/debug/.coveralls.yml": "debug",
        b"vendor/github.com/o/r/x.go": "github.com/o/r",
        b"vendor/acme/sdk/src/Client.php": "acme",
        b"venv/lib/python3.11/site-packages/requests/api.py": "requests",
        b"static/vendor/jquery.js": "jquery.js",
        b"bower_components/angular/bower.json": "angular",
        b"src/app.py": None,
        b"docs/vendors.md": None,
        b"my_node_modules/x/a.js": None,
    }
    for p, want in packages.items():
        assert vendored_package(p) == want, p
    # a vendored package's own build config builds nothing this project deploys
    assert "build" in kinds(b"webpack.config.js") and "build" in kinds(b"web/vite.config.ts")
    assert "build" not in kinds(b"node_modules/some-lib/webpack.config.js")
    assert "build" not in kinds(b"app/node_modules/@s/ui/vite.config.ts")


def _coveralls(seed: str) -> str:
    return expand("{alnum:14}{digits:2}{alnum:16}", random.Random(seed))


def test_ci_tokens_of_a_vendored_package_are_low_and_name_it(tmp_path: Path, scan: Scan) -> None:
    """A committed node_modules/ (or vendor/, site-packages/) holds other projects' own CI tokens
    (`.coveralls.yml`, `COVERALLS_REPO_TOKEN=…` in package.json scripts): reported low, naming the
    package. The same value also in this project's own file stays at its severity."""
    cov, script, codacy, vend, site, shared = (_coveralls(s) for s in ("cov", "sc", "cd", "vd", "sp", "sh"))
    pkg = (
        '{\n  "name": "xml-js",\n  "scripts": {\n'
        f'    "coverage": "COVERALLS_REPO_TOKEN={script} nyc report | coveralls",\n'
        f'    "codacy": "CODACY_PROJECT_TOKEN={codacy} codacy-coverage"\n'
        "  }\n}\n"
    )
    b = RepoBuilder(tmp_path / "r")
    b.commit(
        {
            "Documents/node_modules/body-parser/node_modules/debug/.coveralls.yml": f"repo_token: {cov}\n".encode(),
            "Documents/node_modules/xml-js/package.json": pkg.encode(),
            "vendor/acme/sdk/.travis.yml": f"env:\n  - SDK_API_TOKEN={vend}\n".encode(),
            "venv/lib/python3.11/site-packages/tool/settings.py": f'UPLOAD_TOKEN = "{site}"\n'.encode(),
            "node_modules/lib/.coveralls.yml": f"repo_token: {shared}\n".encode(),
            "ci/coveralls.yml": f"repo_token: {shared}\n".encode(),
        }
    )
    report = scan(tmp_path / "r")
    by_path = {loc.path: f for f in report.findings for loc in f.locations}
    expect = {
        "Documents/node_modules/body-parser/node_modules/debug/.coveralls.yml": "debug",
        "Documents/node_modules/xml-js/package.json": "xml-js",
        "vendor/acme/sdk/.travis.yml": "acme",
        "venv/lib/python3.11/site-packages/tool/settings.py": "tool",
    }
    for path, package in expect.items():
        f = by_path[path]
        assert (f.severity, f.severity_reason) == (Severity.LOW, vendored_reason(package)), path
    assert len([f for f in report.findings if "xml-js" in f.locations[0].path]) == 2
    mine = by_path["ci/coveralls.yml"]
    assert mine is by_path["node_modules/lib/.coveralls.yml"]  # one value, one finding
    assert mine.severity is Severity.HIGH and mine.severity_reason is None


def test_a_vendored_packages_own_build_config_is_no_exposure(tmp_path: Path, scan: Scan) -> None:
    """Production source maps switched on in a vendored package's webpack config build that
    package's bundle, not this project's: not reported; the project's own config is."""
    cfg = b"module.exports = {\n  mode: 'production',\n  devtool: 'source-map',\n};\n"
    b = RepoBuilder(tmp_path / "r")
    b.commit({"Documents/node_modules/some-lib/webpack.config.js": cfg, "webpack.config.js": cfg})
    got = sorted((f.rule_id, loc.path) for f in scan(tmp_path / "r").findings for loc in f.locations)
    assert got == [("browser.production-source-maps", "webpack.config.js")]


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
