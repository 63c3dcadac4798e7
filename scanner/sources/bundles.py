"""Client bundles (ARCHITECTURE.md §4 "Working tree", §6): which files are built output a browser
is served, so that a secret in them is publicly exposed (`client-bundle`, severity critical).

A place is judged by its path and, for scripts, by its content (scanner/detect/bundle.py):

- **client output folders** of the frameworks (`.next/static`, `out/`, `dist/`, `build/static`,
  `build/client`, `.output/public`, `.svelte-kit/output/client`, `public/build`, `_expo/static`,
  Angular's `dist/<app>/browser`, Gatsby's `public/`, `--bundles` dirs), at any depth (monorepos):
  scripts, source maps and the HTML, JSON and text pages served as they are;
- **anywhere**: `*.min.js`, hashed chunk names (`main.3f2a1c9b.js`, `index-BxY7kz1Q.js`), and
  scripts whose content says a bundler built them (runtime, chunk loader, very long lines, a
  `sourceMappingURL` comment);
- **never**: server output (`.next/server`, `dist/server`, `dist/<app>/server`, `.output/server`,
  `build/server`, `.svelte-kit/output/server`), and scripts that import Node built-ins unless a
  framework's static folder or a browser chunk loader says otherwise — those keep the ordinary
  exposure of where they sit.

The enrich stage marks the places of the other sources this way (scanner/enrich/bundles.py,
reading a matched blob or file once more); `BundleSource` scans `--bundles` dirs the other sources do not cover (a range scan, or a
dir outside the working tree).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from scanner.detect.bundle import HEAD_BYTES, Sniff, sniff
from scanner.skips import ARCHIVE
from scanner.sources.base import Found, Place, ScanContext, SourceResult
from scanner.sources.walk import FileEntry, display_path, walk

Pattern = tuple[bytes, ...]  # directory segments; b"*" is any one segment

# framework client output: always client, whatever a script imports
STATIC_DIRS: tuple[Pattern, ...] = (
    (b".next", b"static"),
    (b"build", b"static"),
    (b"build", b"client"),
    (b"build", b"_app"),  # SvelteKit adapter-static
    (b".output", b"public"),
    (b".svelte-kit", b"output", b"client"),
    (b"public", b"build"),
    (b"_expo", b"static"),
    (b"dist", b"*", b"browser"),  # Angular 17+
    (b"dist", b"assets"),  # Vite
    (b"dist", b"_astro"),
    (b".vercel", b"output", b"static"),
    (b".nuxt", b"dist", b"client"),
)
# generic output folders: client unless a script there targets Node (a CLI's or library's dist/)
CLIENT_DIRS: tuple[Pattern, ...] = (
    *STATIC_DIRS,
    (b"out",),
    (b"dist",),
    (b"public",),  # Gatsby's output; Next.js and Vite serve it as is
    (b"storybook-static",),
)
SERVER_DIRS: tuple[Pattern, ...] = (
    (b".next", b"server"),
    (b"dist", b"server"),
    (b"dist", b"*", b"server"),  # Angular SSR
    (b".output", b"server"),
    (b"build", b"server"),
    (b".svelte-kit", b"output", b"server"),
    (b".nuxt", b"dist", b"server"),
    (b".vercel", b"output", b"functions"),
)
# ignored folders the working tree reads (client and server output alike; only client output is
# public, the rest is `local-only`)
BUILD_ROOTS: tuple[Pattern, ...] = (
    *CLIENT_DIRS,
    *SERVER_DIRS,
    (b"build",),
    (b".svelte-kit", b"output"),
)
SCRIPTS = (b".js", b".mjs", b".cjs")
SERVED_AS_IS = (b".html", b".htm", b".json", b".txt")
ARCHIVES = (b".zip", b".tar", b".tgz", b".gz", b".bz2", b".xz", b".zst", b".7z", b".rar", b".jar", b".war")
# `name.<hex hash>.js`, `name-<8 base64url>.js` (Vite, Rollup), `123.<hash>.chunk.js` (webpack)
_HEX_HASH = re.compile(rb"[.-](?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{8,32}(?:\.chunk)?\.m?js$")
_B64_HASH = re.compile(rb"-(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{8}\.m?js$")


def _occurs(dirs: Sequence[bytes], pattern: Pattern) -> bool:
    n = len(pattern)
    for i in range(len(dirs) - n + 1):
        if all(p == b"*" or p == d for p, d in zip(pattern, dirs[i : i + n], strict=True)):
            return True
    return False


def _dirs_of(path: bytes) -> list[bytes]:
    return path.split(b"/")[:-1]


def _occurs_any(path: bytes, patterns: Sequence[Pattern]) -> bool:
    dirs = _dirs_of(path)
    return any(_occurs(dirs, p) for p in patterns)


def output_parent(path: bytes) -> bytes | None:
    """The folder that holds the outermost build-output folder on `path` (`app` for
    `app/dist/assets/x.js.map`): where the bundler ran, when nothing else says. None when the
    path is under no build-output folder."""
    dirs = _dirs_of(path)
    for i in range(len(dirs)):
        if any(_occurs(dirs[i : i + len(p)], p) for p in BUILD_ROOTS):
            return b"/".join(dirs[:i])
    return None


def server_path(path: bytes) -> bool:
    """Server build output: never client, whatever the file holds."""
    return _occurs_any(path, SERVER_DIRS)


def under_any(path: bytes, prefixes: Sequence[bytes]) -> bool:
    return any(not p or path == p or path.startswith(p + b"/") for p in prefixes)


def client_dir(path: bytes, extra: Sequence[bytes] = ()) -> bool:
    """In a framework's client output folder or a `--bundles` dir."""
    return under_any(path, extra) or _occurs_any(path, CLIENT_DIRS)


