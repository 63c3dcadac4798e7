"""Directory scanning on real files: exclusions, hostile input, chunking, exact positions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.config import ScanConfig
from scanner.model import Report
from scanner.pipeline import scan
from tests.keys import make_key, matcher, rules

ENGINES = ["hyperscan", "python"]


def _scan(root: Path, engine: str = "hyperscan", **kw: object) -> Report:
    config = ScanConfig(target=root, jobs=kw.pop("jobs", 1), engine=engine, **kw)  # type: ignore[arg-type]
    return scan(config, rules(), matcher(engine))


def _where(report: Report) -> list[tuple[str, int, int, int, int]]:
    return sorted(
        (loc.path, loc.position.line, loc.position.column, loc.position.end_line, loc.position.end_column)
        for f in report.findings
        for loc in f.locations
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_finds_keys_at_exact_positions(tmp_path: Path, engine: str) -> None:
    k1, k2 = make_key(seed=1), make_key(seed=2)
    (tmp_path / ".env").write_text(f"# settings\nOPENAI_API_KEY={k1}\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(f'x = 1\r\n\r\nclient = OpenAI(api_key="{k2}")\r\n')
    rep = _scan(tmp_path, engine)
    assert _where(rep) == [
        (".env", 2, 16, 2, 16 + len(k1)),
        ("src/app.py", 3, 26, 3, 26 + len(k2)),
    ]
    assert rep.stats.files == 2
    assert rep.stats.complete and rep.status == "ok"
    assert {f.rule_id for f in rep.findings} == {"openai.project-key"}


def test_same_secret_in_two_files_is_one_finding(tmp_path: Path) -> None:
    k = make_key(seed=3)
    (tmp_path / "a.env").write_text(f"K={k}\n")
    (tmp_path / "b.env").write_text(f"\n\nK={k}\n")
    rep = _scan(tmp_path)
    assert len(rep.findings) == 1
    assert rep.findings[0].locations_total == 2
    assert [loc.path for loc in rep.findings[0].locations] == ["a.env", "b.env"]


def test_excluded_dirs_are_not_scanned_but_counted(tmp_path: Path) -> None:
    k = make_key(seed=4)
    for d in (".git", "node_modules/pkg", "venv"):
        (tmp_path / d).mkdir(parents=True)
        (tmp_path / d / "leak.txt").write_text(k)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "myenv").mkdir()
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "myenv" / "leak.txt").write_text(k)
    (tmp_path / "ok.txt").write_text("nothing here\n")
    rep = _scan(tmp_path)
    assert rep.findings == ()
    assert rep.stats.files == 1
    assert rep.stats.skipped["excluded"] == 4
    assert rep.stats.complete


def test_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.env").write_text(f"K={make_key(seed=5)}\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "loop").symlink_to(root)
    (root / "out").symlink_to(outside)
    (root / "file-link").symlink_to(outside / "secret.env")
    rep = _scan(root)
    assert rep.findings == ()
    assert rep.stats.skipped["symlink"] == 3
    assert sorted(rep.stats.skipped_examples["symlink"]) == ["file-link", "loop", "out"]


@pytest.mark.parametrize("engine", ENGINES)
def test_binary_utf16_and_invalid_utf8(tmp_path: Path, engine: str) -> None:
    k1, k2, k3 = make_key(seed=6), make_key(seed=7), make_key(seed=8)
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01\x02" * 100 + b"\x00" + k1.encode() + b"\x00\xff" * 50)
    (tmp_path / "win.txt").write_bytes(f"line one\r\nkey = {k2}\r\n".encode("utf-16"))
    (tmp_path / "latin.txt").write_bytes(b"caf\xe9 \xff\xfe = " + k3.encode() + b"\n")
    rep = _scan(tmp_path, engine)
    got = {
        loc.path: (loc.position.line, loc.position.column, loc.encoding)
        for f in rep.findings
        for loc in f.locations
    }
    assert got["blob.bin"] == (1, 302, None)
    # UTF-16: positions in the decoded text; 'key = ' is 6 code units
    assert got["win.txt"] == (2, 7, "utf-16")
    # each undecodable byte counts as one column: 'caf' \xe9 ' ' \xff \xfe ' = ' is 10 units
    assert got["latin.txt"] == (1, 11, None)


@pytest.mark.parametrize("engine", ENGINES)
def test_chunked_scan_across_boundaries(tmp_path: Path, engine: str) -> None:
    """Above the size cap a file is scanned in overlapping chunks; positions stay file-absolute."""
    k1, k2 = make_key(seed=9), make_key(seed=10)
    cap = 4096
    head = ("abc\n" * 1000)[: cap - 100]  # the first key straddles the first chunk boundary
    line1 = head.count("\n") + 1
    body = head + "X" * 9 + " " + k1 + "\n" + ("y" * 70 + "\n") * 200 + "z" * 4999 + "=" + k2 + "\n"
    (tmp_path / "big.txt").write_text(body)
    rep = _scan(tmp_path, engine, size_cap=cap)
    assert _where(rep) == sorted(
        [
            (
                "big.txt",
                line1,
                11 + len(head) - head.rfind("\n") - 1,
                line1,
                11 + len(head) - head.rfind("\n") - 1 + len(k1),
            ),
            ("big.txt", line1 + 201, 5001, line1 + 201, 5001 + len(k2)),
        ]
    )


def test_sparse_500mb_file_is_scanned_in_chunks(tmp_path: Path) -> None:
    k = make_key(seed=11)
    big = tmp_path / "huge.img"
    with open(big, "wb") as f:
        f.seek(500 * 1024 * 1024)
        f.write(b"\nTOKEN=" + k.encode() + b"\n")
    (tmp_path / "small.txt").write_text("fine\n")
    rep = _scan(tmp_path)
    assert _where(rep) == [("huge.img", 2, 7, 2, 7 + len(k))]
    assert rep.stats.files == 2
    assert rep.stats.bytes_scanned > 500 * 1024 * 1024


def test_hostile_file_names(tmp_path: Path) -> None:
    k = make_key(seed=12)
    name = b"evil\n::error::pwned \xff.env"
    with open(os.path.join(os.fsencode(tmp_path), name), "wb") as f:
        f.write(f"K={k}\n".encode())
    rep = _scan(tmp_path)
    [loc] = [loc for f in rep.findings for loc in f.locations]
    assert loc.path == "evil\n::error::pwned \ufffd.env"
    assert loc.path_bytes is not None
    import base64

    assert base64.b64decode(loc.path_bytes) == name


DROP_DAC = "-dac_override,-dac_read_search"


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to drop privileges")
def test_unreadable_directory_is_skipped_and_reported(tmp_path: Path) -> None:
    """Without the capabilities that bypass permissions, a 0700 directory of another user is
    skipped and counted, and the scan finishes (CI runs as root, so privileges are dropped)."""
    root = tmp_path / "tree"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "k.env").write_text(f"K={make_key(seed=13)}\n")
    (root / "open.env").write_text(f"K={make_key(seed=14)}\n")
    os.chown(root / "locked", 65534, 65534)
    os.chmod(root / "locked", 0o700)
    out = tmp_path / "r.json"
    proc = subprocess.run(
        [
            "setpriv",
            f"--bounding-set={DROP_DAC}",
            f"--inh-caps={DROP_DAC}",
            sys.executable,
            "-m",
            "scanner",
            "scan",
            str(root),
            "--json",
            str(out),
            "--fail-on",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    import json

    rep = json.loads(out.read_text())
    assert rep["status"] == "incomplete"
    assert rep["stats"]["complete"] is False
    assert rep["stats"]["skipped"]["unreadable"]["count"] == 1
    assert [f["locations"][0]["path"] for f in rep["findings"]] == ["open.env"]


def test_parallel_scan_equals_serial(tmp_path: Path) -> None:
    """Above the parallel threshold files are split across processes; findings must not change."""
    import random

    r = random.Random(7)
    filler = "".join(r.choice("abcdefghij klmnop\n") for _ in range(200_000))
    for i in range(60):
        body = filler
        if i % 7 == 0:
            body += f"\nKEY={make_key(seed=200 + i)}\n"
        if i % 13 == 0:
            body += f"\nKEY={make_key(seed=300)}\n"  # the same secret in several files
        (tmp_path / f"f{i:02}.txt").write_text(body)
    serial = _scan(tmp_path, jobs=1)
    parallel = _scan(tmp_path, jobs=2)
    assert serial.stats.bytes_scanned > 8 * 1024 * 1024
    assert len(serial.findings) == 10
    assert serial.findings == parallel.findings
