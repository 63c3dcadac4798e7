"""The kinds of file a path names, for the rules whose findings depend on where they sit: an
exposure rule (`dangerouslyAllowBrowser`, a public env name) is reported only where its construct
can ship — env files, web code and configs, CI workflows, client bundles — as the rule's
`contexts` list them (scanner/rules/browser.yml). A construct quoted in Python, Markdown or a
commit message describes it; it does not ship it.
"""

from __future__ import annotations

from collections.abc import Iterable

WEB: tuple[bytes, ...] = (b".js", b".mjs", b".cjs", b".jsx", b".ts", b".mts", b".cts", b".tsx", b".vue")
WEB += (b".svelte", b".astro", b".html", b".htm", b".map")
CONFIG = (b".json", b".json5", b".jsonc", b".yml", b".yaml", b".toml")
CONFIG_NAMES = (b"dockerfile", b"containerfile", b"makefile", b"procfile", b"netlify.toml", b"vercel.json")


def kinds(path: bytes, client_bundle: bool = False) -> frozenset[str]:
    """`env`, `web`, `config`, `ci` and `bundle`, as many as apply to the file at `path`."""
    name = path.rsplit(b"/", 1)[-1].lower()
    out: set[str] = set()
    if client_bundle:
        out.add("bundle")
    if name.startswith(b".env") or name.endswith(b".env"):
        out.add("env")
    if name.endswith(WEB):
        out.add("web")
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
