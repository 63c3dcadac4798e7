"""Build git repositories in code, with fixed authors and times so object ids are stable.

Keys are generated at run time from rule templates (never written as literals anywhere).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

import pygit2

from scanner.model import Rule
from scanner.rules import load_rules
from scanner.rules.templates import expand

AUTHOR = ("Ada Builder", "ada@example.invalid")
BASE_TIME = 1_600_000_000
BLOB, EXEC, LINK, TREE = (
    pygit2.GIT_FILEMODE_BLOB,
    pygit2.GIT_FILEMODE_BLOB_EXECUTABLE,
    pygit2.GIT_FILEMODE_LINK,
    pygit2.GIT_FILEMODE_TREE,
)

Content = bytes | None


@cache
def key_rule() -> Rule:
    rules = load_rules()
    for r in rules:
        if r.id == "openai.project-key":
            return r
    return next(r for r in rules if r.examples and r.kind.value == "secret")


def make_key(seed: int) -> str:
    """A fake key (shaped like the rule's first example), reproducible from `seed`."""
    return expand(key_rule().examples[0], random.Random(seed))


def env_line(seed: int, name: str = "OPENAI_API_KEY") -> bytes:
    return f"{name}={make_key(seed)}\n".encode()


class RepoBuilder:
    """Commits built from whole-file snapshots: each commit starts from its first parent's files."""

    def __init__(self, path: Path, bare: bool = False) -> None:
        self.path = path
        self.repo = pygit2.init_repository(str(path), bare=bare, initial_head="main")
        self.tick = 0
        self.files: dict[pygit2.Oid, dict[bytes, tuple[bytes, int]]] = {}

    def _sig(self) -> pygit2.Signature:
        self.tick += 1
        return pygit2.Signature(AUTHOR[0], AUTHOR[1], BASE_TIME + 60 * self.tick, 0)

    def blob(self, data: bytes) -> pygit2.Oid:
        return self.repo.create_blob(data)

    def tree(self, files: Mapping[bytes, tuple[bytes, int]]) -> pygit2.Oid:
        return self._tree(dict(files))

    def _tree(self, files: Mapping[bytes, tuple[bytes, int]]) -> pygit2.Oid:
        here: dict[bytes, tuple[bytes, int]] = {}
        subs: dict[bytes, dict[bytes, tuple[bytes, int]]] = {}
        for p, v in files.items():
            head, sep, rest = p.partition(b"/")
            if sep:
                subs.setdefault(head, {})[rest] = v
            else:
                here[head] = v
        entries: list[tuple[bytes, int, bytes]] = []
        for name, (data, mode) in here.items():
            raw = data if mode == pygit2.GIT_FILEMODE_COMMIT else self.blob(data).raw
            entries.append((name, mode, raw))
        entries.extend((name, TREE, self._tree(sub).raw) for name, sub in subs.items())
        # git's order: names compared as if trees ended with "/"
        entries.sort(key=lambda e: e[0] + (b"/" if e[1] == TREE else b""))
        body = b"".join(b"%o %s\x00%s" % (mode, name, raw) for name, mode, raw in entries)
        return self.repo.odb.write(pygit2.GIT_OBJECT_TREE, body)

    def commit(
        self,
        changes: Mapping[str | bytes, Content | tuple[bytes, int]] | None = None,
        parents: Sequence[pygit2.Oid] | None = None,
        ref: str | None = "refs/heads/main",
        message: str = "change",
        base: pygit2.Oid | None = None,
    ) -> pygit2.Oid:
        """A commit whose files are `base` (default: first parent) with `changes` applied (None deletes)."""
        if parents is None:
            parents = []
            if ref is not None and ref in self.repo.references:
                parents = [self.repo.references[ref].resolve().target]
        start = base if base is not None else (parents[0] if parents else None)
        files = dict(self.files.get(start, {})) if start is not None else {}
        for p, v in (changes or {}).items():
            pb = p.encode("utf-8", "surrogateescape") if isinstance(p, str) else p
            if v is None:
                files.pop(pb, None)
            elif isinstance(v, tuple):
                files[pb] = v
            else:
                files[pb] = (v, BLOB)
        tree = self._tree(files)
        sig = self._sig()
        oid = self.repo.create_commit(None, sig, sig, message, tree, list(parents))
        if ref is not None:
            self.repo.references.create(ref, oid, force=True)
        self.files[oid] = files
        return oid

    def tag(self, name: str, target: pygit2.Oid, message: str = "release") -> pygit2.Oid:
        sig = self._sig()
        return self.repo.create_tag(name, target, pygit2.GIT_OBJECT_COMMIT, sig, message)

    def light_tag(self, name: str, target: pygit2.Oid) -> None:
        self.repo.references.create(f"refs/tags/{name}", target)

    def delete_ref(self, ref: str) -> None:
        self.repo.references.delete(ref)

    def set_head(self, ref: str) -> None:
        self.repo.set_head(ref)


def pack_all(repo: pygit2.Repository, skip: frozenset[pygit2.Oid] = frozenset()) -> None:
    """Write every object except `skip` to one pack and drop the loose objects."""

    def delegate(pb: pygit2.PackBuilder) -> None:
        for oid in repo.odb:
            if oid not in skip:
                pb.add(oid)

    repo.pack(pack_delegate=delegate)
    objects = Path(repo.path) / "objects"
    for fan in objects.iterdir():
        if len(fan.name) == 2 and fan.is_dir():
            for f in fan.iterdir():
                f.chmod(0o644)
                f.unlink()
            fan.rmdir()


def cache_history_repo(path: Path) -> RepoBuilder:
    """The history cache tests' repository: 13 commits on main with keys added and one removed, a
    key in a commit message, and a topic branch adding one more."""
    b = RepoBuilder(path)
    c = b.commit({"README": b"hi\n"})
    for i in range(12):
        files: dict[str | bytes, bytes | None] = {f"src/m{i % 3}/f{i}.py": b"x = %d\n" % i}
        if i % 4 == 0:
            files[f"src/m{i % 3}/k{i}.env"] = env_line(700 + i)
        if i == 6:
            files["src/m0/k0.env"] = None
        c = b.commit(files, message=f"c{i}" + (f" {make_key(720)}" if i == 5 else ""))
    b.commit({"branch.env": env_line(730)}, ref="refs/heads/topic", parents=[c])
    return b
