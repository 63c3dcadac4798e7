"""first_seen on real histories (issue 20 "Done means"), checked independently of keysweep.

For every keysweep finding that the hand triage (bench/realhist/<repo>.json) calls real: recover the
value in memory from the reported blob or commit message and column range (checked against
`secret_sha256` when there is one; a PEM or encoded value: its longest raw line), find every blob
and commit message that holds those bytes (one pass over all objects), every commit reachable from a
ref whose tree holds such a blob, and the expected `first_seen` by ARCHITECTURE §4: among the commits
holding the value that have no ancestor holding it, the earliest by committer time, then generation,
then id. Prints commit ids, fingerprints and verdicts only: never a value.

    python bench/realhist_firstseen.py REPO.git keysweep.json [--repo NAME] [--dir bench/realhist]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pygit2

sys.path.insert(0, str(Path(__file__).parent))
import realhist as rh


def _real_identities(dirpath: Path, repo: str) -> set[str]:
    triage = json.loads((dirpath / f"{repo}.json").read_text())["values"]
    owner = {k: t for t in triage for k in t["keys"]}
    real: set[str] = set()
    for g in rh.merge_by_triage(rh.group(r for r in rh.load(dirpath, repo) if not rh.is_exposure(r)), triage):
        t = next((owner[k] for k in sorted(rh.value_keys(g)) if k in owner), None)
        if t and t["verdict"] == "real":
            real |= {r["fingerprint"] for r in g if r["tool"] == "keysweep"}
    return real


def _recover(repo: pygit2.Repository, f: dict[str, Any]) -> bytes | None:
    """The value's bytes from its locations; None when no location gives them."""
    raw_form: bytes | None = None
    loose: dict[bytes, int] = {}
    for loc in f["locations"]:
        try:
            if loc["source"] == "message":
                data = cast(pygit2.Commit, repo[loc["commit"]]).raw_message
            elif loc.get("blob"):
                data = cast(pygit2.Blob, repo[loc["blob"]]).data
            else:
                continue
        except KeyError:
            continue
        lines = data.split(b"\n")
        if not loc.get("line") or loc["line"] > len(lines) or (loc.get("end_line") or 0) > len(lines):
            continue
        if loc.get("encoding") or loc["line"] != loc.get("end_line"):
            if raw_form is None:
                seg = [
                    lines[i].decode("utf-8", "surrogateescape")
                    for i in range(loc["line"] - 1, loc["end_line"])
                ]
                seg[-1] = seg[-1][: loc["end_column"] - 1]
                seg[0] = seg[0][loc["column"] - 1 :]
                raw_form = max(seg, key=len).encode("utf-8", "surrogateescape")
            continue
        text = lines[loc["line"] - 1].decode("utf-8", "surrogateescape")
        for c0, c1 in ((loc["column"] - 1, loc["end_column"] - 1), (loc["column"] - 1, loc["end_column"])):
            v = text[c0:c1].encode("utf-8", "surrogateescape")
            if f["secret_sha256"]:
                if hashlib.sha256(v).hexdigest() == f["secret_sha256"]:
                    return bytes(v)
            elif v:
                loose[v] = loose.get(v, 0) + 1
    if raw_form is not None:
        return raw_form
    if f["secret_sha256"] or not loose:
        return None
    return max(loose, key=lambda v: loose[v])  # a weak secret: the end-exclusive slice, most locations


