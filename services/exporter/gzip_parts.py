"""gzip of the exposition's parts, each part compressed once.

Prometheus asks for gzip. A national scrape is ~22 MB of text, and compressing it whole cost
as much as the rest of a warm scrape, whatever changed. The text comes in parts (one per unit
family, text.py) that stay the same bytes objects until their lines change, so each part's
compressed form is kept while its part comes back, and a scrape compresses only what changed.

Each part is compressed on its own as raw deflate ending in a full flush (byte-aligned, no
reference back into another part), so the segments concatenate into one deflate stream; one
gzip member (RFC 1952) wraps them: the header, the segments, an empty final block, the CRC-32
of the whole text (combined from the parts' CRCs as zlib's ``crc32_combine`` does) and its
length modulo 2**32. Any gzip reader decodes it as one stream.
"""
from __future__ import annotations

import struct
import zlib

LEVEL = 1  # a national scrape is ~22 MB of text; higher levels cost seconds for little
HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x04\xff"  # deflate, no name, no mtime, fastest, unknown OS
_FINAL = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS).flush()  # an empty last block

_POLY = 0xEDB88320  # CRC-32, reflected


def _multmodp(a: int, b: int) -> int:
    """a * b modulo the CRC-32 polynomial (a != 0), as zlib's multmodp."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if a & (m - 1) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]  # x^(2^n) modulo the polynomial, n = 0..31
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def crc32_shift(length: int) -> int:
    """x^(8 * length) modulo the polynomial: what appending ``length`` bytes does to a CRC."""
    p, k, n = 1 << 31, 3, length  # x^0; bytes are 2^3 bits
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, length2: int, shift: int | None = None) -> int:
    """The CRC-32 of A + B from crc1 = crc32(A), crc2 = crc32(B) and len(B) (``shift``:
    ``crc32_shift(length2)``, when known)."""
    if not crc1:
        return crc2
    return _multmodp(crc32_shift(length2) if shift is None else shift, crc1) ^ crc2


def _segment(part: bytes) -> bytes:
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(part) + compressor.flush(zlib.Z_FULL_FLUSH)


class GzipParts:
    """Compresses a list of parts into one gzip stream, keeping each part's compressed segment
    while the same part (the same bytes object) comes back. Safe to share between the server's
    threads: the memo is replaced, never changed in place (two scrapes at once may both
    compress a part)."""

    def __init__(self) -> None:
        # id(part) -> (part, its segment, its CRC-32, crc32_shift(len(part)))
        self._memo: dict[int, tuple[bytes, bytes, int, int]] = {}

    def compress(self, parts: list[bytes]) -> list[bytes]:
        """The gzip stream of ``b"".join(parts)``, as parts to write one after the other."""
        memo, kept = self._memo, {}
        out, crc, length = [HEADER], 0, 0
        for part in parts:
            if not part:
                continue
            found = memo.get(id(part))
            if found is None or found[0] is not part:
                found = (part, _segment(part), zlib.crc32(part), crc32_shift(len(part)))
            kept[id(part)] = found
            out.append(found[1])
            crc = crc32_combine(crc, found[2], len(part), found[3])
            length += len(part)
        self._memo = kept
        out += [_FINAL, struct.pack("<II", crc, length & 0xFFFFFFFF)]
        return out
