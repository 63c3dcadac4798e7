#!/usr/bin/env python3
"""Real production builds × planted keys: what keysweep and its peers report (issue 21).

usage: bench/builds.py [--work DIR] [--keysweep CMD] [--tools keysweep,gitleaks,betterleaks,kingfisher]

Builds (under --work, default ${TMPDIR:-/tmp}/keysweep-builds, outside the repository) the same
real builds the tests use, with fake keys made now by the tests' generators (tests/keys.py,
seeded): Vite with the `openai` SDK (`build.sourcemap` true, 'hidden' and 'inline'), webpack 5 +
terser, esbuild, and the recorded Turbopack (Next.js), Parcel and Bun builds of tests/data, whose
placeholders are rewritten with keys of the same length. Each built app ships:

  env       an OpenAI key through `VITE_…` / `NEXT_PUBLIC_…`
  code      an Anthropic key as a literal in code
  comment   an OpenAI key only in a source comment the minifier drops (only in the map's sourcesContent)
  unused    an Anthropic key in an export tree-shaking drops (only in the map's sourcesContent)
  firebase  a Google key in a Firebase web config
  google    a bare Google key in a module of its own

The recorded builds hold what their recordings planted (Turbopack: env, code, firebase; Parcel and
Bun: code). The sources are then scrubbed, so every key is only in the build output.

Each tool scans each app folder once:

  keysweep scan APP --json F --fail-on none                    (--keysweep: another install, e.g. a
                                                                checkout from before a change)
  gitleaks dir APP --report-format json --report-path F --exit-code 0
  betterleaks APP -o F -s --exit-code 0
  kingfisher scan APP --no-validate --no-dedup --format json -q --no-update-check -o F

and the script prints, per build × key, as Markdown: the true position (line:UTF-16 column of the
key in the client chunk, or where it is when the chunk does not hold it); for keysweep how many
findings hold the key, severity, exposure, the position it reports (checked against the true
one) and its `original` (checked against @jridgewell/trace-mapping at the true position, or the
key's place in its source for a key only in sourcesContent); for each peer how many findings hold
the key, its severity if it has one, and the position it reports in the client chunk: exact, off
by one, or a byte column. Peers' secrets are matched to the planted keys and reduced to digests as
their reports are read; nothing secret is printed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from corpus_score import gitleaks_bin  # noqa: E402

from tests import bundlers, record_maps, record_turbopack  # noqa: E402
from tests.bundle_apps import FIREBASE_PROJECT, expected_origin  # noqa: E402
from tests.keys import make_key  # noqa: E402

TOOLS = ("keysweep", "gitleaks", "betterleaks", "kingfisher")
RULES = {
    "env": "openai.project-key",
    "code": "anthropic.api-key",
    "comment": "openai.project-key",
    "unused": "anthropic.api-key",
    "firebase": "google.api-key",
    "google": "google.api-key",
}
_INLINE = re.compile(rb"sourceMappingURL=data:application/json[^,]*;base64,([A-Za-z0-9+/=]+)\s*$")
_SKIP_DIRS = {"node_modules", "dist", "out", ".next"}


@dataclass
class Build:
    name: str
    app: Path
    keys: dict[str, str]  # label → key (in memory only)
    chunks: list[Path]  # the client chunks
    sources: dict[str, str] = field(default_factory=dict)  # rel → text before scrubbing
    truth: dict[str, str] = field(default_factory=dict)  # label → "line:col" or where it is
    origin: dict[str, dict[str, Any]] = field(default_factory=dict)  # label → expected original


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest()


def _keys(seed: int, labels: list[str]) -> dict[str, str]:
    return {label: make_key(RULES[label], seed + i) for i, label in enumerate(labels)}


def _at(text: str, needle: str) -> dict[str, Any]:
    before = text[: text.index(needle)]
    last = before.rsplit("\n", 1)[-1]
    return {"line": before.count("\n") + 1, "column": len(last.encode("utf-16-le")) // 2 + 1}


def _app_files(keys: dict[str, str], env_ref: str, sdk: bool) -> dict[str, str]:
    """tests/sources/bundles/test_roots.py's app (env, code, Firebase config, bare Google key; the SDK
    between them when used) plus a key in a dropped comment and one in a tree-shaken export."""
    client = (
        f'import OpenAI from "openai";\nconst client = new OpenAI({{ apiKey: {env_ref} }});\n'
        "window.baseURL = client.baseURL;\n"
        if sdk
        else f"window.apiKey = {env_ref};\n"
    )
    return {
        "src/maps.js": f'export const mapsKey = "{keys["google"]}";\n',
        "src/firebase.js": (
            "export const firebaseConfig = {\n"
            f'  apiKey: "{keys["firebase"]}",\n'
            f'  authDomain: "{FIREBASE_PROJECT}.firebaseapp.com",\n'
            f'  projectId: "{FIREBASE_PROJECT}",\n'
            '  messagingSenderId: "418204117623",\n'
            '  appId: "1:418204117623:web:5a0c2f4e9b1d7c3e",\n'
            "};\n"
        ),
        "src/debug.js": (
            f'export function unused() {{\n  return {{ apiKey: "{keys["unused"]}" }};\n}}\n'
            'export const version = [document.title, "v1"].join(":");\n'  # code of its own: mapped
        ),
        "src/main.js": (
            'import { mapsKey } from "./maps.js";\nimport { version } from "./debug.js";\n'
            + f"// the old key was {keys['comment']}, rotated\n"
            + client
            + 'import { firebaseConfig } from "./firebase.js";\n'
            + f"const greeting = {json.dumps(bundlers.GREETING, ensure_ascii=False)};\n"
            + f'const anthropicKey = "{keys["code"]}";\n'
            + "document.title = greeting + firebaseConfig.projectId + mapsKey.length + version;\n"
            + "window.send = (m) => fetch('/x', { headers: { 'x-api-key': anthropicKey }, body: m });\n"
            + "window.fb = firebaseConfig;\nwindow.maps = mapsKey;\n"
        ),
    }


def _fresh(work: Path, name: str) -> Path:
    app = work / name / "app"
    shutil.rmtree(app.parent, ignore_errors=True)
    app.mkdir(parents=True)
    return app


def _vite(work: Path, mode: str, seed: int) -> Build:
    keys = _keys(seed, list(RULES))
    app = _fresh(work, f"vite-{mode}")
    files = _app_files(keys, "import.meta.env.VITE_OPENAI_API_KEY", sdk=True)
    bundlers.write(app, files)
    value = "true" if mode == "true" else repr(mode)
    chunks = bundlers.vite_build_with(
        app, {"VITE_OPENAI_API_KEY": keys["env"]}, f"export default {{ build: {{ sourcemap: {value} }} }};\n"
    )
    return Build(f"Vite (sourcemap {value}, openai SDK)", app, keys, chunks, files)


def _webpack(work: Path, seed: int) -> Build:
    keys = _keys(seed, list(RULES))
    app = _fresh(work, "webpack")
    files = _app_files(keys, "process.env.NEXT_PUBLIC_OPENAI_API_KEY", sdk=False)
    bundlers.write(app, files)
    chunks = bundlers.webpack_build(app, {"process.env.NEXT_PUBLIC_OPENAI_API_KEY": keys["env"]})
    return Build("webpack 5 + terser (devtool source-map)", app, keys, chunks, files)


def _esbuild(work: Path, seed: int) -> Build:
    keys = _keys(seed, list(RULES))
    app = _fresh(work, "esbuild")
    files = _app_files(keys, "process.env.NEXT_PUBLIC_OPENAI_API_KEY", sdk=False)
    bundlers.write(app, files)
    chunk = bundlers.esbuild(
        app / "src" / "main.js",
        app / "out",
        {"process.env.NEXT_PUBLIC_OPENAI_API_KEY": keys["env"]},
        sourcemap=True,
    )
    return Build("esbuild (--sourcemap)", app, keys, [chunk], files)


def _recorded(work: Path, name: str, fixture: Path, plants: dict[str, str], keys: dict[str, str]) -> Path:
    """A copy of a recorded build with each placeholder (plants: label → placeholder) replaced."""
    app = work / name / "app"
    shutil.rmtree(app.parent, ignore_errors=True)
    shutil.copytree(fixture / "app", app)
    for path in app.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for label, ph in plants.items():
                data = data.replace(ph.encode(), keys[label].encode())
            data = data.replace(
                record_turbopack.ENV_NAME.encode(), b"NEXT_PUBLIC_OPENAI_API_KEY"
            )  # same length
            path.write_bytes(data)
    return app


def _sources(app: Path) -> dict[str, str]:
    return {
        p.relative_to(app).as_posix(): p.read_text()
        for p in app.rglob("*")
        if p.is_file()
        and p.suffix in (".js", ".ts", ".tsx")
        and not _SKIP_DIRS.intersection(p.relative_to(app).parts)
    }


def _turbopack(work: Path, seed: int) -> Build:
    labels = list(record_turbopack.PLANTS)
    keys = _keys(seed, labels)
    plants = {label: record_turbopack.placeholder(label) for label in labels}
    app = _recorded(work, "turbopack", record_turbopack.FIXTURE, plants, keys)
    chunks = sorted((app / ".next" / "static" / "chunks").glob("*.js"))
    return Build(
        "Turbopack (recorded Next.js 16)",
        app,
        keys,
        chunks,
        _sources(app),
    )


def _parcel_bun(work: Path, seed: int) -> list[Build]:
    """The one recorded app, copied once per bundler with only that bundler's output."""
    keys = _keys(seed, ["code"])
    builds = []
    for name, out, other in (("Parcel 2", "dist", "out"), ("Bun", "out", "dist")):
        app = _recorded(
            work, name.split()[0].lower(), record_maps.FIXTURE, {"code": record_maps.placeholder()}, keys
        )
        shutil.rmtree(app / other)
        builds.append(Build(f"{name} (recorded)", app, keys, sorted((app / out).glob("*.js")), _sources(app)))
    return builds


