"""Time and peak RSS of finding a hit's origin through a huge source map (issue 19.8).

Builds, under a scratch directory, a one-line minified bundle and its external map with N
mappings (`--mappings`, default 10^7) and sourcesContent padding up to `--mb` megabytes, then
runs `find_map` + `origin_of` for a hit at the end of the bundle's line (the worst case: every
segment before it decoded) in a fresh process and prints seconds and peak RSS. Nothing here is
committed: the files are rebuilt on each run.

    python bench/big_map.py --mb 50 ; python bench/big_map.py --mb 250
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def _vlq(n: int) -> str:
    v = (-n << 1) | 1 if n < 0 else n << 1
    out = ""
    while True:
        d = v & 31
        v >>= 5
        if v:
            out += B64[d | 32]
        else:
            return out + B64[d]


def build(where: Path, mappings: int, mb: int) -> tuple[Path, int]:
    """(bundle path, column of the last token) of a one-line bundle with `mappings` segments."""
    where.mkdir(parents=True, exist_ok=True)
    seg_gen = ",".join(
        f"{_vlq(2)}{_vlq(0)}{_vlq(1 - i % 3 if i < 999 else 0)}{_vlq(2 - i % 5)}" for i in range(1000)
    )  # 1,000 segments of 2-column tokens, source lines/columns wandering (and back)
    reps = mappings // 1000
    mapping = ",".join([seg_gen] * reps)
    pad = max(0, mb * (1 << 20) - len(mapping) - 200)
    doc = {
        "version": 3,
        "sources": ["src/a.js", "src/b.js"],
        "sourcesContent": ["x" * (pad // 2), "y" * (pad // 2)],
        "names": [],
        "mappings": mapping,
    }
    (where / "app.js.map").write_text(json.dumps(doc))
    last_col = 2 * reps * 1000 + 1  # 1-based: the last segment
    (where / "app.js").write_text("a" * (last_col + 1) + "\n//# sourceMappingURL=app.js.map\n")
    return where / "app.js", last_col


def measure(bundle: Path, col: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from scanner.model import Position
    from scanner.sources.maps import find_map, origin_of

    t0 = time.monotonic()
    js = bundle.read_bytes()
    fm = find_map(bundle.name, js, lambda p: (bundle.parent / p).read_bytes())
    assert fm is not None
    got = origin_of(fm, bundle.name, Position(1, col, 1, col + 1, col - 1))
    secs = time.monotonic() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"origin {got} in {secs:.1f} s, peak RSS {peak:.0f} MiB")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--mappings", type=int, default=10_000_000)
    p.add_argument("--mb", type=int, default=50)
    p.add_argument("--dir", type=Path, default=Path("/tmp/keysweep-bench-map"))
    p.add_argument("--measure", nargs=2)
    a = p.parse_args()
    if a.measure:
        measure(Path(a.measure[0]), int(a.measure[1]))
        return
    bundle, col = build(a.dir / f"{a.mb}mb", a.mappings, a.mb)
    size = (bundle.parent / "app.js.map").stat().st_size
    print(f"map {size / (1 << 20):.0f} MiB, {a.mappings} mappings on one line")
    subprocess.run([sys.executable, __file__, "--measure", str(bundle), str(col)], check=True)


if __name__ == "__main__":
    main()
