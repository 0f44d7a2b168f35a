"""Draw the neutral app icons (no text, no symbol of any treatment) as PNG.

Run once by hand; the PNGs are committed. Pure standard library.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

BRAND = (0x1F, 0x5F, 0x5B)
WHITE = (0xFF, 0xFF, 0xFF)


def _png(size: int, pixels: list[bytes]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + row for row in pixels)
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def draw(size: int, safe_zone: float) -> bytes:
    """A brand-coloured square with a white ring and dot: two paths that meet."""
    centre = size / 2
    outer = size * safe_zone * 0.5
    inner = outer * 0.72
    dot = outer * 0.28
    rows = []
    for y in range(size):
        row = bytearray()
        for x in range(size):
            d = ((x + 0.5 - centre) ** 2 + (y + 0.5 - centre) ** 2) ** 0.5
            on = inner <= d <= outer or d <= dot
            row.extend(WHITE if on else BRAND)
        rows.append(bytes(row))
    return _png(size, rows)


if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "pwa" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    (out / "icon-192.png").write_bytes(draw(192, 0.8))
    (out / "icon-512.png").write_bytes(draw(512, 0.8))
    # Maskable icons keep their content inside the central 80 % safe zone.
    (out / "icon-maskable-512.png").write_bytes(draw(512, 0.6))