def _inline_map(data: bytes) -> str | None:
    m = _INLINE.search(data)
    return base64.b64decode(m.group(1)).decode() if m else None


def _truths(b: Build) -> None:
    """The true position of each key, and the origin a reader of the map should give it."""
    for label, key in b.keys.items():
        chunk = next((c for c in b.chunks if key.encode() in c.read_bytes()), None)
        if chunk is not None:
            data = chunk.read_bytes()
            line, col, *_ = bundlers.position(data, key)
            b.truth[label] = f"{line}:{col}"
            inline = _inline_map(data)
            map_file = None
            if inline is not None:  # trace-mapping resolves it against the chunk's own URL
                map_file = chunk.with_name(chunk.name + ".inline-map")
                map_file.write_text(inline)
            elif not chunk.with_name(chunk.name + ".map").exists():
                map_file = next(chunk.parent.glob("*.js.map"))  # Turbopack names its map apart
            try:
                want = expected_origin(b.app, chunk, key, b.app, map_file)
            finally:
                if inline is not None and map_file is not None:
                    map_file.unlink()
            if "Parcel" in b.name:  # names sources from the project root: trace-mapping's URL
                # resolution (against the map's folder) gives dist/src/key.js, which does not exist
                want["path"] = want["path"].removeprefix("dist/")
            b.origin[label] = want
            continue
        rel = next((r for r, t in b.sources.items() if key in t), None)
        if rel is not None:
            b.origin[label] = {"path": rel, **_at(b.sources[rel], key)}
        maps = [m for c in b.chunks for m in c.parent.glob(c.name + ".map") if key.encode() in m.read_bytes()]
        if maps:
            line, col, *_ = bundlers.position(maps[0].read_bytes(), key)
            b.truth[label] = f"map {line}:{col}"
        elif any(
            _inline_map(c.read_bytes()) and key in (_inline_map(c.read_bytes()) or "") for c in b.chunks
        ):
            b.truth[label] = "inline map only"
        else:
            b.truth[label] = "not shipped"


