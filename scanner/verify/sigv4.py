"""AWS Signature Version 4, for the one signed call keysweep makes: STS GetCallerIdentity.

Written out (about forty lines of the documented algorithm) rather than pulling in botocore, a
large dependency for a single request. The secret access key only ever enters an HMAC; what
leaves is the key ID (in the credential scope, as every AWS request carries it) and a signature.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote, urlsplit


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    key_id: str,
    secret: str,
    when: datetime,
    region: str = "us-east-1",
    service: str = "sts",
) -> dict[str, str]:
    """The headers to send (given ones, `host`, `x-amz-date`, `authorization`), signed.

    `headers` must not hold `host`: it is taken from `url`, the host actually addressed."""
    parts = urlsplit(url)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    out = {k.lower(): " ".join(v.split()) for k, v in headers.items()}
    out["host"] = parts.netloc
    out["x-amz-date"] = amz_date
    names = sorted(out)
    query = "&".join(
        sorted(
            f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}"
            for k, _, v in (p.partition("=") for p in parts.query.split("&") if p)
        )
    )
    canonical = "\n".join(
        (
            method,
            quote(parts.path or "/", safe="/-_.~"),
            query,
            "".join(f"{n}:{out[n]}\n" for n in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(("AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()))
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={key_id}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out
