"""Canvas-like digits: MNIST test digits re-drawn the way people draw on a 280x280 canvas.

Each digit is thinned to its strokes (skeleton), then redrawn with a round pen of random width,
at a random size and position, in either polarity, sometimes on a transparent background (as
the drawable canvas returns it). Writers and shapes come from the MNIST test set, which the
default model never trained on; the rendering is what a canvas does to them.
"""

import numpy as np
from PIL import Image, ImageDraw
from skimage.morphology import skeletonize

CANVAS = 280


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
    ink = Image.new("L", (CANVAS, CANVAS), 0)
    draw = ImageDraw.Draw(ink)
    r = pen / 2
    for y, x in scaled:
        draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    ink = np.asarray(ink)
    style = rng.choice(["white-on-black", "black-on-white", "transparent"])
    if style == "white-on-black":
        image = ink
    elif style == "black-on-white":
        image = 255 - ink
    else:
        image = np.zeros((CANVAS, CANVAS, 4), np.uint8)
        image[..., 3] = ink
    return image, dict(style=str(style), pen=round(float(pen), 1), height=round(float(target)))


def canvas_digits(x: np.ndarray, y: np.ndarray, count: int, seed: int = 0):
    """`count` (image, label, style) triples from a seeded sample of (x, y)."""
    rng = np.random.default_rng(seed)
    for index in rng.choice(len(x), count, replace=False):
        image, style = render(x[index], rng)
        yield image, int(y[index]), style