def _scrub(b: Build) -> None:
    """The sources no longer hold the keys (and no env file is left): only the build ships them."""
    for rel, text in b.sources.items():
        for key in b.keys.values():
            text = text.replace(key, "rotated-away")
        (b.app / rel).write_text(text)
    (b.app / ".env.production").unlink(missing_ok=True)
    link = b.app / "node_modules"
    if link.is_symlink():
        link.unlink()


def build_all(work: Path, which: list[str]) -> list[Build]:
    makers = {
        "vite-true": lambda: [_vite(work, "true", 3101)],
        "vite-hidden": lambda: [_vite(work, "hidden", 3111)],
        "vite-inline": lambda: [_vite(work, "inline", 3121)],
        "webpack": lambda: [_webpack(work, 3131)],
        "esbuild": lambda: [_esbuild(work, 3141)],
        "turbopack": lambda: [_turbopack(work, 3151)],
        "parcel-bun": lambda: _parcel_bun(work, 3161),
    }
    builds: list[Build] = []
    for name in which:
        made = makers[name]()
        for b in made:
            _truths(b)
        for b in made:
            _scrub(b)
        builds.extend(made)
    return builds


# ----------------------------------------------------------------------------------------------
# tools and their reports


def command(tool: str, target: Path, report: Path, venv: Path, keysweep: list[str]) -> list[str]:
    if tool == "keysweep":
        return [*keysweep, "scan", str(target), "--json", str(report), "--fail-on", "none"]
    if tool == "gitleaks":
        g = [gitleaks_bin(venv), "dir", str(target), "--report-format", "json", "--report-path", str(report)]
        return [*g, "--exit-code", "0", "--no-banner", "--log-level", "error"]
    if tool == "betterleaks":
        return [str(venv / "bin" / "betterleaks"), str(target), "-o", str(report), "-s", "--exit-code", "0"]
    if tool == "kingfisher":
        k = [str(venv / "bin" / "kingfisher"), "scan", str(target), "--no-validate", "--no-dedup"]
        return [*k, "--format", "json", "-q", "--no-update-check", "-o", str(report)]
    raise SystemExit(f"unknown tool {tool}")


