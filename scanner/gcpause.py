"""A full sweep builds millions of small acyclic objects (ids by kind, commit headers, subtree
link lists): the cyclic garbage collector's repeated full passes over them cost ~5 % of a
tree-heavy sweep and, in forked workers, unshare memory pages they only read. It is paused while
the sweep runs. (A directory scan showed no gain: it is left alone.)"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic collection inside the block (processes forked there inherit the pause)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
