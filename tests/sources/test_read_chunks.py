"""How a plain-directory scan reads a file (`sources.walk.read_chunks`): whole under the cap, in
overlapping chunks above it, never through a symlink or a special file, and to its real end when
it grew after fstat."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from scanner.sources import walk
from scanner.sources.walk import read_chunks


def _bytes(n: int, seed: int = 3) -> bytes:
    return random.Random(seed).randbytes(n)


def _rebuilt(chunks: list[tuple[int, bytes]]) -> bytes:
    out = bytearray()
    for start, data in chunks:
        assert start <= len(out)  # each chunk starts at or before where the last one ended
        assert bytes(out[start:]) == data[: len(out) - start]  # the overlap is the same bytes
        out[start:] = data
    return bytes(out)


def test_small_file_is_one_read(tmp_path: Path) -> None:
    f = tmp_path / "a.env"
    f.write_bytes(body := _bytes(5000))
    assert list(read_chunks(bytes(f), cap=1 << 20)) == [(0, body)]


def test_empty_file(tmp_path: Path) -> None:
    f = tmp_path / "empty"
    f.write_bytes(b"")
    assert list(read_chunks(bytes(f), cap=1024)) == [(0, b"")]


@pytest.mark.parametrize("size", [4096, 4097, 10_000, 3 * 4096])
def test_large_file_in_overlapping_chunks(tmp_path: Path, size: int) -> None:
    f = tmp_path / "big.js"
    f.write_bytes(body := _bytes(size))
    chunks = list(read_chunks(bytes(f), cap=4096, overlap=100))
    assert all(len(d) <= 4096 + 100 for _, d in chunks)
    assert _rebuilt(chunks) == body
    assert len(chunks) == -(-size // 4096)


@pytest.mark.parametrize("grown_to", [3000, 9000])
def test_file_that_grew_after_fstat_is_read_to_its_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, grown_to: int
) -> None:
    """fstat says 1,000 bytes, the file holds more by the time it is read: nothing past the stale
    size is lost, and past the cap it comes in the same chunks as a file that was large."""
    f = tmp_path / "growing.log"
    f.write_bytes(body := _bytes(grown_to))
    real_fstat = os.fstat

    class Stale:
        def __init__(self, st: os.stat_result) -> None:
            self.st_mode, self.st_size = st.st_mode, 1000

    monkeypatch.setattr(walk.os, "fstat", lambda fd: Stale(real_fstat(fd)))
    chunks = list(read_chunks(bytes(f), cap=4096, overlap=100))
    assert _rebuilt(chunks) == body
    assert all(len(d) <= 4096 + 100 for _, d in chunks)


def test_symlink_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    target.write_bytes(b"x" * 10)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(OSError):
        list(read_chunks(bytes(link), cap=1024))


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        list(read_chunks(bytes(fifo), cap=1024))


def test_descriptor_closed_after_each_read(tmp_path: Path) -> None:
    f = tmp_path / "a"
    f.write_bytes(b"abc")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(50):
        list(read_chunks(bytes(f), cap=1024))
    gen = read_chunks(bytes(f), cap=1)  # abandoned after its first chunk
    next(gen)
    gen.close()
    assert len(os.listdir("/proc/self/fd")) == before
