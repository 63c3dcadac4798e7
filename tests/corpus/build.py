#!/usr/bin/env python3
"""Build the labelled corpus: real package files + planted keys + decoys, and its labels.

    python tests/corpus/build.py OUT [--seed N] [--per-row K] [--packages NAME ...] [--cache DIR]

OUT/tree/      the corpus to scan: the unpacked packages of the cache (hard-linked where unchanged),
               with fake keys planted in realistic contexts and dedicated decoy files
OUT/labels.json  planted keys (file, line span, expected rule id, sha256 of the secret — never the
               secret), decoy files, the seed and the key-formats rows used

Keys are generated at run time from tests/data/key-formats.csv (prefix, alphabet, length), not from
the rule templates; formats with a checksum or an inner structure (GitHub/npm CRC, GitLab routable,
Azure CASK, Bedrock, PEM, JWT, PyPI macaroon…) use the generators of scanner/rules/templates.py and
the checksum helpers of scanner/detect/checksums.py. Nothing printed holds a secret.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1]))

from corpuslib import (  # noqa: E402
    KEY_FORMATS,
    TRIAGE,
    Package,
    cache_dir,
    load_packages,
    sha256_text,
    unpacked,
)
from decoys import SAID_FAKE, decoy_lines  # noqa: E402
from formats import (  # noqa: E402
    MULTILINE,
    NEEDS_KEYWORD,
    Format,
    generate,
    load_formats,
    rand_text,
    var_name,
)

from scanner.rules.templates import ALPHABETS  # noqa: E402

# ---------------------------------------------------------------------------------------------
# the tree


@dataclass(slots=True)
class Plant:
    fmt: Format
    secret: str
    context: str
    multiline: bool = False
    file: str = ""
    line: int = 0
    end_line: int = 0


@dataclass(slots=True)
class Tree:
    root: Path
    pkgs: dict[str, Path] = field(default_factory=dict)  # slug -> package root inside the tree
    written: set[str] = field(default_factory=set)

    def rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()


def _link_tree(src: Path, dst: Path) -> None:
    """Mirror src into dst with hard links (copies across filesystems); symlinks are dropped."""
    for d, _dirs, files in os.walk(src):
        out = dst / Path(d).relative_to(src)
        out.mkdir(parents=True, exist_ok=True)
        for name in files:
            s = Path(d) / name
            if s.is_symlink() or name == ".fetched":
                continue
            try:
                os.link(s, out / name)
            except OSError:
                shutil.copy2(s, out / name)


def _rewrite(path: Path, lines: list[str]) -> None:
    """Write a modified copy (never through the hard link to the cache)."""
    tmp = path.with_name(path.name + ".ks-tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, path)


def _read_lines(path: Path) -> list[str] | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return None
    if "\r" in text:
        return None
    return text.splitlines(keepends=True)


def _pkg_root(base: Path) -> Path:
    """The package's own dir: sdists/npm tarballs hold one top-level dir."""
    kids = [p for p in base.iterdir() if p.is_dir()]
    files = [p for p in base.iterdir() if p.is_file()]
    return kids[0] if len(kids) == 1 and not files else base


def _candidates(tree: Tree, slug: str, pred: Callable[[Path], bool], skip: set[str]) -> list[Path]:
    out = []
    for d, dirs, files in os.walk(tree.pkgs[slug]):
        dirs.sort()
        for name in sorted(files):
            p = Path(d) / name
            rel = tree.rel(p)
            if rel in skip or rel in tree.written or not pred(p):
                continue
            try:
                if not (200 <= p.stat().st_size <= 2_000_000):
                    continue
            except OSError:
                continue
            out.append(p)
    return out


def _is_test(p: Path) -> bool:
    return any(part in ("tests", "test", "__tests__", "testing") for part in p.parts) or p.name.startswith(
        "test_"
    )


def _pyfile(p: Path) -> bool:
    return p.suffix == ".py" and not _is_test(p)


def _pytest(p: Path) -> bool:
    return p.suffix == ".py" and _is_test(p)


def _jsfile(p: Path) -> bool:
    return p.suffix in (".js", ".mjs", ".cjs")


def _mdfile(p: Path) -> bool:
    return p.suffix in (".md", ".rst")


# contexts: how a key is written; (secret, var) -> text lines relative to insertion point
def _quote_py(s: str) -> str:
    return json.dumps(s)


