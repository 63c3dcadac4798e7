"""Refs and revisions: every ref with its target, HEAD (the default branch of a bare mirror),
and the `--range` expressions keysweep accepts (`A..B`, `B ^REF…`).

Revisions are resolved by libgit2 (`revparse_single`) after their name is checked by libgit2's own
ref-name rules (`reference_is_valid_name`, as `git check-ref-format`), so a
malformed expression is a usage error (exit 2) and a well-formed id that is absent names
`fetch-depth: 0` (exit 3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pygit2

from scanner.errors import RevisionError, ScanError
from scanner.git.objects import OBJ_COMMIT, OBJ_TAG, parse_commit, parse_tag
from scanner.git.repo import bad_objects, read_raw, shallow_commits


@dataclass(frozen=True, slots=True)
class RefTip:
    name: str
    target: bytes  # the object the ref names (before peeling)


def list_refs(repo: pygit2.Repository) -> tuple[list[RefTip], list[str]]:
    """Every ref under refs/ with its direct target; names of refs that could not be resolved."""
    tips: list[RefTip] = []
    broken: list[str] = []
    try:
        names = list(repo.listall_references())
    except pygit2.GitError:
        names = []
    for name in names:
        if not name.startswith("refs/"):
            continue
        try:
            ref = repo.references.get(name)
            if ref is None:
                broken.append(name)
                continue
            target = ref.resolve().target
            tips.append(RefTip(name, bytes(getattr(target, "raw", b""))))
        except (pygit2.GitError, KeyError, ValueError, AttributeError):
            broken.append(name)
    tips.sort(key=lambda t: t.name)
    return tips, broken


def head_commit(repo: pygit2.Repository) -> bytes | None:
    """HEAD's commit id, None when unborn. In a bare repository whose HEAD names a branch that
    does not exist (a mirror made with another default), the default branch: main, master, or
    the only branch there is."""
    try:
        if not repo.head_is_unborn:
            target = repo.head.resolve().target
            return bytes(getattr(target, "raw", b"")) or None
    except (pygit2.GitError, KeyError, ValueError):
        pass
    if not repo.is_bare:
        return None
    branches = sorted(n for n in repo.listall_references() if n.startswith("refs/heads/"))
    for name in ("refs/heads/main", "refs/heads/master", *(branches if len(branches) == 1 else ())):
        if name in branches:
            try:
                commit = repo.references[name].peel(pygit2.Commit)
            except (pygit2.GitError, KeyError, ValueError):
                continue
            return bytes(commit.id.raw)
    return None


_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")
FETCH_HINT = "fetch the full history (actions/checkout with `fetch-depth: 0`)"


def parse_range(expr: str) -> tuple[list[str], list[str]]:
    """(includes, excludes) of a rev-list expression `A..B` or `B ^REF…`."""

    tokens = expr.split()
    if not tokens:
        raise RevisionError("empty --range expression")
    includes: list[str] = []
    excludes: list[str] = []
    for tok in tokens:
        if tok.startswith("^"):
            if len(tok) == 1:
                raise RevisionError(f"malformed --range expression {expr!r}")
            excludes.append(tok[1:])
        elif "..." in tok:
            raise RevisionError(f"malformed --range expression {expr!r}: use A..B or B ^REF")
        elif ".." in tok:
            a, b = tok.split("..", 1)
            if ".." in b:
                raise RevisionError(f"malformed --range expression {expr!r}")
            excludes.append(a or "HEAD")
            includes.append(b or "HEAD")
        else:
            includes.append(tok)
    if not includes:
        raise RevisionError(f"--range {expr!r} names no commit to scan")
    return includes, excludes


def resolve_rev(repo: pygit2.Repository, name: str) -> bytes:
    """The commit `name` names: libgit2's revparse, or keysweep's own reading when the repository
    holds damaged loose objects (libgit2 would spin forever on one of them)."""
    if bad_objects(repo):
        return _resolve_walking(repo, name)
    if _HEX.match(name):
        try:
            obj = repo.revparse_single(name)
        except (KeyError, ValueError, pygit2.GitError):
            raise ScanError(f"commit {name} is not in this clone; {FETCH_HINT}") from None
    else:
        base = re.split(r"[~^@]", name, maxsplit=1)[0]
        if not base or base.startswith("-") or not pygit2.reference_is_valid_name("refs/heads/" + base):
            raise RevisionError(f"malformed revision {name!r}")
        try:
            obj = repo.revparse_single(name)
        except (KeyError, ValueError, pygit2.GitError):
            if base != name or base == "HEAD":
                # walk the `~N`/`^N` steps here: past the root is an unknown revision (exit 2),
                # into a shallow clone's boundary the history that was not fetched (exit 3)
                return _resolve_walking(repo, name)
            raise RevisionError(f"unknown revision {name!r}") from None
    try:
        commit = obj.peel(pygit2.Commit)
    except (pygit2.GitError, ValueError, KeyError, TypeError):
        raise RevisionError(f"revision {name!r} does not name a commit") from None
    return bytes(commit.id.raw)


_REV = re.compile(r"^([^~^]*)((?:~[0-9]*|\^[0-9]*|\^\{(?:commit)?\})*)$")
_OP = re.compile(r"~[0-9]*|\^[0-9]*|\^\{(?:commit)?\}")
_DWIM = ("{}", "refs/{}", "refs/tags/{}", "refs/heads/{}", "refs/remotes/{}", "refs/remotes/{}/HEAD")


def _resolve_walking(repo: pygit2.Repository, name: str) -> bytes:
    """`base` followed by `~N`, `^N`, `^{commit}`, with every object read through `read_raw`
    (libgit2 would spin on a damaged loose object, and does not tell a root from a shallow
    boundary)."""
    m = _REV.match(name)
    base = m.group(1) if m else ""
    if m is None or not base or base.startswith("-"):
        raise RevisionError(f"malformed revision {name!r}")
    oid = _base_oid(repo, base, name)

    def read(oid: bytes) -> tuple[int, bytes]:
        try:
            return read_raw(repo, oid)
        except KeyError:
            raise ScanError(f"{name}: object {oid.hex()} is not in this clone; {FETCH_HINT}") from None
        except (pygit2.GitError, ValueError, OSError):
            raise ScanError(f"{name}: object {oid.hex()} is damaged (corrupt-object)") from None

    otype, data = read(oid)
    for _ in range(16):
        if otype != OBJ_TAG:
            break
        oid = parse_tag(data)[0].target
        otype, data = read(oid)
    if otype != OBJ_COMMIT:
        raise RevisionError(f"revision {name!r} does not name a commit")
    shallow = shallow_commits(repo)
    for op in _OP.findall(m.group(2)):
        if op.startswith("^{"):
            continue
        steps, nth = (int(op[1:] or 1), 1) if op[0] == "~" else (1, int(op[1:] or 1))
        for _ in range(steps if nth else 0):
            try:
                parents = parse_commit(data)[0].parents
            except (KeyError, ValueError, IndexError):
                raise ScanError(f"{name}: commit {oid.hex()} is damaged (corrupt-object)") from None
            if oid in shallow:
                raise ScanError(
                    f"{name} lies beyond the shallow clone's boundary at {oid.hex()}; {FETCH_HINT}"
                )
            if len(parents) < nth:
                raise RevisionError(
                    f"unknown revision {name!r}: commit {oid.hex()} has "
                    + ("no parent (the root of the history)" if not parents else f"{len(parents)} parent(s)")
                )
            oid = parents[nth - 1]
            _, data = read(oid)
    return oid


def _base_oid(repo: pygit2.Repository, base: str, name: str) -> bytes:
    if base == "HEAD":
        head = head_commit(repo)
        if head is None:
            raise RevisionError(f"unknown revision {name!r} (HEAD is unborn)")
        return head
    if _HEX.match(base):
        if len(base) == 40:
            return bytes.fromhex(base)
        low = base.lower()
        if any(b.hex().startswith(low) for b in bad_objects(repo)):
            raise ScanError(f"{name}: object {base} is damaged (corrupt-object)")
        try:
            return bytes(repo.revparse_single(base).id.raw)
        except (KeyError, ValueError, pygit2.GitError):
            raise ScanError(f"commit {base} is not in this clone; {FETCH_HINT}") from None
    if not pygit2.reference_is_valid_name("refs/heads/" + base):
        raise RevisionError(f"malformed revision {name!r}")
    for pattern in _DWIM:
        try:
            ref = repo.references.get(pattern.format(base))
            if ref is not None:
                return bytes(getattr(ref.resolve().target, "raw", b""))
        except (pygit2.GitError, KeyError, ValueError, AttributeError):
            continue
    raise RevisionError(f"unknown revision {name!r}")
