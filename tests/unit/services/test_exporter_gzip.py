"""The exposition gzipped part by part (services/exporter/gzip_parts.py): one gzip stream that any
reader decodes to the joined text, each part compressed once while it comes back."""
from __future__ import annotations

import gzip
import random
import zlib

from services.exporter.gzip_parts import GzipParts, crc32_combine


def test_crc32_combine_is_the_crc_of_the_concatenation():
    rng = random.Random(3)
    for size_a, size_b in ((0, 0), (0, 5), (7, 0), (1, 1), (1000, 33), (65_537, 1 << 20)):
        a, b = rng.randbytes(size_a), rng.randbytes(size_b)
        assert crc32_combine(zlib.crc32(a), zlib.crc32(b), len(b)) == zlib.crc32(a + b), (size_a, size_b)


def test_the_parts_gzip_to_one_stream_of_the_joined_text_and_unchanged_parts_are_not_compressed_again():
    rng = random.Random(5)
    lines = [f'casewatch_x{{municipality="{m:04d}",unit="bou-{u}"}} {rng.random()}\n'.encode()
             for m in range(300) for u in range(8)]
    parts = [b"".join(lines[i:i + 97]) for i in range(0, len(lines), 97)] + [b"", b"casewatch_redis_up 1.0\n"]
    gzipped = GzipParts()
    first = gzipped.compress(parts)
    body = b"".join(first)
    assert gzip.decompress(body) == b"".join(parts)
    reader = zlib.decompressobj(wbits=31)  # exactly one gzip member, nothing after it
    assert reader.decompress(body) == b"".join(parts) and reader.eof and reader.unused_data == b""
    assert len(body) < len(b"".join(parts)) / 2

    parts[3] = parts[3].replace(b"bou-1", b"bou-9")  # one part changes
    second = gzipped.compress(parts)
    assert gzip.decompress(b"".join(second)) == b"".join(parts)
    # header, then a segment per non-empty part: only the changed part's segment is new
    kept = [old is new for old, new in zip(first[1:-2], second[1:-2])]
    assert kept.count(False) == 1 and not kept[3]
    assert gzip.decompress(b"".join(gzipped.compress([]))) == b""


def test_small_parts_are_written_together_and_large_ones_as_they_are():
    from services.exporter.server import coalesced

    large = b"x" * 100
    parts = [b"a" * 10, b"b" * 30, b"c" * 20, b"d" * 40, large, b"e" * 5, b"f"]
    written = coalesced(parts, at_least=50)
    assert written == [b"a" * 10 + b"b" * 30 + b"c" * 20, b"d" * 40, large, b"e" * 5 + b"f"]
    assert written[2] is large