class Planter:
    """Places plants in the tree and records their line spans."""

    def __init__(self, tree: Tree, r: random.Random, skip: set[str]) -> None:
        self.tree, self.r, self.skip = tree, r, skip
        self.new_files: dict[str, list[tuple[list[str], Plant | None]]] = {}

    # new files: accumulate blocks, written at the end
    def add_block(self, rel: str, block: list[str], plant: Plant | None) -> None:
        self.new_files.setdefault(rel, []).append((block, plant))

    def flush(self) -> None:
        for rel, blocks in self.new_files.items():
            path = self.tree.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            lines: list[str] = []
            for block, plant in blocks:
                if plant is not None:
                    first = _first_line_of(block, plant.secret)
                    plant.file, plant.line = rel, len(lines) + first
                    plant.end_line = plant.line + _span(plant) - 1
                lines += [b if b.endswith("\n") else b + "\n" for b in block]
            if path.exists():
                path.unlink()
            path.write_text("".join(lines), encoding="utf-8")
            self.tree.written.add(rel)

    # existing files: insert now
    def insert(self, path: Path, block: list[str], plant: Plant, where: Callable[[list[str]], int]) -> bool:
        lines = _read_lines(path)
        if not lines:
            return False
        at = where(lines)
        if at < 0:
            return False
        block = [b if b.endswith("\n") else b + "\n" for b in block]
        if at > 0 and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        lines[at:at] = block
        _rewrite(path, lines)
        rel = self.tree.rel(path)
        self.tree.written.add(rel)
        plant.file = rel
        plant.line = at + _first_line_of(block, plant.secret)
        plant.end_line = plant.line + _span(plant) - 1
        return True

    def splice(self, path: Path, snippet: str, plant: Plant) -> bool:
        """Put `snippet` inside the longest line of a (minified) JS file, at a statement boundary."""
        lines = _read_lines(path)
        if not lines:
            return False
        i = max(range(len(lines)), key=lambda k: len(lines[k]))
        line = lines[i]
        cuts = [m.end() for m in re.finditer(r"[;,]", line)] or [len(line.rstrip("\n"))]
        cut = self.r.choice(cuts[:2000])
        lines[i] = line[:cut] + snippet + line[cut:]
        _rewrite(path, lines)
        rel = self.tree.rel(path)
        self.tree.written.add(rel)
        plant.file, plant.line, plant.end_line = rel, i + 1, i + 1
        return True


def _first_line_of(block: list[str], secret: str) -> int:
    head = secret.splitlines()[0] if secret else secret
    probe = head[:40]
    for n, b in enumerate(block, 1):
        if probe in b or json.dumps(head)[1:41] in b:
            return n
    raise AssertionError("planted secret not in its block")


def _span(plant: Plant) -> int:
    return len(plant.secret.splitlines()) if plant.multiline else 1


def _toplevel_slot(lines: list[str], r: random.Random) -> int:
    """A line index before a top-level def/class/assignment (valid Python stays valid)."""
    slots = [
        i
        for i, ln in enumerate(lines)
        if i > 0
        and re.match(r"(def |class |[A-Z_]+ = |import |from )", ln)
        and not lines[i - 1].rstrip().endswith(("\\", ",", "("))
    ]
    return r.choice(slots) if slots else len(lines)


def _md_slot(lines: list[str], r: random.Random) -> int:
    slots = [
        i
        for i, ln in enumerate(lines)
        if i > 0 and ln.strip() == "" and not lines[i - 1].startswith(("```", "    "))
    ]
    return r.choice(slots) + 1 if slots else len(lines)


CONTEXTS_SINGLE = ["dotenv", "python", "json", "yaml", "minjs", "pytest", "markdown", "ts-test"]
# a prefix-less key handed to its provider's client (the rule's context model: docs/rules-notes.md)
CONTEXTS_SDK = ["sdk-python", "sdk-js", *CONTEXTS_SINGLE]


