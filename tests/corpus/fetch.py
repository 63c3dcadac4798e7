#!/usr/bin/env python3
"""Download the pinned corpus packages once, check their sha256 and unpack them into the cache.

    python tests/corpus/fetch.py [--cache DIR] [--only NAME ...]

Idempotent: a package whose unpacked dir carries the `.fetched` marker is skipped; an archive
already in the cache with the right digest is not downloaded again. PyPI archives come through
`pip download --no-deps` (from pypi.org only, local config ignored), npm ones through `npm pack`.
Exit 1 if any archive is missing or has the wrong digest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpuslib import MARKER, Package, cache_dir, load_packages, sha256_file


def _pip_cmd(pkg: Package, dest: Path) -> list[str]:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(dest)]
    cmd += ["--index-url", "https://pypi.org/simple", f"{pkg.name}=={pkg.version}"]
    if pkg.kind == "sdist":
        cmd += ["--no-binary", ":all:"]
    else:
        cmd += ["--only-binary", ":all:"]
        # name-ver-pytag-abi-plat.whl: ask for exactly that wheel, whatever this machine is.
        _, _, pytag, abi, plat = pkg.archive[: -len(".whl")].rsplit("-", 4)
        if plat != "any":
            cmd += ["--platform", plat, "--abi", abi, "--implementation", pytag[:2]]
            cmd += ["--python-version", pytag[2:]]
    return cmd


def _download(pkg: Package, archives: Path) -> Path:
    target = archives / pkg.archive
    if target.is_file() and sha256_file(target) == pkg.sha256:
        return target
    with tempfile.TemporaryDirectory(dir=archives) as tmp:
        t = Path(tmp)
        if pkg.ecosystem == "pypi":
            env = dict(os.environ, PIP_CONFIG_FILE=os.devnull, PIP_FIND_LINKS="", PIP_NO_INPUT="1")
            subprocess.run(_pip_cmd(pkg, t), check=True, env=env)
        elif pkg.ecosystem == "npm":
            cmd = ["npm", "pack", f"{pkg.name}@{pkg.version}", "--pack-destination", tmp, "--silent"]
            subprocess.run([*cmd, "--ignore-scripts"], check=True, stdout=subprocess.DEVNULL)
        else:
            raise SystemExit(f"unknown ecosystem {pkg.ecosystem!r}")
        got = t / pkg.archive
        if not got.is_file():
            found = [p.name for p in t.iterdir()]
            raise SystemExit(f"{pkg.name} {pkg.version}: expected {pkg.archive}, got {found}")
        digest = sha256_file(got)
        if digest != pkg.sha256:
            raise SystemExit(f"{pkg.archive}: sha256 {digest} != pinned {pkg.sha256}")
        os.replace(got, target)
    return target


def _safe_members(names: list[str]) -> None:
    for n in names:
        p = Path(n)
        if p.is_absolute() or ".." in p.parts:
            raise SystemExit(f"refusing archive member {n!r}")


def _unpack(archive: Path, dest: Path) -> None:
    if archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive) as tf:
            _safe_members(tf.getnames())
            tf.extractall(dest, filter="data")
    elif archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            _safe_members(zf.namelist())
            zf.extractall(dest)
    else:
        raise SystemExit(f"unknown archive type: {archive.name}")


def fetch(pkg: Package, cache: Path) -> str:
    dest = cache / "src" / pkg.slug
    if (dest / MARKER).is_file() and (dest / MARKER).read_text().strip() == pkg.sha256:
        return "cached"
    archives = cache / "archives"
    archives.mkdir(parents=True, exist_ok=True)
    archive = _download(pkg, archives)
    tmp = Path(tempfile.mkdtemp(dir=cache / "src", prefix=".unpack-"))
    try:
        _unpack(archive, tmp)
        (tmp / MARKER).write_text(pkg.sha256 + "\n")
        if dest.exists():
            shutil.rmtree(dest)
        os.replace(tmp, dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "fetched"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--cache", type=Path, help="cache dir (default: $KEYSWEEP_CORPUS_CACHE or ~/.cache/keysweep/corpus)"
    )
    ap.add_argument("--only", nargs="*", default=None, help="fetch only these package names")
    args = ap.parse_args(argv)
    cache = (args.cache or cache_dir()).resolve()
    (cache / "src").mkdir(parents=True, exist_ok=True)
    failed = 0
    for pkg in load_packages():
        if args.only is not None and pkg.name not in args.only:
            continue
        try:
            state = fetch(pkg, cache)
        except (subprocess.CalledProcessError, SystemExit, OSError) as e:
            failed += 1
            print(f"FAIL  {pkg.ecosystem}:{pkg.name}=={pkg.version}: {e}", file=sys.stderr)
            continue
        print(f"{state:8s}{pkg.ecosystem}:{pkg.name}=={pkg.version}")
    print(f"cache: {cache}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
