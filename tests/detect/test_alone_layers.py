"""A validator's low reason survives a text that also has decoded layers.

The companion re-check (`Matcher._paired`) runs on every text with decoded layers; it once cleared
any match's `alone`, so an expired JWT beside an unrelated escaped string lost its low reason and
was reported at the rule's full severity.
"""

from __future__ import annotations

import base64
import json
import random

import pytest

from tests.keys import matcher


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def _expired_jwt(seed: int) -> str:
    rng = random.Random(seed)
    sig = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_-") for _ in range(43))
    claims = {"sub": f"u{rng.randrange(10**6)}", "iss": "https://auth.example.org", "exp": 1000000000}
    return f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(claims)}.{sig}"


@pytest.mark.parametrize("engine", ["hyperscan", "python"])
@pytest.mark.parametrize(
    "beside", ['const s = "caf\\u00e9 \\u0041\\u0042 \\u0043\\u0044\\u0045";\n'], ids=["escapes"]
)
def test_expired_token_stays_low_beside_a_decoded_layer(engine: str, beside: str) -> None:
    tok = _expired_jwt(11)
    plain = f'headers = {{"Authorization": "Bearer {tok}"}}\n'
    m = matcher(engine)
    alone = [x for x in m.scan(plain.encode()) if x.rule_id == "jwt.token"]
    both = [x for x in m.scan((plain + beside).encode()) if x.rule_id == "jwt.token"]
    assert len(alone) == 1 and alone[0].alone and "expired" in alone[0].alone
    assert len(both) == 1
    assert both[0].alone == alone[0].alone
