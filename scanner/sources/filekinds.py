"""The kinds of file a path names, for the rules whose findings depend on where they sit: an
exposure rule (`dangerouslyAllowBrowser`, a public env name) is reported only where its construct
can ship — env files, web code and configs, CI workflows, client bundles — as the rule's
`contexts` list them (scanner/rules/browser.yml). A construct quoted in Python, Markdown or a
commit message describes it; it does not ship it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WEB: tuple[bytes, ...] = (b".js", b".mjs", b".cjs", b".jsx", b".ts", b".mts", b".cts", b".tsx", b".vue")
WEB += (b".svelte", b".astro", b".html", b".htm", b".map")
CONFIG = (b".json", b".json5", b".jsonc", b".yml", b".yaml", b".toml")
CONFIG_NAMES = (b"dockerfile", b"containerfile", b"makefile", b"procfile", b"netlify.toml", b"vercel.json")
# a bundler's or framework's build configuration (where production source maps are switched on);
# a development-only config (`webpack.dev.js`) builds nothing that is deployed
_BUILD_CONFIG = re.compile(
    rb"(?:vite|rollup|rolldown|webpack|rspack|esbuild|tsup|nuxt|svelte|astro|next|vue|quasar|remix"
    rb"|parcel|build)(?:[.-][a-z0-9]+)*\.(?:[cm]?[jt]s|json)|angular\.json|\.parcelrc"
)
_DEV_ONLY = re.compile(rb"(?:^|[.\-_])(?:dev|development|local|test|storybook)(?:[.\-_]|$)")
# server code: never shipped to a browser, whatever it says (Next.js API routes and route
# handlers, SvelteKit/Remix/Nuxt server modules, serverless functions, `server/` trees)
_SERVER_CODE = re.compile(
    rb"(?:^|/)(?:app|src/app)/(?:.+/)?route\.[cm]?[jt]sx?$"
    rb"|(?:^|/)(?:pages|src/pages|app|src/app)/api/"
    rb"|^(?:api|functions|netlify/functions|supabase/functions)/|(?:^|/)server/"
    rb"|\.server\.[cm]?[jt]sx?$|(?:^|/)\+(?:page|layout)\.server\.[jt]s$|(?:^|/)\+server\.[jt]s$"
    rb"|(?:^|/)(?:server|middleware|instrumentation)\.[cm]?[jt]s$"
)


def server_code(path: bytes) -> bool:
    """Source that only ever runs on a server (an API route, a route handler, a `.server` module):
    an exposure construct there does not reach a browser."""
    return _SERVER_CODE.search(path) is not None


def kinds(path: bytes, client_bundle: bool = False) -> frozenset[str]:
    """`env`, `web`, `config`, `ci`, `build` and `bundle`, as many as apply to the file at `path`;
    server code is `server`, not `web` (only a client bundle is judged client whatever its path)."""
    name = path.rsplit(b"/", 1)[-1].lower()
    out: set[str] = set()
    if client_bundle:
        out.add("bundle")
    if name.startswith(b".env") or name.endswith(b".env"):
        out.add("env")
    if name.endswith(WEB):
        out.add("server" if not client_bundle and server_code(path) else "web")
    if _BUILD_CONFIG.fullmatch(name) and not _DEV_ONLY.search(name) and vendored_package(path) is None:
        out.add("build")  # a vendored package's own build config builds nothing this project deploys
    if (
        name.endswith(CONFIG)
        or name in CONFIG_NAMES
        or b".config." in name
        or name.startswith(b"docker-compose")
    ):
        out.add("config")
    if b".github/workflows/" in b"/" + path.lower() or name in (b".gitlab-ci.yml", b"azure-pipelines.yml"):
        out.add("ci")
    return frozenset(out)


def applies(contexts: Iterable[str], path: bytes, client_bundle: bool = False) -> bool:
    """Whether a finding of a rule restricted to `contexts` is reported at `path` (no
    restriction: everywhere)."""
    wanted = frozenset(contexts)
    return not wanted or bool(wanted & kinds(path, client_bundle))


# Where a credential-sounding name does not hold the project's credential (issue 20): lockfiles
# and secret-scanner baselines hold hashes, translation catalogues hold words, minified vendor
# code holds another project's identifiers. The credential-slot detector is not reported there.
LOCKFILES = frozenset(
    {
        b"package-lock.json", b"npm-shrinkwrap.json", b"yarn.lock", b"pnpm-lock.yaml", b"bun.lock",
        b"poetry.lock", b"pipfile.lock", b"uv.lock", b"pdm.lock", b"cargo.lock", b"go.sum",
        b"composer.lock", b"gemfile.lock", b"packages.lock.json", b".secrets.baseline",
    }
)  # fmt: skip
_I18N_DIRS = (b"/locales/", b"/locale/", b"/i18n/", b"/l10n/", b"/lang/", b"/langs/", b"/translations/")
_I18N_EXT = (b".po", b".pot", b".xliff", b".xlf", b".mo")
_VENDOR_DIRS = (b"/node_modules/", b"/bower_components/", b"/vendor/", b"/third_party/")
_MINIFIED = (b".min.js", b".min.mjs", b".min.cjs")


def not_own_settings(path: bytes) -> bool:
    """A lockfile, baseline, translation catalogue or minified vendor file (see above)."""
    low = b"/" + path.lower()
    name = low.rsplit(b"/", 1)[-1]
    if name in LOCKFILES or name.endswith(_I18N_EXT) or any(d in low for d in _I18N_DIRS):
        return True
    return name.endswith(_MINIFIED) or (any(d in low for d in _VENDOR_DIRS) and name.endswith(WEB))


# the directories a package manager fills with other projects' packages, as committed by mistake
_PACKAGE_DIRS = re.compile(rb"(?:^|/)(node_modules|bower_components|vendor|site-packages)/")


def vendored_package(path: bytes) -> str | None:
    """The package a file of a committed vendored tree belongs to (`node_modules/xml-js/package.json`
    -> `xml-js`, scoped `@s/b`; `vendor/github.com/o/r/x.go` -> `github.com/o/r`; the innermost
    tree wins; a file loose in the tree is a one-file library), or None outside a vendored tree."""
    dirs = list(_PACKAGE_DIRS.finditer(path))
    if not dirs:
        return None
    found = dirs[-1]
    parts = path[found.end() :].split(b"/")
    take = 1
    if parts[0].startswith(b"@") or (found.group(1) == b"vendor" and b"." in parts[0]):
        take = 2 if parts[0].startswith(b"@") else 3  # a scope, or a Go module path's host/owner/repo
    if len(parts) == 1:
        return parts[0].decode("utf-8", "replace") or None  # a one-file library loose in the tree
    if len(parts) <= take or not all(parts[:take]):
        return None  # a scope's or a host's directory itself
    return b"/".join(parts[:take]).decode("utf-8", "replace")


def vendored_reason(package: str) -> str:
    """Why a secret inside a vendored package's own files is reported low: that package's
    sample, test fixture or CI token, published with it, not this project's key."""
    return (
        f"inside the vendored package {package}: not this project's key (a sample, fixture or CI "
        "token its authors published with it) — tell its maintainers; and reconsider committing "
        "vendored packages"
    )
