"""Canvas-like digits: MNIST test digits re-drawn the way people draw on a 280x280 canvas.

Each digit is thinned to its strokes (skeleton), then redrawn with a round pen of random width,
at a random size and position, in either polarity, sometimes on a transparent background (as
the drawable canvas returns it). Writers and shapes come from the MNIST test set, which the
default model never trained on; the rendering is what a canvas does to them.
"""

import numpy as np
from PIL import Image
from skimage.morphology import skeletonize

from mnist_core.reading.preprocess import ink_map
from mnist_core.training.strokes import CANVAS, as_canvas_image, draw_strokes, ellipse


def _strokes(digit: np.ndarray) -> np.ndarray:
    """Skeleton pixel coordinates (row, col) of a 28x28 digit, at 8x resolution."""
    big = np.asarray(Image.fromarray(digit).resize((224, 224), Image.Resampling.BILINEAR)) > 100
    return np.argwhere(skeletonize(big)).astype(np.float32)


def render(digit: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, dict]:
    points = _strokes(digit)
    top, left = points.min(axis=0)
    height = max(1.0, np.ptp(points[:, 0]))
    target = rng.uniform(90, 250)  # digit height on the canvas, px
    pen = rng.uniform(max(6, target / 22), min(40, target / 5))  # people use fat pens on small digits too
    scale = target / height
    scaled = (points - [top, left]) * scale
    margin = pen / 2 + 2
    span = scaled.max(axis=0)
    offset = [rng.uniform(margin, max(margin, CANVAS - margin - span[i])) for i in (0, 1)]
    scaled += offset
    ink = draw_strokes([[(x, y)] for y, x in scaled], pen)
    style = rng.choice(["white-on-black", "black-on-white", "transparent"])
    image = as_canvas_image(ink, str(style))
    return image, dict(style=str(style), pen=round(float(pen), 1), height=round(float(target)))


# Styles people draw that MNIST scans rarely show, as strokes in a unit box (x right, y down).
STYLES = {
    "0 with a slash": (0, [ellipse(0.5, 0.5, 0.3, 0.45), [(0.75, 0.1), (0.25, 0.9)]]),
    "0 with a long slash": (0, [ellipse(0.5, 0.5, 0.25, 0.4), [(0.85, -0.1), (0.15, 1.1)]]),
    "1 with flag and base": (1, [[(0.3, 0.25), (0.5, 0.03), (0.5, 0.97)], [(0.28, 0.97), (0.72, 0.97)]]),
    "1 with a long flag": (1, [[(0.15, 0.35), (0.55, 0.03), (0.55, 0.97)]]),
    "7 with a crossbar": (7, [[(0.15, 0.05), (0.85, 0.05), (0.4, 0.97)], [(0.35, 0.52), (0.75, 0.52)]]),
    "open 4": (4, [[(0.2, 0.03), (0.15, 0.6), (0.85, 0.6)], [(0.65, 0.2), (0.65, 0.97)]]),
    "4 in two strokes apart": (4, [[(0.35, 0.03), (0.05, 0.6), (0.6, 0.6)], [(0.8, 0.1), (0.78, 0.97)]]),
    "closed 4": (4, [[(0.65, 0.03), (0.1, 0.65), (0.9, 0.65)], [(0.65, 0.03), (0.65, 0.97)]]),
    "9 with a straight stem": (9, [ellipse(0.5, 0.28, 0.3, 0.25), [(0.8, 0.28), (0.8, 0.97)]]),
}


def styled_digit(style: str, rng: np.random.Generator) -> np.ndarray:
    """One drawing of `style` with random slant, aspect, size, position and pen, white on black."""
    _, strokes = STYLES[style]
    height = rng.uniform(100, 220)
    width = height * rng.uniform(0.55, 0.8)
    slant, angle = rng.uniform(-0.25, 0.15), rng.uniform(-0.15, 0.15)
    pen = rng.uniform(max(8, height / 18), min(28, height / 6))
    x0 = rng.uniform(pen + width / 2, CANVAS - pen - width / 2)
    y0 = rng.uniform(pen + height / 2, CANVAS - pen - height / 2)
    placed = []
    for stroke in strokes:
        points = []
        for x, y in stroke:
            x, y = (x - 0.5) * width - slant * (y - 0.5) * height, (y - 0.5) * height
            points.append((x0 + x * np.cos(angle) - y * np.sin(angle), y0 + x * np.sin(angle) + y * np.cos(angle)))
        placed.append(points)
    return draw_strokes(placed, pen)


def plain_resize(image: np.ndarray) -> np.ndarray:
    """The baseline many MNIST demos use: the whole canvas resized to 28x28, no centring or scaling."""
    ink = ink_map(image)
    return np.asarray(Image.fromarray(ink, mode="F").resize((28, 28), Image.Resampling.BILINEAR))


def canvas_digits(x: np.ndarray, y: np.ndarray, count: int, seed: int = 0):
    """`count` (image, label, style) triples from a seeded sample of (x, y)."""
    rng = np.random.default_rng(seed)
    for index in rng.choice(len(x), count, replace=False):
        image, style = render(x[index], rng)
        yield image, int(y[index]), style
