"""Tiny real PNG images for the sample shops, drawn from a name so they are deterministic.

Each product gets a 48×48 picture (a coloured tile with a lighter band): enough for a
crawler to fetch a real ``image/png`` and for the portal to show a thumbnail, and small
enough (≈ 120 bytes) to generate for every product at start-up.
"""

from __future__ import annotations

import colorsys
import hashlib
import struct
import zlib

SIZE = 48


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _colour(seed: bytes, lightness: float) -> bytes:
    hue = seed[0] / 255
    r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.45 + seed[1] / 255 * 0.3)
    return bytes((round(r * 255), round(g * 255), round(b * 255)))


def placeholder_png(name: str, size: int = SIZE) -> bytes:
    """A ``size``×``size`` RGB PNG whose colours depend only on ``name``."""
    seed = hashlib.sha1(name.encode("utf-8")).digest()
    dark, light = _colour(seed, 0.42), _colour(seed[2:], 0.78)
    band = range(size // 3, 2 * size // 3)
    rows = b"".join(b"\x00" + (light * size if y in band else dark * size) for y in range(size))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows, 9)) + _chunk(b"IEND", b"")
    )
