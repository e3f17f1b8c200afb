"""Handwriting styles MNIST almost never shows, synthesised as extra training images.

People write zeros with a slash through them (Ø), ones with a flag and a base, sevens with a
crossbar, fours in two strokes or open at the top, nines with a straight stem. MNIST's writers
rarely did, so a network trained on MNIST alone reads a slashed zero as an 8 and a flagged one
as a 7. Zeros, ones and sevens here are MNIST training digits with the missing stroke added at
canvas scale; fours and nines are drawn from stroke templates with random proportions. Each
picture then goes through the app's own preprocessing, so the network learns them exactly as
the Draw page will show them.
"""

import numpy as np
from PIL import Image
from scipy import ndimage

from mnist_core.reading.preprocess import to_model_input
from mnist_core.training.strokes import draw_strokes, ellipse

SCALE = 10  # MNIST's 28 px drawn on a 280 px canvas
STYLES = {"slashed 0": (0, 0.4), "1 with flag": (1, 0.2), "7 with crossbar": (7, 0.12),
          "two-stroke 4": (4, 0.16), "straight-stem 9": (9, 0.12)}  # label, share of the images


def _on_canvas(digit: np.ndarray) -> tuple[np.ndarray, float]:
    """An MNIST digit enlarged to canvas scale (uint8 ink), and the width of its pen there."""
    big = np.asarray(Image.fromarray(digit).resize((28 * SCALE, 28 * SCALE), Image.Resampling.BILINEAR))
    mask = big > 127
    pen = 2 * np.percentile(ndimage.distance_transform_edt(mask)[mask], 90) if mask.any() else 20.0
    return big, float(pen)


def _extent(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1], cols[0], cols[-1]


def _row_centre(mask: np.ndarray, row: int) -> float:
    cols = np.flatnonzero(mask[row])
    return float(cols.mean()) if len(cols) else mask.shape[1] / 2


def slash_zero(mask: np.ndarray, rng: np.random.Generator) -> list:
    """A slash through the oval, from upright to nearly flat, often running well past it."""
    top, bottom, left, right = _extent(mask)
    half = (bottom - top) / 2 * rng.uniform(0.9, 1.8)
    angle = np.radians(rng.uniform(0, 80)) * (1 if rng.random() < 0.85 else -1)
    cx = (left + right) / 2 + rng.normal(0, 0.05) * (right - left)
    cy = (top + bottom) / 2 + rng.normal(0, 0.05) * (bottom - top)
    dx, dy = half * np.sin(angle), half * np.cos(angle)
    return [[(cx - dx, cy + dy), (cx + dx, cy - dy)]]


def flag_one(mask: np.ndarray, rng: np.random.Generator) -> list:
    """An up-stroke flag from the top of the stem, and half the time a base under it."""
    top, bottom, _, _ = _extent(mask)
    height = bottom - top
    xt, xb = _row_centre(mask, top), _row_centre(mask, bottom)
    length, angle = height * rng.uniform(0.2, 0.45), np.radians(rng.uniform(30, 65))
    strokes = [[(xt - length * np.cos(angle), top + length * np.sin(angle)), (xt, top)]]
    if rng.random() < 0.5:
        width = height * rng.uniform(0.3, 0.7)
        strokes.append([(xb - width / 2, bottom), (xb + width / 2, bottom + rng.normal(0, 0.02) * height)])
    return strokes


def cross_seven(mask: np.ndarray, rng: np.random.Generator) -> list:
    """A short bar across the stem, a little below half height."""
    top, bottom, _, _ = _extent(mask)
    height = bottom - top
    row = int(top + height * rng.uniform(0.4, 0.62))
    x = _row_centre(mask, row)
    left, right = height * rng.uniform(0.12, 0.3), height * rng.uniform(0.12, 0.3)
    tilt = rng.normal(0, 0.04) * height
    return [[(x - left, row + tilt), (x + right, row - tilt)]]


ADDED_STROKE = {0: slash_zero, 1: flag_one, 7: cross_seven}


def four_template(rng: np.random.Generator) -> list:
    """A four in two strokes: an open top (like a 'ч') or a slanted arm, and a stem that may not
    touch the bar's end. Unit box, x right, y down."""
    bar = rng.uniform(0.5, 0.7)
    stem = rng.uniform(0.6, 0.8)
    if rng.random() < 0.5:  # open top: two uprights
        arm = [(rng.uniform(0.05, 0.25), rng.uniform(0, 0.1)), (rng.uniform(0.05, 0.2), bar),
               (rng.uniform(stem + 0.08, 1.05), bar - rng.uniform(0, 0.05))]  # the bar crosses the stem: no 9
    else:  # slanted arm, the bar ending short of or past the stem
        arm = [(rng.uniform(0.3, 0.6), 0.0), (0.0, bar), (rng.uniform(stem - 0.15, 1.0), bar)]
    upright = [(stem + rng.normal(0, 0.03), rng.uniform(0, 0.3)), (stem + rng.normal(0, 0.05), 1.0)]
    return [arm, upright]


def nine_template(rng: np.random.Generator) -> list:
    """A loop, closed or left open, and a straight stem down from its right side."""
    ry = rng.uniform(0.18, 0.28)
    loop = ellipse(0.5, ry, rng.uniform(0.25, 0.4), ry, start=rng.uniform(0, 1.5), n=20)
    if rng.random() < 0.4:
        loop = loop[:rng.integers(13, 19)]  # a loop left open, as quick hands write it
    x = 0.5 + rng.uniform(0.2, 0.4)
    return [loop + [(x, ry)], [(x, ry * rng.uniform(0.6, 1.4)), (x + rng.normal(0, 0.08), 1.0)]]


TEMPLATES = {4: four_template, 9: nine_template}


def _jittered(strokes: list, rng: np.random.Generator) -> list:
    """A template in canvas pixels with random size, aspect, slant, rotation and wobble."""
    height = rng.uniform(140, 220)
    width = height * rng.uniform(0.5, 0.8)
    slant, angle = rng.uniform(-0.3, 0.15), rng.uniform(-0.15, 0.15)
    c, s = np.cos(angle), np.sin(angle)
    placed = []
    for stroke in strokes:
        xy = np.asarray(stroke) + rng.normal(0, 0.02, (len(stroke), 2))
        x, y = (xy[:, 0] - 0.5) * width - slant * (xy[:, 1] - 0.5) * height, (xy[:, 1] - 0.5) * height
        placed.append(list(zip(140 + x * c - y * s, 140 + x * s + y * c)))
    return placed


def styled_examples(x: np.ndarray, y: np.ndarray, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` synthesised uint8 28x28 digits (see STYLES) and their labels, the same for the same seed.

    The slashed zeros, flagged ones and crossed sevens are drawn over digits of `x` (give it
    training digits only); a style whose digit `x` lacks is left out."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for label, share in STYLES.values():
        pool = np.flatnonzero(y == label)
        for _ in range(round(count * share)):
            if label in ADDED_STROKE:
                if not len(pool):
                    break  # no digit to add the stroke to
                ink, pen = _on_canvas(x[rng.choice(pool)])
                extra = draw_strokes(ADDED_STROKE[label](ink > 127, rng), pen * rng.uniform(0.8, 1.2))
                canvas = np.maximum(ink, extra)
            else:
                template = TEMPLATES[label](rng)
                canvas = draw_strokes(_jittered(template, rng), rng.uniform(12, 34))
            images.append(np.round(to_model_input(canvas) * 255).astype(np.uint8))
            labels.append(label)
    return np.array(images, np.uint8).reshape(-1, 28, 28), np.array(labels, np.uint8)
