"""Pen strokes → the picture a browser canvas makes of them.

A person on the Draw page moves a round pen over a 280x280 canvas; the app receives that
picture. Real handwriting recorded as pen trajectories (and the styles synthesised for
training) is drawn here the same way, so it can be measured, or learnt from, exactly as the
app will see it.
"""

import numpy as np
from PIL import Image, ImageDraw

CANVAS = 280

Stroke = list[tuple[float, float]]  # canvas pixels, x right, y down


def draw_strokes(strokes: list[Stroke], pen: float, size: int = CANVAS, width: int | None = None) -> np.ndarray:
    """uint8 size x size (size x width: a wide canvas), ink 255 on 0: each stroke a polyline of a round pen `pen` px wide."""
    image = Image.new("L", (width or size, size), 0)
    draw = ImageDraw.Draw(image)
    r = pen / 2
    for stroke in strokes:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) > 1:
            draw.line(points, fill=255, width=max(1, round(pen)), joint="curve")
        for x, y in (points[0], points[-1]) if len(points) > 1 else points:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return np.asarray(image)


def ellipse(cx: float, cy: float, rx: float, ry: float, start: float = 0.0, n: int = 24) -> Stroke:
    """An oval drawn as one stroke, from the angle `start` (0 = top, clockwise) all the way round."""
    t = np.linspace(start, start + 2 * np.pi, n)
    return list(zip(cx + rx * np.sin(t), cy - ry * np.cos(t)))


def place(strokes: list[Stroke], height: float, centre: tuple[float, float], y_up: bool = False) -> list[Stroke]:
    """Strokes in any coordinates scaled so their longer side is `height` px, aspect kept, centred at
    `centre`; `y_up` flips coordinates whose y axis points up (pen tablets)."""
    points = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in strokes])
    low, high = points.min(axis=0), points.max(axis=0)
    scale = height / max(high[1] - low[1], high[0] - low[0], 1e-9)
    middle = (low + high) / 2
    placed = []
    for stroke in strokes:
        xy = (np.asarray(stroke, np.float64).reshape(-1, 2) - middle) * scale
        if y_up:
            xy[:, 1] = -xy[:, 1]
        placed.append([(centre[0] + x, centre[1] + y) for x, y in xy])
    return placed


def as_canvas_image(ink: np.ndarray, polarity: str) -> np.ndarray:
    """The ink map as the canvas (or an upload) hands it over: white on black, black on white, or RGBA
    with the ink in the alpha channel (the drawable canvas's default)."""
    if polarity == "white-on-black":
        return ink
    if polarity == "black-on-white":
        return 255 - ink
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = ink
    return rgba


def random_canvas_drawing(strokes: list[Stroke], rng: np.random.Generator, y_up: bool = False) -> np.ndarray:
    """Strokes drawn as a person might on the canvas: any size from small to filling it, any place,
    a pen of any width the Draw page offers (thinner on small digits), either polarity."""
    height = rng.uniform(90, 250)
    pen = rng.uniform(max(6.0, height / 22), max(6.0, min(40.0, height / 5, CANVAS - 4 - height)))
    margin = pen / 2 + 2
    placed = place(strokes, height, (0, 0), y_up)
    points = np.concatenate([np.asarray(s) for s in placed])
    low, high = points.min(axis=0), points.max(axis=0)
    shift = [rng.uniform(margin - low[i], max(margin - low[i], CANVAS - margin - high[i])) for i in (0, 1)]
    moved = [[(x + shift[0], y + shift[1]) for x, y in s] for s in placed]
    polarity = rng.choice(["white-on-black", "black-on-white", "transparent"])
    return as_canvas_image(draw_strokes(moved, pen), str(polarity))
