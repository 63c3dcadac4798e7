"""Source maps written by hand: VLQ-encoded mappings from absolute segments."""

from __future__ import annotations

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def vlq(value: int) -> str:
    """One base64 VLQ number, as source maps write them."""
    v = (-value << 1) | 1 if value < 0 else value << 1
    out = ""
    while True:
        digit = v & 31
        v >>= 5
        out += B64[digit | (32 if v else 0)]
        if not v:
            return out


def encode(lines: list[list[tuple[int, ...]]]) -> str:
    """Mappings from absolute segments (gen col[, src, line, col[, name]]) per generated line."""
    prev = [0, 0, 0, 0]
    out = []
    for segs in lines:
        gcol = 0
        parts = []
        for seg in segs:
            s = vlq(seg[0] - gcol)
            gcol = seg[0]
            for i, v in enumerate(seg[1:]):
                s += vlq(v - prev[i])
                prev[i] = v
            parts.append(s)
        out.append(",".join(parts))
    return ";".join(out)
