#!/usr/bin/env python3
"""Draws the app icon (src-tauri/icons/icon.png): a white house on a blue rounded square, as an
RGBA PNG written with the standard library only. Run again to regenerate."""
import struct
import zlib
from pathlib import Path

SIZE = 256
BLUE = (11, 92, 173, 255)
WHITE = (255, 255, 255, 255)
CLEAR = (0, 0, 0, 0)


def inside_rounded_square(x, y, radius=48):
    cx = min(max(x, radius), SIZE - 1 - radius)
    cy = min(max(y, radius), SIZE - 1 - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2


def pixel(x, y):
    if not inside_rounded_square(x, y):
        return CLEAR
    # Roof: a triangle; walls: a rectangle; a door cut out of them.
    roof = 60 <= y <= 120 and abs(x - 128) <= (y - 60) * 1.4
    walls = 120 <= y <= 200 and 70 <= x <= 186
    door = 150 <= y <= 200 and 112 <= x <= 144
    if (roof or walls) and not door:
        return WHITE
    return BLUE


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(SIZE)) for y in range(SIZE))
png = (
    b"\x89PNG\r\n\x1a\n"
    + chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
    + chunk(b"IDAT", zlib.compress(rows, 9))
    + chunk(b"IEND", b"")
)
out = Path(__file__).resolve().parent.parent / "src-tauri" / "icons" / "icon.png"
out.write_bytes(png)
print(f"wrote {out} ({len(png)} bytes)")
