"""Whole numbers written by real people: UNIPEN digits of one writer set side by side on a wide canvas.

A number of 2-5 digits takes its digits from one writer, scaled together (the writer's own
relative sizes kept) to a common height, set left to right with natural, varied gaps (some nearly
touching, a few with overlapping boxes), centred on one line with a little wander, drawn with one
pen in one polarity on a 3:1 canvas. Each number keeps its strokes as the canvas gives them
(fabric.js paths) and each digit drawn alone on a 280x280 window of it: what the one-digit canvas sees.
Shared by bench.measure.accuracy.numbers; measure only, never train or tune on the "confirm" writers.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.reading.number import DOT
from mnist_core.training.strokes import as_canvas_image, draw_strokes

HEIGHT, WIDTH = 280, 840  # the wide canvas: three times as wide as it is high
MARGIN = 12


@dataclass(frozen=True)
class WrittenNumber:
    digits: str
    image: np.ndarray  # the canvas's picture
    objects: list  # its strokes as streamlit-drawable-canvas returns them (json_data["objects"])
    alone: list  # each digit drawn alone with the same pen and polarity, on the one-digit canvas (280x280)
    legible: bool  # False when a digit's sample is a mere dot or tick (a broken sample): see compose


def writer(sample: dict) -> str:
    """The writer's unit, as unipen.writer_half counts it: the folder of their files."""
    return str(Path(sample["source"]).parent)


def _gap(rng: np.random.Generator) -> float:
    """The blank between two digits' ink, in number heights: mostly clear, often nearly touching,
    sometimes with boxes overlapping (slanted digits, a cramped writer)."""
    kind = rng.random()
    return rng.uniform(0.12, 0.5) if kind < 0.6 else rng.uniform(0.02, 0.12) if kind < 0.9 else rng.uniform(-0.05, 0.02)


def _flipped(strokes: list) -> list[np.ndarray]:
    return [np.asarray(s, np.float64).reshape(-1, 2) * (1, -1) for s in strokes]


def compose(samples: list[dict], rng: np.random.Generator) -> WrittenNumber:
    """One number from one writer's digits (`samples`: that writer's, at least two)."""
    count = int(rng.integers(2, 6))
    chosen = [samples[i] for i in rng.choice(len(samples), count, replace=len(samples) < count)]
    digits = [_flipped(s["strokes"]) for s in chosen]
    spans = [np.ptp(np.concatenate(d), axis=0) for d in digits]
    height = rng.uniform(110, 230)
    scale = height / max(float(np.median([s[1] for s in spans])), 1e-9)
    pen = rng.uniform(max(6.0, height / 22), max(6.0, min(40.0, height / 5)))
    gaps = [_gap(rng) * height + pen for _ in range(count - 1)]  # between the strokes' boxes: the ink has the pen
    total = sum(s[0] for s in spans) * scale + sum(gaps)
    fit = min(1.0, (WIDTH - 2 * MARGIN - pen) / max(total, 1e-9), (HEIGHT - 2 * MARGIN - pen) / max(
        max(s[1] for s in spans) * scale * 1.1, 1e-9))
    scale, gaps, pen = scale * fit, [g * fit for g in gaps], max(4.0, pen * fit)
    x = rng.uniform(MARGIN + pen / 2, max(MARGIN + pen / 2, WIDTH - MARGIN - pen / 2 - total * fit))
    middle = HEIGHT / 2 + rng.uniform(-0.1, 0.1) * HEIGHT * (1 - fit * height / HEIGHT)
    placed = []
    for k, strokes in enumerate(digits):
        points = np.concatenate(strokes)
        low, high = points.min(axis=0), points.max(axis=0)
        wander = rng.uniform(-0.05, 0.05) * height * fit
        offset = np.array([x - low[0] * scale, middle + wander - (low[1] + high[1]) / 2 * scale])
        placed.append([s * scale + offset for s in strokes])
        x += (high[0] - low[0]) * scale + (gaps[k] if k < count - 1 else 0)
    polarity = str(rng.choice(["white-on-black", "black-on-white", "transparent"]))
    draw = lambda strokes: as_canvas_image(draw_strokes([s.tolist() for s in strokes], pen, HEIGHT, WIDTH), polarity)
    every = [s for d in placed for s in d]
    objects = [{"type": "path", "strokeWidth": round(pen), "path": [["M", *s[0]]] + [["L", *p] for p in s[1:]]}
               for s in (np.round(s, 1).tolist() for s in every)]
    windows = [int(np.clip(np.concatenate(d)[:, 0].mean() - HEIGHT / 2, 0, WIDTH - HEIGHT)) for d in placed]
    # A few writers' samples are a pen's tap labelled as a digit. Ink that small beside the number's
    # height is a dot to the reader (number.DOT) and to anyone: such a number cannot be read right.
    sizes = [np.ptp(np.concatenate(d), axis=0) + pen for d in placed]
    legible = min(s.max() for s in sizes) >= DOT * max(s[1] for s in sizes)
    return WrittenNumber("".join(str(s["label"]) for s in chosen), draw(every), objects,
                         [draw(d)[:, x:x + HEIGHT] for d, x in zip(placed, windows)], bool(legible))


def numbers(samples: list[dict], count: int, seed: int) -> list[WrittenNumber]:
    """`count` numbers, each by a writer drawn at random from those with two digits or more."""
    rng = np.random.default_rng(seed)
    by_writer: dict[str, list] = {}
    for sample in samples:
        by_writer.setdefault(writer(sample), []).append(sample)
    writers = sorted(w for w, s in by_writer.items() if len(s) >= 2)
    return [compose(by_writer[writers[rng.integers(len(writers))]], rng) for _ in range(count)]
