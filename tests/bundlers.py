"""Real bundles from real bundlers (esbuild, Vite), built at test time in a temporary directory.

The fake key reaches the code the way each framework ships a public env value: esbuild's
`--define:process.env.NEXT_PUBLIC_…` (Next.js, webpack's DefinePlugin semantics) and Vite's
`VITE_*` from `.env.production`. Both minify in production mode. The bundlers come from the
repository's `package.json` (`npm ci` in `make test`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"
ESBUILD = BIN / "esbuild"
VITE = BIN / "vite"

# text a minifier keeps before the key: non-ASCII and astral characters, so that a UTF-16 column
# differs from a byte or code-point column
GREETING = "héllo ✓ 𝒳 — ключ"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VITE_", "NEXT_PUBLIC_"))}
    env["NODE_ENV"] = "production"
    env.setdefault("HOME", "/tmp")
    return env


def write(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def browser_app(env_name: str) -> dict[str, str]:
    """A small app that hands a public env value to an SDK-like client in the browser."""
    return {
        "src/client.js": (
            "export class Client {\n"
            "  constructor(options) { this.options = options; }\n"
            "  hello(who) { return who + ' ' + this.options.apiKey.length; }\n"
            "}\n"
        ),
        "src/main.js": (
            'import { Client } from "./client.js";\n'
            f"const greeting = {json.dumps(GREETING, ensure_ascii=False)};\n"
            "document.title = greeting;\n"
            f"const client = new Client({{ apiKey: process.env.{env_name}, dangerouslyAllowBrowser: true }});\n"
            "document.body.textContent = client.hello(greeting);\n"
        ),
    }


def server_app(env_name: str) -> dict[str, str]:
    """The same key in code that runs on Node (it reads a file with `fs`)."""
    return {
        "server/main.js": (
            'import { readFileSync } from "fs";\n'
            f"const greeting = {json.dumps(GREETING, ensure_ascii=False)};\n"
            f"const key = process.env.{env_name};\n"
            'export function handler() { return readFileSync("/etc/hostname", "utf8") + greeting + key; }\n'
        )
    }


def esbuild(
    entry: Path,
    outdir: Path,
    define: Mapping[str, str],
    *,
    platform: str = "browser",
    entry_names: str = "[name]-[hash]",
    sourcemap: bool | str = False,
    banner: str | None = None,
) -> Path:
    """`esbuild --bundle --minify` of `entry` into `outdir`; returns the written script.
    `sourcemap`: True for an external map, or esbuild's value (`inline`, `external`, `linked`)."""
    args = [
        str(ESBUILD),
        str(entry),
        "--bundle",
        "--minify",
        "--charset=utf8",
        f"--platform={platform}",
        f"--format={'esm' if platform == 'node' else 'iife'}",
        f"--outdir={outdir}",
        f"--entry-names={entry_names}",
        "--log-level=warning",
        *(f"--define:{name}={json.dumps(value)}" for name, value in define.items()),
    ]
    if sourcemap:
        args.append("--sourcemap" if sourcemap is True else f"--sourcemap={sourcemap}")
    if banner is not None:
        args.append(f"--banner:js={banner}")
    before = set(outdir.glob("*.js")) if outdir.exists() else set()
    subprocess.run(args, check=True, env=_env(), capture_output=True, timeout=120)
    (out,) = set(outdir.glob("*.js")) - before
    return out


def vite_build(app: Path, env_production: Mapping[str, str]) -> list[Path]:
    """`vite build` (production mode, minified) of an app whose public env is in `.env.production`."""
    (app / ".env.production").write_text("".join(f"{k}={v}\n" for k, v in env_production.items()))
    if not (app / "index.html").exists():
        (app / "index.html").write_text(
            "<!doctype html><html><head><title>app</title></head><body>"
            '<script type="module" src="/src/main.js"></script></body></html>\n'
        )
    subprocess.run(
        [str(VITE), "build", "--logLevel", "warn"],
        cwd=app,
        check=True,
        env=_env(),
        capture_output=True,
        timeout=180,
    )
    return sorted((app / "dist" / "assets").glob("*.js"))


def vite_app() -> dict[str, str]:
    app = browser_app("X")
    app["src/main.js"] = app["src/main.js"].replace("process.env.X", "import.meta.env.VITE_OPENAI_API_KEY")
    return app


def position(data: bytes, secret: str) -> tuple[int, int, int, int, int]:
    """Where `secret` sits in `data`, worked out independently of keysweep: 1-based line (LF, CRLF,
    CR) and UTF-16 columns, end line and column, byte offset."""
    off = data.index(secret.encode())
    lines = re.split(r"\r\n|\r|\n", data[:off].decode("utf-8"))
    line = len(lines)
    column = len(lines[-1].encode("utf-16-le")) // 2 + 1
    return line, column, line, column + len(secret), off