@dataclass(frozen=True, slots=True)
class Hit:
    """One reported occurrence, tied to a planted key by its label (the secret itself is gone)."""

    label: str
    finding: int  # index of the finding in the report
    path: str  # relative to the app
    line: int
    column: int | None
    severity: str
    exposure: str = "—"
    original: str = "—"
    origin: dict[str, Any] | None = None


def _label(secret: str, keys: dict[str, str]) -> str | None:
    """Which planted key a reported secret is (equal, or one holds the other: a peer may report
    the key with its quotes or a generic rule only part of it)."""
    if not secret:
        return None
    for label, key in keys.items():
        if secret == key or key in secret or (len(secret) >= 16 and secret in key):
            return label
    return None


def _rel(path: str, app: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = app / p
    try:
        return p.resolve().relative_to(app.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def parse(tool: str, report: Path, b: Build) -> list[Hit]:
    data: Any = json.loads(report.read_text() or "[]")
    hits: list[Hit] = []
    if tool == "keysweep":
        digests = {_sha(k): label for label, k in b.keys.items()}
        for i, f in enumerate(data.get("findings", [])):
            label = digests.get(f.get("secret_sha256") or "")
            if label is None:
                continue
            hits.extend(
                Hit(
                    label,
                    i,
                    _rel(loc["path"], b.app),
                    int(loc["line"]),
                    loc.get("column"),
                    f.get("severity", "?"),
                    f.get("exposure", "?"),
                    loc.get("encoding", ""),
                    loc.get("original"),
                )
                for loc in f["locations"]
            )
    elif tool == "gitleaks":
        for i, f in enumerate(data):
            label = _label(f.get("Secret") or "", b.keys)
            if label is not None:
                path = _rel(f.get("File", ""), b.app)
                hits.append(Hit(label, i, path, int(f.get("StartLine", 0)), f.get("StartColumn"), "—"))
    elif tool == "betterleaks":
        for i, f in enumerate(data.get("findings", []) if isinstance(data, dict) else data):
            secret = (f.get("match") or {}).get("value") or f.get("Secret") or ""
            label = _label(secret, b.keys)
            if label is None:
                continue
            loc = f.get("location") or {}
            path = _rel(loc.get("path", f.get("File", "")), b.app)
            line = int(loc.get("start_line", f.get("StartLine", 0)))
            col = loc.get("start_column", f.get("StartColumn"))
            hits.append(Hit(label, i, path, line, col, str(f.get("severity") or "—")))
    elif tool == "kingfisher":
        for i, f in enumerate(data.get("findings", [])):
            fd = f["finding"]
            label = _label(fd.get("snippet") or "", b.keys)
            if label is None:
                continue
            col = fd.get("column_start") or fd.get("column")
            sev = str(fd.get("confidence") or f.get("rule", {}).get("confidence") or "—")
            hits.append(Hit(label, i, _rel(fd["path"], b.app), int(fd["line"]), col, sev))
    del data  # held the peers' secrets
    return hits


def run(tool: str, b: Build, work: Path, venv: Path, keysweep: list[str]) -> list[Hit]:
    report = work / "reports" / f"{b.app.parent.name}-{tool}.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.unlink(missing_ok=True)
    proc = subprocess.run(
        command(tool, b.app, report, venv, keysweep),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if not report.is_file():
        raise SystemExit(f"{tool} wrote no report on {b.name} (exit {proc.returncode})")
    hits = parse(tool, report, b)
    report.unlink()  # a peer's report holds the secrets
    return hits


# ----------------------------------------------------------------------------------------------
# judging and printing


def _column_kind(h: Hit, b: Build) -> str:
    """The reported line:column next to the key's true place in the same file."""
    key = b.keys[h.label]
    path = b.app / h.path
    if not path.is_file():
        return f"{h.line}:{h.column}"
    data = path.read_bytes()
    lines = data.split(b"\n")
    raw = lines[h.line - 1] if 0 < h.line <= len(lines) else b""
    if key.encode() not in raw:
        return f"{h.line}:{h.column} (key not on that line)"
    at = raw.index(key.encode())
    utf16 = len(raw[:at].decode("utf-8", "replace").encode("utf-16-le")) // 2 + 1
    byte = at + 1
    if h.column is None:
        return f"{h.line} (no column)"
    col = int(h.column)
    if col == utf16:
        kind = "exact"
    elif col == byte:
        kind = "bytes"
    elif abs(col - utf16) == 1:
        kind = f"off by {col - utf16:+d}"
    elif abs(col - byte) == 1:
        kind = f"bytes {col - byte:+d}"
    else:
        kind = f"wrong (true {utf16}, byte {byte})"
    if utf16 == byte and kind in ("exact", "bytes"):
        kind = "exact†"
    elif utf16 == byte and kind.startswith("off by"):
        kind += "†"
    return f"{h.line}:{col} {kind}"


def _pick(hits: list[Hit], b: Build) -> Hit:
    """The occurrence to show: the one in a client chunk if any, then a map, then the first."""
    chunks = {c.relative_to(b.app).as_posix() for c in b.chunks}
    maps = {c + ".map" for c in chunks}
    key = b.keys[hits[0].label].encode()

    def on_line(h: Hit) -> bool:
        lines = (b.app / h.path).read_bytes().split(b"\n") if (b.app / h.path).is_file() else []
        return 0 < h.line <= len(lines) and key in lines[h.line - 1]

    return min(hits, key=lambda h: (h.path not in chunks, h.path not in maps, not on_line(h), h.path))


def _where(hits: list[Hit], b: Build) -> str:
    """Where the occurrences are, by kind of file."""
    chunks = {c.relative_to(b.app).as_posix() for c in b.chunks}
    kinds = []
    for h in hits:
        kind = (
            "chunk"
            if h.path in chunks
            else "map"
            if h.path.endswith(".map")
            else "server"
            if "/server/" in h.path
            else h.path.rsplit("/", 1)[-1]
        )
        if h.original and h.original not in ("—", "") and kind == "chunk":
            kind = "chunk's inline map"
        if kind not in kinds:
            kinds.append(kind)
    return "+".join(kinds)


def _origin(h: Hit, want: dict[str, Any] | None) -> str:
    got = h.origin
    if got is None:
        return "none" + ("" if want else " (no reference)")
    text = f"{got.get('path')}:{got.get('line')}:{got.get('column')}"
    if want is None:
        return f"{text} (no reference)"
    if got == want:
        return f"{text} ✓"
    return f"{text} ✗ (want {want['path']}:{want['line']}:{want['column']})"


def keysweep_cell(hits: list[Hit], b: Build, label: str) -> list[str]:
    mine = [h for h in hits if h.label == label]
    if not mine:
        return ["n (0)", "", "", "", ""]
    findings = sorted({h.finding for h in mine})
    h = _pick(mine, b)
    sev = "/".join(sorted({x.severity for x in mine}))
    exp = "/".join(sorted({x.exposure for x in mine}))
    n = f"y ({len(findings)} finding{'s' if len(findings) > 1 else ''}, {len(mine)} loc: {_where(mine, b)})"
    pos = _column_kind(h, b) if not h.original else f"{h.line}:{h.column} in decoded {h.original}"
    return [n, sev, exp, pos, _origin(h, b.origin.get(label))]


def peer_cell(hits: list[Hit], b: Build, label: str) -> str:
    mine = [h for h in hits if h.label == label]
    if not mine:
        return "n"
    h = _pick(mine, b)
    sev = "/".join(sorted({x.severity for x in mine}))
    sev_text = "" if sev == "—" else f", {sev}"
    return f"y ({len(mine)}: {_where(mine, b)}{sev_text}) {_column_kind(h, b)}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "keysweep-builds")
    ap.add_argument(
        "--keysweep",
        default=str(ROOT / ".venv" / "bin" / "keysweep"),
        help="the keysweep command (split on spaces), e.g. a frozen checkout's venv/bin/keysweep",
    )
    ap.add_argument("--label", default="", help="what this keysweep is, for the table's heading")
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument(
        "--builds", default="vite-true,vite-hidden,vite-inline,webpack,esbuild,turbopack,parcel-bun"
    )
    ap.add_argument(
        "--peers", type=Path, default=Path(os.environ.get("KEYSWEEP_PEERS_VENV", "/work/peers-venv"))
    )
    args = ap.parse_args()
    tools = args.tools.split(",")
    args.work.mkdir(parents=True, exist_ok=True)
    builds = build_all(args.work, args.builds.split(","))
    results: dict[tuple[str, str], list[Hit]] = {}
    for b in builds:
        for t in tools:
            results[(b.name, t)] = run(t, b, args.work, args.peers, args.keysweep.split())
    if "keysweep" in tools:
        print(f"\n### keysweep{' ' + args.label if args.label else ''} (`{args.keysweep}`)\n")
        print("| build | key | true position | found | severity | exposure | position | origin |")
        print("|---|---|---|---|---|---|---|---|")
        for b in builds:
            for label in b.keys:
                cells = keysweep_cell(results[(b.name, "keysweep")], b, label)
                print(f"| {b.name} | {label} | {b.truth[label]} | " + " | ".join(cells) + " |")
    peers = [t for t in tools if t != "keysweep"]
    if peers:
        print("\n### peers (no exposure, no origin)\n")
        print("| build | key | true position | " + " | ".join(peers) + " |")
        print("|---|---|---|" + "---|" * len(peers))
        for b in builds:
            for label in b.keys:
                cells = [peer_cell(results[(b.name, t)], b, label) for t in peers]
                print(f"| {b.name} | {label} | {b.truth[label]} | " + " | ".join(cells) + " |")
    print(
        "\n† ASCII up to the key on that line: a byte column would be the same, so it tells UTF-16 "
        "and bytes apart only where the line holds non-ASCII text before the key."
    )
    for t in tools:
        shipped = [(b, label) for b in builds for label in b.keys if b.truth[label] != "not shipped"]
        found = sum(1 for b, label in shipped if any(h.label == label for h in results[(b.name, t)]))
        total = len(shipped)
        print(f"\n{t}: {found}/{total} shipped keys found", end="")
    print()


if __name__ == "__main__":
    main()