def hashed_chunk(path: bytes) -> bool:
    """A content-hashed chunk name, or a minified file: bundler output by name."""
    name = path.rsplit(b"/", 1)[-1]
    return name.endswith((b".min.js", b".min.mjs")) or bool(_HEX_HASH.search(name) or _B64_HASH.search(name))


def _ext(path: bytes) -> bytes:
    name = path.rsplit(b"/", 1)[-1].lower()
    dot = name.rfind(b".")
    return name[dot:] if dot > 0 else b""


def is_archive(path: bytes) -> bool:
    return path.lower().endswith(ARCHIVES)


def is_client(
    path: bytes, content: Callable[[], Sniff], extra: Sequence[bytes] = (), context: bytes = b""
) -> bool:
    """Whether the file at `path` is client output; `content` sniffs it, called only for scripts
    (and files of unknown kind in a `--bundles` dir). `context` is where the scan root sits in
    its project (`dist`, `.next`: see `root_context`), so that the folders above the root judge a
    path as they would from the project's root."""
    where = _join(context, path)
    if server_path(where):
        return False
    ext = _ext(path)
    in_client = under_any(path, extra) or _occurs_any(where, CLIENT_DIRS)
    if ext == b".map":
        return in_client
    if ext in SCRIPTS:
        s = content()
        if s.node and not (s.browser or _occurs_any(where, STATIC_DIRS)):
            return False
        return in_client or hashed_chunk(path) or s.bundle
    if ext in SERVED_AS_IS:
        return in_client
    if ext == b"" and under_any(path, extra):  # a --bundles dir: scripts by content (§4)
        s = content()
        return s.script and not s.node
    return False


def build_output(path: bytes, extra: Sequence[bytes] = ()) -> bool:
    """An ignored file the working tree reads: under a build-output folder, or minified."""
    return hashed_chunk(path) or under_any(path, extra) or _occurs_any(path, BUILD_ROOTS)


def roots_in(ignored_dir: bytes, extra: Sequence[bytes] = ()) -> list[bytes]:
    """The folders of an ignored directory that hold build output: the directory itself when it is
    (or is inside) a build-output folder, else the build-output folders a pattern names below it
    (`.next/` → `.next/static`, `.next/server`), else none (`.next/cache` is never read)."""
    segs = ignored_dir.split(b"/")
    if under_any(ignored_dir, extra) or any(_occurs(segs, p) for p in BUILD_ROOTS):
        return [ignored_dir]
    out = {e for e in extra if e.startswith(ignored_dir + b"/")}
    for p in BUILD_ROOTS:
        for k in range(1, len(p)):
            if len(segs) >= k and all(a == b"*" or a == b for a, b in zip(p[:k], segs[-k:], strict=True)):
                rest = p[k:]
                if b"*" not in rest:
                    out.add(b"/".join([ignored_dir, *rest]))
    # a folder that is itself a root (`.next/static`) makes its deeper patterns redundant
    return sorted(d for d in out if not any(d.startswith(o + b"/") for o in out))


PROJECT_MARKERS = (".git", "package.json")
_MAX_CLIMB = 12


def project_root(start: str | os.PathLike[str]) -> str | None:
    """The nearest folder at or above `start` that is a project's root (a repository or a
    `package.json`), or None."""
    d = os.path.realpath(start)
    for _ in range(_MAX_CLIMB):
        if any(os.path.lexists(os.path.join(d, m)) for m in PROJECT_MARKERS):
            return d
        up = os.path.dirname(d)
        if up == d:
            return None
        d = up
    return None


def root_context(root: str | os.PathLike[str]) -> bytes:
    """Where a scanned directory sits in its project, as the path segments a build-output judgement
    needs (`dist`, `.next`, `.next/static`, `apps/web/dist`), so that `keysweep scan dist` judges
    `dist/assets/x.js.map` as `keysweep scan .` does. The project is the nearest repository or
    `package.json` folder above; with neither, the root's own trailing segments count only when
    they begin a build-output folder (`dist`, `dist/assets`, `.next`), never a folder that merely
    sits somewhere under one (`~/public/project`)."""
    real = os.path.realpath(root)
    project = project_root(real)
    if project is not None:
        rel = os.path.relpath(real, project)
        return b"" if rel == "." else os.fsencode(rel)
    segs = os.fsencode(real).strip(b"/").split(b"/")
    for i in range(max(0, len(segs) - 3), len(segs)):
        tail = segs[i:]
        if any(_begins(tail, p) for p in (*BUILD_ROOTS, *SERVER_DIRS)):
            return b"/".join(tail)
    return b""


