"""The worker pool (scanner/sources/pool.py): workers' methods are named by the methods themselves
(mypy checks their arguments and results), never by strings looked up on the worker."""

from __future__ import annotations

import pytest

from scanner.errors import ScanError
from scanner.sources.pool import Lane, Pool


class Counter:
    """A tiny worker: its number, and what it was built from."""

    def __init__(self, base: int, lane: Lane) -> None:
        self.base = base
        self.index = lane.index

    def add(self, n: int, times: int) -> int:
        return self.base + self.index + n * times

    def square(self, n: int) -> tuple[int, int]:
        return n, n * n

    def fail(self) -> None:
        raise ValueError("broken on purpose")


def make_counter(base: int, lane: Lane) -> Counter:
    return Counter(base, lane)


def test_call_runs_the_method_on_every_worker_in_order() -> None:
    with Pool(make_counter, 100, 3) as pool:
        got: list[int] = pool.call(Counter.add, 2, 5)
        assert got == [110, 111, 112]
        sent = pool.send(Counter.add, 1, 1)
        assert sent.collect() == [101, 102, 103]


def test_map_yields_every_item_in_order() -> None:
    with Pool(make_counter, 0, 2) as pool:
        assert list(pool.map(Counter.square, list(range(25)))) == [(n, n * n) for n in range(25)]
        assert list(pool.map(Counter.square, [])) == []


def test_a_failing_method_is_a_scan_error_naming_it() -> None:
    with Pool(make_counter, 0, 2) as pool, pytest.raises(ScanError, match="broken on purpose"):
        pool.call(Counter.fail)
