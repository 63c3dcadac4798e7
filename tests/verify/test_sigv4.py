"""keysweep's SigV4 signer against AWS's published signature test suite (get-vanilla and
get-vanilla-query-order-key): the example credentials are AWS's documented ones, assembled at
run time so that no key-shaped literal sits in the repository."""

from __future__ import annotations

from datetime import UTC, datetime

from scanner.verify.sigv4 import sign

KEY_ID = "AKID" + "EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY" + "EXAMPLEKEY"
WHEN = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)


def _signature(url: str) -> str:
    headers = sign("GET", url, {}, b"", KEY_ID, SECRET, WHEN, "us-east-1", "service")
    assert headers["x-amz-date"] == "20150830T123600Z"
    assert headers["authorization"].startswith(
        f"AWS4-HMAC-SHA256 Credential={KEY_ID}/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature="
    )
    assert SECRET not in str(headers)  # the secret only keys the HMAC
    return headers["authorization"].rsplit("=", 1)[1]


def test_get_vanilla() -> None:
    assert _signature("https://example.amazonaws.com/") == (
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_get_vanilla_query_order_key() -> None:
    assert _signature("https://example.amazonaws.com/?Param2=value2&Param1=value1") == (
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    )
