"""Payloads a hostile client can send: small to send, huge once decoded."""

import base64
import functools
import struct
import zlib


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def blank_png(width: int, height: int) -> bytes:
    """A valid, fully transparent RGBA PNG of any size: 9000x9000 is 81 megapixels (324 MB decoded)
    in 315 kB. Compressed a row at a time, so making it costs no memory either."""
    row, compressor = b"\0" * (1 + 4 * width), zlib.compressobj()
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()
