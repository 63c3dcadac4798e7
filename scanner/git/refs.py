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
            head = head_commit(repo) if base == "HEAD" else None
            if head is not None:
                rest = name[len(base) :]
                try:
                    obj = repo.revparse_single(head.hex() + rest)
                except (KeyError, ValueError, pygit2.GitError):
                    raise ScanError(f"{name} lies beyond this clone's history; {FETCH_HINT}") from None
                return bytes(obj.peel(pygit2.Commit).id.raw)
            if base != name and repo.is_shallow:
                try:
                    repo.revparse_single(base)
                except (KeyError, ValueError, pygit2.GitError):
                    pass
                else:
                    raise ScanError(
                        f"{name} lies beyond the shallow clone's boundary; {FETCH_HINT}"
                    ) from None
            raise RevisionError(f"unknown revision {name!r}") from None
    try:
        commit = obj.peel(pygit2.Commit)
    except (pygit2.GitError, ValueError, KeyError, TypeError):
        raise RevisionError(f"revision {name!r} does not name a commit") from None
    return bytes(commit.id.raw)