def _client_names() -> dict[str, tuple[str, str]]:
    """rule id -> (client call, Python import line) for rules with a context model."""
    from scanner.rules import load_rules

    out = {}
    for rule in load_rules():
        if not rule.slot_pattern or not (rule.callees or rule.clients):
            continue
        call = rule.callees[0].capitalize() if rule.callees else rule.clients[0]
        mods = [m for m in rule.imports if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", m)]
        imp = f"import {mods[0]}" if mods else ""
        out[rule.id] = (call, imp)
    return out


SDK_CLIENTS = _client_names()


def _plant_sdk(pl: Planter, slug: str, plant: Plant, ctx: str) -> bool:
    """`Client(api_key="…")` in a real Python module, or `new Client({apiKey: "…"})` in real JS."""
    r, tree = pl.r, pl.tree
    call, imp = SDK_CLIENTS[plant.fmt.rule_id]
    if ctx == "sdk-python":
        cands = _candidates(tree, slug, _pyfile, pl.skip)
        if not cands:
            return False
        lines = [
            *([imp] if imp else []),
            f"_client = {call}(api_key={_quote_py(plant.secret)}, timeout=30)",
            "",
        ]
        return pl.insert(r.choice(cands), lines, plant, lambda ls: _toplevel_slot(ls, r))
    cands = _candidates(tree, slug, _jsfile, pl.skip)
    if not cands:
        return False
    block = [f'const client = new {call}({{ apiKey: "{plant.secret}", maxRetries: 2 }});']
    return pl.insert(r.choice(cands), block, plant, lambda ls: 0 if not ls[0].startswith("#!") else 1)


CONTEXTS_MULTI = ["pemfile", "json-escaped", "yaml-block"]


def plant_one(pl: Planter, slug: str, plant: Plant, pkgname: str) -> bool:
    r, tree = pl.r, pl.tree
    s, var, ctx = plant.secret, var_name(plant.fmt), plant.context
    base = tree.rel(tree.pkgs[slug])
    generic_ok = bool(plant.fmt.prefix) and plant.fmt.rule_id not in NEEDS_KEYWORD
    camel = "apiKey" if generic_ok else var
    if plant.fmt.rule_id == "gcp.service-account-key":
        if ctx == "pemfile":
            plant.multiline = True
            pl.add_block(f"{base}/config/{pkgname}-prod-sa.json", s.splitlines(), plant)
        else:
            pl.add_block(f"{base}/deploy/.env.gcp", [f"{var}='{json.dumps(json.loads(s))}'"], plant)
        return True
    if plant.fmt.rule_id in MULTILINE:
        if ctx in ("pemfile", "yaml-block"):
            plant.multiline = True
        if ctx == "pemfile":
            name = (
                "id_ed25519"
                if "OPENSSH" in s[:40]
                else r.choice(["server.key", "signing-key.pem", "tls.key"])
            )
            pl.add_block(f"{base}/deploy/secrets/{r.randrange(10**6)}-{name}", s.splitlines(), plant)
        elif ctx == "json-escaped":
            body = json.dumps(
                {"service": pkgname, "tls": {"cert_file": "/etc/ssl/cert.pem", "private_key": s + "\n"}},
                indent=2,
            )
            pl.add_block(f"{base}/config/tls-{r.randrange(10**6)}.json", body.splitlines(), plant)
        else:
            lines = [
                "apiVersion: v1",
                "kind: ConfigMap",
                "metadata:",
                f"  name: {pkgname}-tls",
                "data:",
                "  tls.key: |",
            ]
            lines += ["    " + ln for ln in s.splitlines()]
            pl.add_block(f"{base}/deploy/k8s/tls-{r.randrange(10**6)}.yaml", lines, plant)
        return True
    if ctx == "dotenv":
        name = r.choice([".env", ".env.local", ".env.production", "deploy/.env"])
        q = r.choice(["", '"', "'"])
        extra = [f"# {pkgname} settings", "DEBUG=false", f"PORT={r.randint(3000, 9000)}"]
        if plant.fmt.provider == "azure":
            extra.append(
                f"AZURE_OPENAI_ENDPOINT=https://{rand_text(r, ALPHABETS['lower'], 8)}.openai.azure.com/"
            )
        pl.add_block(f"{base}/{name}", [*extra, f"{var}={q}{s}{q}", ""], plant)
        return True
    if ctx == "json":
        doc = {
            "name": pkgname,
            "environment": r.choice(["production", "staging"]),
            "env": {var: s, "LOG_LEVEL": "info"},
            "timeout": 30,
        }
        if plant.fmt.provider == "azure":
            doc["endpoint"] = f"https://{rand_text(r, ALPHABETS['lower'], 8)}.openai.azure.com/"
        pl.add_block(
            f"{base}/config/settings.{r.randrange(10**6)}.json", json.dumps(doc, indent=2).splitlines(), plant
        )
        return True
    if ctx == "yaml":
        q = r.choice(["", '"'])
        lines = [
            "apiVersion: apps/v1",
            "kind: Deployment",
            "metadata:",
            f"  name: {pkgname}-worker",
            "spec:",
            "  template:",
            "    spec:",
            "      containers:",
            "        - name: app",
            "          env:",
            f"            - name: {var}",
            f"              value: {q}{s}{q}",
        ]
        pl.add_block(f"{base}/deploy/values-{r.randrange(10**6)}.yaml", lines, plant)
        return True
    if ctx in ("python", "pytest"):
        cands = _candidates(tree, slug, _pyfile if ctx == "python" else _pytest, pl.skip)
        if not cands:
            return False
        path = r.choice(cands)
        if generic_ok and r.random() < 0.5:
            stmt = f"_client_kwargs = {{{_quote_py('api_key')}: {_quote_py(s)}}}  # {plant.fmt.provider}"
        else:
            stmt = f"{var} = {_quote_py(s)}"
        if plant.fmt.provider == "azure":
            stmt = (
                f'AZURE_OPENAI_ENDPOINT = "https://{rand_text(r, ALPHABETS["lower"], 8)}.openai.azure.com/"\n'
                + stmt
            )
        return pl.insert(path, [*stmt.split("\n"), ""], plant, lambda ls: _toplevel_slot(ls, r))
    if ctx == "markdown":
        cands = _candidates(tree, slug, _mdfile, pl.skip)
        block = ["", "```bash", f"export {var}={s}", "```", ""]
        if not cands:  # every Markdown file of the package holds a plant already: a new page
            pl.add_block(f"{base}/docs/setup-{r.randrange(10**6)}.md", [f"# {pkgname} setup", *block], plant)
            return True
        return pl.insert(r.choice(cands), block, plant, lambda ls: _md_slot(ls, r))
    if ctx in ("sdk-python", "sdk-js"):
        return _plant_sdk(pl, slug, plant, ctx)
    if ctx in ("minjs", "ts-test"):
        cands = _candidates(tree, slug, _jsfile, pl.skip)
        if not cands:
            return False
        if ctx == "minjs":
            cands.sort(key=lambda p: -p.stat().st_size)
            path = r.choice(cands[:20])
            key = camel
            host = (
                f"https://{rand_text(r, ALPHABETS['lower'], 8)}.openai.azure.com"
                if plant.fmt.provider == "azure"
                else ""
            )
            snip = f'const c={{{key}:"{s}"' + (f',endpoint:"{host}"' if host else "") + "};"
            return pl.splice(path, snip, plant)
        path = r.choice(cands)
        block = [f"const {var.lower()} = process.env.{var} ?? '{s}';"]
        if plant.fmt.provider == "azure":
            block.insert(
                0, f"const endpoint = 'https://{rand_text(r, ALPHABETS['lower'], 8)}.openai.azure.com';"
            )
        return pl.insert(path, block, plant, lambda ls: 0 if not ls[0].startswith("#!") else 1)
    raise ValueError(ctx)


# ---------------------------------------------------------------------------------------------


def _triaged_files() -> set[str]:
    if not TRIAGE.is_file():
        return set()
    data = json.loads(TRIAGE.read_text())
    return {loc.rpartition(":")[0] for e in data.get("entries", []) for loc in e.get("locations", [])}


def build(
    out: Path,
    seed: int,
    per_row: int,
    packages: list[Package],
    cache: Path,
    formats: list[Format],
    decoys_in: int = 3,
) -> dict[str, object]:
    r = random.Random(seed)
    tree = Tree(out / "tree")
    if out.exists():
        shutil.rmtree(out)
    tree.root.mkdir(parents=True)
    for pkg in packages:
        src = unpacked(pkg, cache)
        if src is None:
            raise SystemExit(
                f"{pkg.name} {pkg.version} is not in the cache {cache}: run tests/corpus/fetch.py"
            )
        _link_tree(src, tree.root / pkg.slug)
        tree.pkgs[pkg.slug] = _pkg_root(tree.root / pkg.slug)
    names = {p.slug: re.sub(r"[^a-z0-9]+", "-", p.name.lower()).strip("-") for p in packages}
    slugs = [p.slug for p in packages]
    pl = Planter(tree, r, _triaged_files())
    plants: list[Plant] = []
    failed: list[str] = []
    for i, fmt in enumerate(formats):
        ctxs = CONTEXTS_MULTI if fmt.rule_id in MULTILINE else CONTEXTS_SINGLE
        if fmt.rule_id in SDK_CLIENTS and not fmt.prefix:
            ctxs = CONTEXTS_SDK
        for k in range(per_row):
            secret = generate(fmt, r)
            ctx = ctxs[(i + k) % len(ctxs)]
            plant = Plant(fmt, secret, ctx)
            # find a package that offers a host for this context
            order = slugs[:]
            r.shuffle(order)
            if not any(plant_one(pl, slug, plant, names[slug]) for slug in order):
                failed.append(f"{fmt.rule_id}/{ctx}")
                continue
            plants.append(plant)
    decoys: list[dict[str, object]] = []
    dslugs = slugs[:]
    r.shuffle(dslugs)
    for j, slug in enumerate(dslugs[:decoys_in]):
        base = tree.rel(tree.pkgs[slug])
        for name, lines in decoy_lines(random.Random(f"{seed}:decoys:{j}")).items():
            rel = f"{base}/{name}"
            pl.add_block(rel, lines, None)
            decoys.append({"file": rel, "kind": name})
    for j, (rule_id, comment) in enumerate(SAID_FAKE):  # own stream: the rest of the corpus is unchanged
        fmt = next(f for f in formats if f.rule_id == rule_id)
        plant = Plant(fmt, generate(fmt, random.Random(f"{seed}:said-fake:{j}")), "said-fake")
        base = tree.rel(tree.pkgs[dslugs[j % len(dslugs)]])
        pl.add_block(
            f"{base}/tests/test_key_format.py", [f'    assert parse("{plant.secret}")  {comment}'], plant
        )
        plants.append(plant)
    pl.flush()
    labels = {
        "version": 1,
        "seed": seed,
        "per_row": per_row,
        "packages": [f"{p.ecosystem}:{p.name}=={p.version}" for p in packages],
        "planted": [
            {
                "file": p.file,
                "line": p.line,
                "end_line": p.end_line,
                "rule_id": p.fmt.rule_id,
                "provider": p.fmt.provider,
                "context": p.context,
                "secret_sha256": sha256_text(p.secret),
                "length": len(p.secret),
            }
            for p in plants
        ],
        "decoys": decoys,
        "unplaced": failed,
    }
    _verify(tree, plants)
    (out / "labels.json").write_text(json.dumps(labels, indent=1) + "\n")
    return labels


def _verify(tree: Tree, plants: list[Plant]) -> None:
    """Every plant is where its label says (first line of the secret, raw or JSON-escaped)."""
    for p in plants:
        lines = (tree.root / p.file).read_text(encoding="utf-8").splitlines()
        head = p.secret.splitlines()[0][:40]
        got = lines[p.line - 1]
        if head not in got and json.dumps(p.secret)[1:41] not in got:
            raise AssertionError(f"label off for {p.fmt.rule_id} in {p.file}:{p.line}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=20260801)
    ap.add_argument("--per-row", type=int, default=3, help="keys planted per key-formats row (default 3)")
    ap.add_argument("--packages", nargs="*", help="only these package names (default: all of packages.txt)")
    ap.add_argument("--formats", type=Path, default=KEY_FORMATS)
    ap.add_argument("--decoys-in", type=int, default=3, help="packages that get the decoy files (0: none)")
    ap.add_argument("--cache", type=Path)
    args = ap.parse_args(argv)
    pkgs = load_packages()
    if args.packages:
        pkgs = [p for p in pkgs if p.name in args.packages]
    formats = load_formats(args.formats) if args.per_row else []
    cache = (args.cache or cache_dir()).resolve()
    labels = build(args.out.resolve(), args.seed, args.per_row, pkgs, cache, formats, args.decoys_in)
    planted = labels["planted"]
    assert isinstance(planted, list)
    print(f"planted {len(planted)} keys, {len(labels['decoys'])} decoy files -> {args.out}/tree")  # type: ignore[arg-type]
    if labels["unplaced"]:
        print(f"could not place: {labels['unplaced']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