def _holders(git: Path, want: dict[str, bytes]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Blob ids and commit ids (by message) holding each wanted value: one pass over every object."""
    blobs: dict[str, set[str]] = {}
    messages: dict[str, set[str]] = {}
    cmd = ["git", "-C", str(git), "cat-file", "--batch-all-objects", "--batch", "--unordered"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE) as p:
        assert p.stdout is not None
        while hdr := p.stdout.readline():
            oid, typ, size = hdr.split()
            body = p.stdout.read(int(size))
            p.stdout.read(1)
            if typ in (b"blob", b"commit"):
                hits = {k for k, v in want.items() if v in body}
                if hits:
                    (blobs if typ == b"blob" else messages)[oid.decode()] = hits
    return blobs, messages


def check(git: Path, report: Path, repo_name: str, dirpath: Path) -> tuple[int, int, int]:
    repo = pygit2.Repository(str(git))
    real = _real_identities(dirpath, repo_name)
    doc = json.loads(report.read_text())
    count: dict[str, int] = {}
    for f in doc["findings"]:
        count[f["fingerprint"]] = count.get(f["fingerprint"], 0) + 1
    findings = [
        f
        for f in doc["findings"]
        if f["kind"] == "secret" and rh._identity(f, count[f["fingerprint"]] > 1) in real
    ]
    want: dict[str, bytes] = {}
    for i, f in enumerate(findings):
        v = _recover(repo, f)
        if v is not None:
            want[str(i)] = v
    blob_vals, msg_vals = _holders(git, want)

    memo: dict[pygit2.Oid, frozenset[str]] = {}

    def tree_values(tid: pygit2.Oid) -> frozenset[str]:
        if tid not in memo:
            out: set[str] = set()
            for e in cast(pygit2.Tree, repo[tid]):
                if e.type_str == "blob":
                    out |= blob_vals.get(str(e.id), set())
                elif e.type_str == "tree":
                    out |= tree_values(e.id)
            memo[tid] = frozenset(out)
        return memo[tid]

    tips = set()
    for name in repo.references:
        try:
            tips.add(repo.references[name].peel(pygit2.Commit).id)
        except (pygit2.InvalidSpecError, KeyError, ValueError):
            continue
    walker = repo.walk(None, pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    for t in tips:
        walker.push(t)
    order = list(walker)
    gen: dict[pygit2.Oid, int] = {}
    holds: dict[pygit2.Oid, frozenset[str]] = {}
    below: dict[pygit2.Oid, frozenset[str]] = {}  # values some proper ancestor holds
    for c in order:
        gen[c.id] = 1 + max((gen[q] for q in c.parent_ids), default=0)
        holds[c.id] = tree_values(c.tree_id) | msg_vals.get(str(c.id), set())
        acc: set[str] = set()
        for q in c.parent_ids:
            acc |= holds[q] | below[q]
        below[c.id] = frozenset(acc)
    right = wrong = unknown = 0
    for i, f in enumerate(findings):
        key = str(i)
        got = (f.get("first_seen") or {}).get("commit")
        loc = f["locations"][0]
        tag = f"{f['rule_id']:28} fp={f['fingerprint'][:12]} where={loc['path']}:{loc['line']}"
        held = [c for c in order if key in holds[c.id]] if key in want else []
        if not held:
            unknown += 1
            print(f"?      {tag} reported={got and got[:10]} (value not recovered, or no raw occurrence)")
            continue
        minimal = [c for c in held if key not in below[c.id]]
        exp = min(minimal, key=lambda c: (c.commit_time, gen[c.id], str(c.id)))
        if got == str(exp.id):
            right += 1
            print(f"ok     {tag} {got[:10]}")
            continue
        wrong += 1
        why = f"{len(held)} commits hold it, {len(minimal)} without an ancestor holding it"
        if got is not None and pygit2.Oid(hex=got) in holds:
            g = pygit2.Oid(hex=got)
            why += (
                f"; reported holds it: {key in holds[g]}, an ancestor holds it: {key in below[g]},"
                f" {cast(pygit2.Commit, repo[g]).commit_time - exp.commit_time:+d} s"
            )
        print(f"WRONG  {tag} reported={got and got[:10]} expected={str(exp.id)[:10]} :: {why}")
    print(f"{repo_name}: first_seen right {right}, wrong {wrong}, unverifiable {unknown} of {len(findings)}")
    return right, wrong, unknown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("git", type=Path)
    ap.add_argument("report", type=Path, help="keysweep's JSON report of a full sweep of GIT")
    ap.add_argument("--repo", help="the name in bench/realhist (default: GIT's name without .git)")
    ap.add_argument("--dir", type=Path, default=Path(__file__).parent / "realhist")
    a = ap.parse_args()
    check(a.git, a.report, a.repo or a.git.name.removesuffix(".git"), a.dir)


if __name__ == "__main__":
    main()
