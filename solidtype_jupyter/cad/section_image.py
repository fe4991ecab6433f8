"""A PNG of a plane section, seen along the plane's normal (x right, y up).

Drawn here with the standard library (scanline fill, zlib) rather than VTK: a section is
flat, so a 2-D drawing says everything, needs no OpenGL/EGL, and never waits for the render
lock the 3-D pictures share.
"""

from __future__ import annotations

import itertools
import math
import struct
import zlib
from collections.abc import Sequence

import cadquery as cq

BACKGROUND = (255, 255, 255)
FILL = (120, 160, 210)
OUTLINE = (20, 40, 80)
MARGIN = 0.06  # of the picture, on every side
MAX_POINTS_PER_EDGE = 96

Point = tuple[float, float]


def _polylines(faces: Sequence[cq.Face], plane: cq.Plane, step: float) -> list[list[Point]]:
    """Every edge of the faces as a polyline in plane coordinates, about `step` mm apart."""
    lines: list[list[Point]] = []
    for face in faces:
        for edge in face.Edges():
            if edge.geomType() == "LINE":
                count = 1
            else:
                count = max(8, min(MAX_POINTS_PER_EDGE, math.ceil(edge.Length() / step)))
            points = edge.positions([i / count for i in range(count + 1)])
            local = [p.transform(plane.fG) for p in points]  # plane coordinates
            lines.append([(p.x, p.y) for p in local])
    return lines


def section_png(faces: Sequence[cq.Face], plane: cq.Plane, width: int, height: int) -> bytes:
    """The faces filled (holes left open) and outlined, scaled to fit the picture."""
    if not faces:
        raise ValueError("an empty section has no picture")
    flat = cq.Compound.makeCompound(list(faces)).transformShape(plane.fG).BoundingBox()
    span = max(flat.xlen, flat.ylen, 1e-9)
    usable_w, usable_h = width * (1 - 2 * MARGIN), height * (1 - 2 * MARGIN)
    scale = min(usable_w / max(flat.xlen, span * 1e-3), usable_h / max(flat.ylen, span * 1e-3))
    ox = (width - flat.xlen * scale) / 2 - flat.xmin * scale
    oy = (height - flat.ylen * scale) / 2 - flat.ymin * scale

    def to_pixels(p: Point) -> Point:
        return ox + p[0] * scale, height - (oy + p[1] * scale)  # y up

    lines = [[to_pixels(p) for p in line] for line in _polylines(faces, plane, 2 / scale)]
    pixels = [bytearray(bytes(BACKGROUND) * width) for _ in range(height)]
    _fill(pixels, lines, width, height)
    for line in lines:
        for a, b in itertools.pairwise(line):
            _stroke(pixels, a, b, width, height)
    return _png(pixels, width, height)


def _fill(pixels: list[bytearray], lines: list[list[Point]], width: int, height: int) -> None:
    """Even-odd fill: rows sample at pixel centres, each boundary segment crossing a row
    once (half-open in y, so shared end points are not counted twice)."""
    crossings: list[list[float]] = [[] for _ in range(height)]
    for line in lines:
        for (x0, y0), (x1, y1) in itertools.pairwise(line):
            if y0 == y1:
                continue
            low, high = min(y0, y1), max(y0, y1)
            first = max(0, math.ceil(low - 0.5))
            last = min(height - 1, math.ceil(high - 0.5) - 1)
            for row in range(first, last + 1):
                y = row + 0.5
                crossings[row].append(x0 + (y - y0) * (x1 - x0) / (y1 - y0))
    fill = bytes(FILL)
    for row, xs in enumerate(crossings):
        xs.sort()
        for start, end in zip(xs[::2], xs[1::2], strict=False):
            a = max(0, math.ceil(start - 0.5))
            b = min(width - 1, math.ceil(end - 0.5) - 1)
            if b >= a:
                pixels[row][3 * a : 3 * (b + 1)] = fill * (b - a + 1)


def _stroke(pixels: list[bytearray], a: Point, b: Point, width: int, height: int) -> None:
    steps = max(1, math.ceil(max(abs(b[0] - a[0]), abs(b[1] - a[1]))))
    colour = bytes(OUTLINE)
    for i in range(steps + 1):
        x = int(a[0] + (b[0] - a[0]) * i / steps)
        y = int(a[1] + (b[1] - a[1]) * i / steps)
        if 0 <= x < width and 0 <= y < height:
            pixels[y][3 * x : 3 * x + 3] = colour


def _png(pixels: list[bytearray], width: int, height: int) -> bytes:
    raw = b"".join(b"\x00" + bytes(row) for row in pixels)  # filter type 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 6))
        + chunk(b"IEND", b"")
    )
