"""The secret-only filters: the run detector agrees with the plain loop it replaced (kept here as
the reference), on random bodies with alphabet and keyboard runs planted in them."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.detect.filters import _SEQUENCES, _sequential, looks_fake


def reference(body: str) -> bool:
    low = body.lower()
    if any(low[i : i + 10] in seq for seq in _SEQUENCES for i in range(max(1, len(low) - 9))):
        return True
    return any(low[i : i + 8] in seq for seq in _SEQUENCES for i in range(0, max(1, len(low) - 7), 4)) and (
        len(set(low)) < len(low) * 0.6
    )


def test_sequential_matches_the_reference_loop() -> None:
    r = random.Random(15)
    alpha = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF"
    planted = 0
    for _ in range(20000):
        size = r.randint(8, 60)
        body = "".join(r.choice(alpha[: r.randint(3, len(alpha))]) for _ in range(size))
        if r.random() < 0.5:
            seq = r.choice(_SEQUENCES)
            k = r.randint(6, min(12, len(seq)))
            i, j = r.randint(0, len(seq) - k), r.randint(0, size)
            body = body[:j] + seq[i : i + k] + body[j:]
            planted += 1
        assert _sequential(body) == reference(body), body
    assert planted > 5000


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789QWERTY", min_size=8, max_size=40))
def test_sequential_matches_the_reference_on_any_text(body: str) -> None:
    assert _sequential(body) == reference(body)


def test_runs_are_fake_and_random_bodies_are_not() -> None:
    assert looks_fake("sk" + "abcdefghijkl" + "Zq81", 0.0)
    assert looks_fake("0123456789" + "aZ", 0.0)
    assert not looks_fake("q8Zr1Lx0Pw7Ns4Kd2Hv9", 3.0)