def _begins(tail: Sequence[bytes], pattern: Pattern) -> bool:
    """`tail` is the start of `pattern` (`.next` of `.next/server`, `dist/app` of `dist/*/browser`)."""
    return len(tail) <= len(pattern) and all(p == b"*" or p == t for p, t in zip(pattern, tail, strict=False))


# ----------------------------------------------------------------------------------------------
# reading a place's content again, to sniff it


def sniff_file(abspath: bytes) -> Sniff:
    """The verdict on a file on disk from its head and tail (never followed through a symlink)."""
    try:
        fd = os.open(abspath, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return Sniff()
    try:
        with os.fdopen(fd, "rb") as f:
            head = f.read(HEAD_BYTES)
            size = os.fstat(f.fileno()).st_size
            if size <= HEAD_BYTES:
                return sniff(head)
            f.seek(size - 4096)
            return sniff(head + b"\n" + f.read(4096))
    except OSError:
        return Sniff()


def file_place(rel: bytes, abspath: bytes, extra: Sequence[bytes], *, local: bool, untracked: bool) -> Place:
    """The place of a working-tree file: a bundle when it is client output (`bundle` source when
    git does not track it: build output), else local-only (ignored) or the working tree."""
    if is_client(rel, lambda: sniff_file(abspath), extra):
        return Place("bundle" if local or untracked else "worktree", rel, bundle=True)
    return Place("worktree", rel, local_only=local)


# ----------------------------------------------------------------------------------------------
# --bundles DIR


@dataclass(frozen=True, slots=True)
class BundleDir:
    """A `--bundles` dir: where it is on disk and the path its files are reported under."""

    abspath: bytes
    label: bytes  # relative to the repository (or the scanned directory) when inside it


def bundle_dirs(
    given: Sequence[str | os.PathLike[str]], base: str | os.PathLike[str] | None
) -> list[BundleDir]:
    """The `--bundles` dirs, labelled relative to `base` when inside it, else as given."""
    out: list[BundleDir] = []
    root = os.path.realpath(base) if base is not None else None
    for d in given:
        real = os.path.realpath(d)
        if root is not None and (real == root or real.startswith(root.rstrip("/") + "/")):
            label = os.path.relpath(real, root)
            label = "" if label == "." else label
        else:
            label = os.path.normpath(os.fspath(d)).lstrip("/")
        out.append(BundleDir(os.fsencode(real), os.fsencode(label)))
    return out


def split_dirs(
    dirs: Sequence[BundleDir], base: str | os.PathLike[str] | None
) -> tuple[tuple[bytes, ...], tuple[BundleDir, ...]]:
    """(labels of the dirs inside `base`, which the other sources cover there; the dirs outside)."""
    if base is None:
        return (), tuple(dirs)
    root = os.path.realpath(base).rstrip("/") + "/"
    ins = [d for d in dirs if (os.fsdecode(d.abspath) + "/").startswith(root)]
    return tuple(d.label for d in ins), tuple(d for d in dirs if d not in ins)


class BundleSource:
    """Every file of the given `--bundles` dirs, whether git tracks it or not (a range scan reads
    no working tree otherwise; a dir outside the repository is nobody else's)."""

    def __init__(self, dirs: Sequence[BundleDir]) -> None:
        self.dirs = tuple(dirs)

    def scan(self, ctx: ScanContext) -> SourceResult:
        from scanner.sources.directory import scan_entries

        res = SourceResult()
        entries: list[FileEntry] = []
        for d in self.dirs:
            w = walk(d.abspath)
            for s in w.skips:
                res.skip(s.reason, _join(d.label, os.fsencode(s.example)).decode("utf-8", "replace"))
            for f in w.files:
                rel = _join(d.label, f.rel)
                if is_archive(rel):
                    res.skip(ARCHIVE, display_path(rel)[0])
                    continue
                entries.append(FileEntry(rel, f.abspath, f.size))
        labels = tuple(d.label for d in self.dirs)
        by_rel = {e.rel: e for e in entries}  # nested dirs name a file once
        for fr in scan_entries(ctx, list(by_rel.values())):
            if res.counted(fr.skip, fr.size) and fr.hits:
                if is_client(fr.rel, partial(sniff_file, by_rel[fr.rel].abspath), labels):
                    place = Place("bundle", fr.rel, bundle=True)
                else:
                    place = Place("bundle", fr.rel, local_only=True)
                res.founds.append(Found(fr.hits, [place]))
        res.sources = {"bundle": res.files}
        return res


def _join(label: bytes, rel: bytes) -> bytes:
    return label + b"/" + rel if label else rel
