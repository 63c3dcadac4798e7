"""The one worker pool every source uses: forked processes that each build one worker object.

A pool forks N processes; each builds its worker once from a top-level factory and a spec that it
inherits (nothing is pickled on the way in), then runs the worker's methods on request:
`call` runs a method on every worker (the full sweep asks each worker in turn about the trees
only it has read), `map` hands items out to whichever worker is free and yields the results in
item order (the directory and tree scans). A method is named by the method itself
(`pool.call(SweepWorker.parents, frontier)`), so mypy checks its arguments and result against the
worker's class; it crosses the pipe as a reference (module and qualified name), never as a string
looked up on the worker. Workers take work from shared counters (`Lane.claim`),
so none waits on a slow one. Errors in a worker come back as ScanError with its traceback; a
worker that dies is a ScanError too, never a hang.

multiprocessing is imported only when a pool starts (a range scan never pays for it).
"""

from __future__ import annotations

import gc
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

from scanner import watchdog
from scanner.errors import ScanError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

Tick = Callable[[str, int, int], None]  # (phase, count, bytes): progress from a worker
COUNTERS = 3  # shared claim counters per pool: 0 and 1 for the caller's passes, 2 for `map`
MAP_COUNTER = 2

W = TypeVar("W")
S = TypeVar("S")
R = TypeVar("R")
T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Lane:
    """What a worker gets from its pool: its number, a progress channel and the shared counters."""

    index: int
    tick: Tick
    claim: Callable[[int], int] | None = None  # next free item of counter k; None: in-process, no sharing


def _no_tick(phase: str, count: int, nbytes: int) -> None:
    return None


def local_lane(tick: Tick = _no_tick) -> Lane:
    """The lane of a worker that runs in this process (no pool)."""
    return Lane(0, tick, None)


@dataclass(frozen=True, slots=True)
class _Call:
    """Run `op(worker, *args)` once."""

    op: Callable[..., Any]
    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Map:
    """Run `op(worker, item)` on the next unclaimed items."""

    op: Callable[[Any, Any], Any]
    items: list[Any]


def _child(conn: Connection, index: int, spec: Any, make: Callable[[Any, Lane], Any], counters: Any) -> None:
    """A worker process's loop (forked: `spec`, `make` and the counters are inherited, not pickled)."""

    def claim(k: int) -> int:
        counter = counters[k]
        with counter.get_lock():
            got = int(counter.value)
            counter.value = got + 1
        return got

    def tick(phase: str, count: int, nbytes: int) -> None:
        conn.send(("tick", phase, count, nbytes))

    gc.disable()  # a worker lives for one scan: no cyclic collection at all (scanner/gcpause.py)
    try:
        worker = make(spec, Lane(index, tick, claim))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises ScanError
        conn.send(("error", traceback.format_exc()))
        return
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        try:
            if isinstance(msg, _Map):
                while (k := claim(MAP_COUNTER)) < len(msg.items):
                    conn.send(("item", k, msg.op(worker, msg.items[k])))
                result = None
            else:
                result = msg.op(worker, *msg.args)
        except BaseException:  # noqa: BLE001
            conn.send(("error", traceback.format_exc()))
            continue
        conn.send(("done", result))


class Sent(Generic[R]):
    """Work started on every worker by `Pool.send`: `collect()` waits for the results."""

    def __init__(self, pool: Pool[Any, Any]) -> None:
        self.pool = pool

    def collect(self) -> list[R]:
        """The results in worker order."""
        results = {k: value for k, kind, value in self.pool._messages() if kind == "done"}
        return [results[k] for k in range(len(self.pool.conns))]


class Pool(Generic[S, W]):
    """N forked workers built by `make(spec, lane)`; see the module docstring."""

    def __init__(self, make: Callable[[S, Lane], W], spec: S, workers: int, on_tick: Tick = _no_tick) -> None:
        from multiprocessing import get_context  # imported when workers are started (start-up)

        ctx = get_context("fork")
        self.conns: list[Connection] = []
        self.procs: list[Any] = []
        self.on_tick = on_tick
        self.counters = tuple(ctx.Value("q", 0) for _ in range(COUNTERS))
        try:
            for index in range(workers):
                parent, child = ctx.Pipe()
                p = ctx.Process(target=_child, args=(child, index, spec, make, self.counters), daemon=True)
                p.start()
                child.close()
                self.conns.append(parent)
                self.procs.append(p)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Pool[S, W]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reset(self, counter: int) -> None:
        with self.counters[counter].get_lock():
            self.counters[counter].value = 0

    def call(self, op: Callable[Concatenate[W, P], R], *args: P.args, **kwargs: P.kwargs) -> list[R]:
        """`op(worker, *args)` on every worker; the results in worker order."""
        return self.send(op, *args, **kwargs).collect()

    def send(self, op: Callable[Concatenate[W, P], R], *args: P.args, **kwargs: P.kwargs) -> Sent[R]:
        """Start `op(worker, *args)` on every worker (collect the results later)."""
        assert not kwargs, "a worker method takes positional arguments only"
        for c in self.conns:
            c.send(_Call(op, args))
        return Sent(self)

    def map(self, op: Callable[[W, T], R], items: Sequence[T]) -> Iterator[R]:
        """`op(worker, item)` for every item, each on the next free worker, yielded in order."""
        if not items:
            return
        self.reset(MAP_COUNTER)
        for c in self.conns:
            c.send(_Map(op, list(items)))
        ready: dict[int, R] = {}
        nxt = 0
        for _k, kind, value in self._messages():
            if kind != "item":
                continue
            k, result = value
            ready[k] = result
            while nxt in ready:
                yield ready.pop(nxt)
                nxt += 1
        while nxt in ready:
            yield ready.pop(nxt)
            nxt += 1

    def _messages(self) -> Iterator[tuple[int, str, Any]]:
        """(worker, kind, value) until every worker has said "done"; ticks go to `on_tick`."""
        from multiprocessing.connection import wait

        pending = {c: k for k, c in enumerate(self.conns)}
        while pending:
            for ready in wait(list(pending)):
                c = _conn(ready)
                try:
                    msg = c.recv()
                except EOFError:
                    raise ScanError("a worker process died (out of memory?)") from None
                watchdog.beat()
                if msg[0] == "tick":
                    self.on_tick(msg[1], msg[2], msg[3])
                elif msg[0] == "error":
                    raise ScanError(f"a worker process failed:\n{msg[1]}")
                elif msg[0] == "item":
                    yield pending[c], "item", (msg[1], msg[2])
                else:
                    yield pending.pop(c), "done", msg[1]

    def close(self) -> None:
        for c in self.conns:
            try:
                c.send(None)
                c.close()
            except OSError:
                pass
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join()
        self.conns, self.procs = [], []


def _conn(ready: object) -> Connection:
    from multiprocessing.connection import Connection

    assert isinstance(ready, Connection)
    return ready
