#!/usr/bin/env python3
"""A 50 MB folder of minified JavaScript: keysweep next to `kingfisher scan` and `betterleaks dir`.

usage: bench/bundles.py [--work DIR] [--mb N] [--rounds N] [--peers VENV]

Builds (once, under --work, default ${TMPDIR:-/tmp}/keysweep-bundles; outside the repository so
that its self-scan never reads it) `site/dist/assets/`: the JavaScript of the npm packages in the
corpus cache (tests/corpus/fetch.py) minified by esbuild (the repository's node_modules), packed
into webpack-style chunks with hashed names, each chunk one line of 0.5-2 MB, about --mb MB in
all. Fake keys are inlined the way a build's `define` inlines a public env value (made now from
the rules' example templates; only their digests and offsets are kept): an OpenAI key in two
chunks next to `dangerouslyAllowBrowser:!0`, an Anthropic key in an `x-api-key` header with the
direct-browser header, a Groq key as `apiKey`, and a Mistral key (no prefix, no name left) in an
`Authorization: Bearer` header next to `api.mistral.ai`.

Then runs each tool --rounds times in alternating order on the warm folder and prints the median
wall time, MB/s, peak RSS, and what each reports on the planted keys: how many findings, how
many of the planted occurrences it found, and the line (and column, where the tool gives one) it
reports for each, next to the true line and UTF-16 column. Secrets the peers report are reduced
to digests as soon as their reports are read; nothing secret is printed.

  keysweep scan DIR --json F --fail-on none
  kingfisher scan DIR --no-validate --format json -q --no-update-check -o F
  betterleaks fs DIR -o F -s --exit-code 0   (2.0.0-rc.4 has no `dir` command: `fs` is its directory scan)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"
CACHE = Path(os.environ.get("KEYSWEEP_CORPUS_CACHE", Path.home() / ".cache" / "keysweep" / "corpus")) / "src"


@dataclass(frozen=True, slots=True)
class Planted:
    rule: str
    digest: str
    path: str  # relative to the site folder
    offset: int
    line: int
    column: int  # UTF-16, 1-based


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode()).hexdigest()


def _keys() -> dict[str, str]:
    from scanner.rules import load_rules
    from scanner.rules.templates import expand

    rules = {r.id: r for r in load_rules()}
    return {
        rid: expand(rules[rid].examples[0], random.Random(f"bench-bundles:{rid}"))
        for rid in ("openai.project-key", "anthropic.api-key", "groq.api-key", "mistral.api-key")
    }


def _minified_modules(work: Path) -> list[str]:
    """Every .js/.mjs of the npm packages in the corpus cache, minified by esbuild (transform)."""
    out = work / "minified"
    if not out.exists():
        srcs = sorted(
            p
            for p in CACHE.glob("npm-*/**/*")
            if p.suffix in (".js", ".mjs") and p.is_file() and p.stat().st_size < 2_000_000
        )
        if not srcs:
            raise SystemExit(f"no npm packages under {CACHE}: run tests/corpus/fetch.py first")
        tmp = work / "minified.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for i in range(0, len(srcs), 400):
            subprocess.run(
                [
                    str(ESBUILD),
                    *map(str, srcs[i : i + 400]),
                    "--minify",
                    "--charset=utf8",
                    f"--outdir={tmp}",
                    f"--outbase={CACHE}",
                    "--log-level=silent",
                    "--format=cjs",
                    "--legal-comments=none",
                ],
                check=False,
                capture_output=True,
            )
        tmp.rename(out)
    mods = []
    for p in sorted(out.rglob("*.js")):
        text = p.read_text(encoding="utf-8", errors="replace").strip()
        if text and "\n" not in text.rstrip("\n"):
            mods.append(text)
    return mods


def build(work: Path, mb: int) -> tuple[Path, list[Planted]]:
    site = work / f"site-{mb}"
    labels = work / f"labels-{mb}.json"
    if site.exists() and labels.exists():
        return site, [Planted(**d) for d in json.loads(labels.read_text())]
    shutil.rmtree(site, ignore_errors=True)
    assets = site / "dist" / "assets"
    assets.mkdir(parents=True)
    r = random.Random(20261202)
    mods = _minified_modules(work)
    keys = _keys()
    uses = {  # chunk index -> the statement a build inlines there
        3: ("openai.project-key", 'new kC({{apiKey:"{k}",dangerouslyAllowBrowser:!0}})'),
        17: (
            "openai.project-key",
            'const Qe=new kC({{apiKey:"{k}",dangerouslyAllowBrowser:!0,maxRetries:2}})',
        ),
        9: (
            "anthropic.api-key",
            'fetch("https://api.anthropic.com/v1/messages",{{method:"POST",headers:{{"x-api-key":"{k}",'
            '"anthropic-version":"2023-06-01","anthropic-dangerous-direct-browser-access":"true"}}}})',
        ),
        25: ("groq.api-key", 'new Rt({{apiKey:"{k}",dangerouslyAllowBrowser:!0}})'),
        30: (
            "mistral.api-key",
            'const Mt="https://api.mistral.ai/v1";fetch(Mt+"/chat/completions",{{headers:{{Authorization:"Bearer {k}"}}}})',
        ),
    }
    planted: list[Planted] = []
    total, index = 0, 0
    while total < mb * 1_000_000:
        target = r.randint(500_000, 2_000_000)
        parts: list[str] = []
        size = 0
        while size < target:
            m = mods[r.randrange(len(mods))]
            parts.append(f"{r.randrange(10**5)}:function(e,t,n){{{m}}}")
            size += len(parts[-1])
        name = f"{index}.{hashlib.sha256(str(index).encode()).hexdigest()[:16]}.js"
        head = f'"use strict";(self.webpackChunk_N_E=self.webpackChunk_N_E||[]).push([[{index}],{{'
        body = ",".join(parts)
        if index in uses:
            rid, stmt = uses[index]
            k = keys[rid]
            cut = r.randrange(len(parts) // 3, len(parts) - 1)
            before = head + ",".join(parts[:cut]) + ","
            inject = f"{r.randrange(10**5)}:function(e,t,n){{{stmt.format(k=k)}}},"
            offset_in = inject.index(k)
            text = before + inject + ",".join(parts[cut:]) + "}]);"
            prefix = text[: len(before) + offset_in]
            planted.append(
                Planted(
                    rid,
                    _sha(k),
                    f"dist/assets/{name}",
                    len(prefix.encode()),
                    1,
                    len(prefix.encode("utf-16-le")) // 2 + 1,
                )
            )
        else:
            text = head + body + "}]);"
        text += f"\n//# sourceMappingURL={name}.map\n"
        (assets / name).write_text(text, encoding="utf-8")
        total += len(text.encode())
        index += 1
    (site / "dist" / "index.html").write_text('<!doctype html><script src="/assets/0.js"></script>\n')
    labels.write_text(json.dumps([asdict(p) for p in planted]))
    return site, planted


# ----------------------------------------------------------------------------------------------
# tools


def commands(tool: str, site: Path, report: Path, venv: Path) -> list[str]:
    if tool == "keysweep":
        return [
            str(ROOT / ".venv" / "bin" / "keysweep"),
            "scan",
            str(site),
            "--json",
            str(report),
            "--fail-on",
            "none",
        ]
    if tool == "kingfisher":
        return [
            str(venv / "bin" / "kingfisher"),
            "scan",
            str(site),
            "--no-validate",
            "--format",
            "json",
            "-q",
            "--no-update-check",
            "-o",
            str(report),
        ]
    if tool == "betterleaks":
        return [
            str(venv / "bin" / "betterleaks"),
            "fs",
            str(site),
            "-o",
            str(report),
            "-s",
            "--exit-code",
            "0",
        ]
    raise SystemExit(f"unknown tool {tool}")


@dataclass(slots=True)
class Hit:
    path: str
    line: int
    column: int | None
    rule: str
    digest: str | None
    kind: str = "secret"
    detail: str = ""


def _rel(path: str, site: Path) -> str:
    p = Path(path)
    try:
        return p.resolve().relative_to(site.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def parse(tool: str, report: Path, site: Path) -> tuple[list[Hit], int]:
    """(hits, number of findings as the tool counts them). Secrets become digests here."""
    data: Any = json.loads(report.read_text() or "{}")
    hits: list[Hit] = []
    if tool == "keysweep":
        hits.extend(
            Hit(
                loc["path"],
                loc["line"],
                loc["column"],
                f["rule_id"],
                f.get("secret_sha256"),
                f["kind"],
                f"{f['severity']}/{f['exposure']}",
            )
            for f in data["findings"]
            for loc in f["locations"]
        )
        count = len(data["findings"])
    elif tool == "kingfisher":
        for f in data.get("findings", []):
            fd = f["finding"]
            snip = fd.get("snippet") or ""
            col = fd.get("column_start") or fd.get("column")
            hits.append(
                Hit(
                    _rel(fd["path"], site),
                    int(fd["line"]),
                    int(col) if col else None,
                    f["rule"]["id"],
                    _sha(snip) if snip else None,
                )
            )
        count = len(data.get("findings", []))
    else:
        findings = data.get("findings", []) if isinstance(data, dict) else data
        for f in findings:
            secret = (f.get("match") or {}).get("value") or f.get("Secret") or ""
            loc = f.get("location") or {}
            col = loc.get("start_column")
            hits.append(
                Hit(
                    _rel(loc.get("path", f.get("File", "")), site),
                    int(loc.get("start_line", 0)),
                    int(col) if col else None,
                    f.get("rule_id", f.get("RuleID", "")),
                    _sha(secret) if secret else None,
                )
            )
        count = len(findings)
    del data  # held the peers' secrets
    return hits, count


def run(tool: str, site: Path, work: Path, venv: Path) -> tuple[float, int, Path]:
    report = work / f"{tool}.json"
    report.unlink(missing_ok=True)
    log = work / f"{tool}.time"
    cmd = ["/usr/bin/time", "-v", "-o", str(log), *commands(tool, site, report, venv)]
    t0 = time.monotonic()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.monotonic() - t0
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", log.read_text()).group(1)) // 1024  # type: ignore[union-attr]
    if not report.exists():
        raise SystemExit(f"{tool} wrote no report")
    return wall, rss, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "keysweep-bundles")
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--peers", type=Path, default=Path(os.environ.get("KEYSWEEP_PEERS_VENV", "/work/peers-venv"))
    )
    ap.add_argument("--tools", default="keysweep,kingfisher,betterleaks")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    site, planted = build(args.work, args.mb)
    files = sorted(p for p in site.rglob("*") if p.is_file())
    nbytes = sum(p.stat().st_size for p in files)
    longest = max(max(map(len, p.read_bytes().split(b"\n"))) for p in files)
    print(
        f"folder: {site}  {nbytes / 1e6:.1f} MB  {len(files)} files  longest line {longest / 1e6:.2f} MB  "
        f"cores={os.cpu_count()}  {time.strftime('%Y-%m-%dT%H:%MZ', time.gmtime())}"
    )
    print(f"planted: {len(planted)} occurrences of {len({p.digest for p in planted})} keys")
    tools = args.tools.split(",")
    for p in files:
        p.read_bytes()  # warm the page cache
    walls: dict[str, list[float]] = {t: [] for t in tools}
    rss: dict[str, int] = dict.fromkeys(tools, 0)
    reports: dict[str, Path] = {}
    for _ in range(args.rounds):
        for t in tools:
            w, m, rep = run(t, site, args.work, args.peers)
            walls[t].append(w)
            rss[t] = max(rss[t], m)
            reports[t] = rep
    print(f"\n{'tool':<12}{'median s':>9}{'MB/s':>8}{'RSS MB':>8}{'findings':>10}{'planted found':>15}")
    details: dict[str, list[str]] = {}
    for t in tools:
        hits, count = parse(t, reports[t], site)
        found = []
        for p in planted:
            match = [
                h
                for h in hits
                if h.path == p.path
                and (h.digest == p.digest or h.line == p.line)
                and h.kind == "secret"
                and (h.digest == p.digest or h.digest is None)
            ]
            found.append((p, match[0] if match else None))
        med = statistics.median(walls[t])
        ok = sum(1 for _, h in found if h is not None)
        print(f"{t:<12}{med:>9.2f}{nbytes / 1e6 / med:>8.1f}{rss[t]:>8}{count:>10}{ok:>9}/{len(planted)}")
        rows = []
        for p, h in found:
            where = (
                "missed"
                if h is None
                else (
                    f"line {h.line}"
                    + (f" col {h.column}" if h.column else "")
                    + f" ({h.rule}{', ' + h.detail if h.detail else ''})"
                )
            )
            rows.append(
                f"  {p.rule:<20} {p.path.rsplit('/', 1)[-1]:<24} true 1:{p.column:<8} (byte {p.offset + 1:<8}) {where}"
            )
        other = [
            h
            for h in hits
            if not any(h.path == p.path and h.line == p.line for p in planted) or h.kind != "secret"
        ]
        kinds: dict[str, int] = {}
        for h in other:
            kinds[h.rule] = kinds.get(h.rule, 0) + 1
        rows.append("  other: " + (", ".join(f"{k} x{v}" for k, v in sorted(kinds.items())) or "none"))
        details[t] = rows
    for t in tools:
        print(f"\n{t}:")
        print("\n".join(details[t]))


if __name__ == "__main__":
    main()
