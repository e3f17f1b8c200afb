"""What people draw that is not a digit, as training images taught to answer "none of the ten".

A network trained on digits alone answers a letter, a smiley or a scribble with a confident
digit. Shown such drawings during training with a flat target (every digit equally likely,
"outlier exposure"), it learns to be unsure of them, and the features its last layer reads place
them away from every digit, which the run's digit detector (detector.py) measures.

Two sources: real handwritten letters and symbols (UNIPEN's, `--nondigits PATH`; their writers
are split so that some are never trained on and measure the detector), and drawings synthesised
here: scribbles, smileys and two digits side by side. Each goes through the app's own
preprocessing, like the style images.
"""

import gzip
import json
import zlib
from pathlib import Path

import numpy as np

from mnist_core.reading.preprocess import DrawingError, to_model_input
from mnist_core.training.strokes import ellipse, random_canvas_drawing

NOT_A_DIGIT = 10  # the training label of a non-digit: its target is flat over the ten digits
# Characters that handwritten often are digits (D Q as 0, G as 6, ^ r as a flagged 1, > as 7,
# y as 4, = as 2, ...): neither taught as non-digits nor counted when measuring.
LOOK_LIKE_DIGITS = frozenset("DQG^r>y=@%;f")
SPLITS = 5  # writers are hashed into five groups: three train, one tunes, one confirms
TRAIN, TUNE, CONFIRM = "train", "tune", "confirm"
SYNTHESISED = {"scribble": 0.4, "smiley": 0.2, "pair": 0.4}  # shares of the synthesised images


def writer_split(writer: str) -> str:
    """Which part a writer is in, the same on every machine (a hash of the name, not Python's)."""
    group = zlib.crc32(writer.encode()) % SPLITS
    return TRAIN if group < 3 else TUNE if group == 3 else CONFIRM


def load_handwritten(path, part: str | None = TRAIN, keep_lookalikes: bool = False) -> list[dict]:
    """UNIPEN non-digits (`{"label", "writer", "strokes"}`, y up) of the writers in `part` (None: all)."""
    with gzip.open(Path(path), "rt", encoding="utf-8") as handle:
        samples = json.load(handle)
    return [s for s in samples if (part is None or writer_split(s["writer"]) == part)
            and (keep_lookalikes or s["label"] not in LOOK_LIKE_DIGITS)]


def scribble(rng: np.random.Generator) -> list:
    """A smooth random path turning back on itself several times. Unit box, y down."""
    knots = rng.uniform(0, 1, (rng.integers(8, 14), 2))
    t = np.linspace(0, len(knots) - 1, 12 * len(knots))
    path = np.stack([np.interp(t, np.arange(len(knots)), knots[:, i]) for i in (0, 1)], axis=1)
    return [[tuple(p) for p in path]]


def smiley(rng: np.random.Generator) -> list:
    """A face: an oval, two eyes and a mouth (sometimes no oval at all)."""
    eye_y, eye_dx = rng.uniform(0.3, 0.4), rng.uniform(0.12, 0.2)
    eyes = [ellipse(0.5 + side * eye_dx, eye_y, 0.03, 0.04, n=8) for side in (-1, 1)]
    mouth_t = np.linspace(-0.8, 0.8, 10) * rng.uniform(0.8, 1.2)
    smile = rng.choice([-1, 1]) * rng.uniform(0.05, 0.15)
    mouth = [(0.5 + 0.25 * np.sin(t), 0.68 + smile * np.cos(t)) for t in mouth_t]
    face = [ellipse(0.5, 0.5, 0.45, 0.47, start=rng.uniform(0, 6), n=30)] if rng.random() < 0.8 else []
    return face + eyes + [mouth]


def pair(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Two MNIST digits side by side, a little apart, as one uint8 picture."""
    a, b = x[rng.integers(len(x))], x[rng.integers(len(x))]
    gap = np.zeros((28, rng.integers(0, 6)), np.uint8)
    return np.concatenate([a, gap, b], axis=1)


def nondigit_images(count: int, seed: int, x_train: np.ndarray, handwritten: list[dict] | None = None) -> np.ndarray:
    """`count` uint8 28x28 non-digits, half of them real handwriting when `handwritten` is given,
    the rest synthesised; the same for the same seed."""
    rng = np.random.default_rng(seed + 7919)
    real = count // 2 if handwritten else 0
    pictures = [random_canvas_drawing(handwritten[i]["strokes"], rng, y_up=True)
                for i in rng.integers(0, len(handwritten), real)] if real else []
    kinds = rng.choice(list(SYNTHESISED), count - real, p=list(SYNTHESISED.values()))
    for kind in kinds:
        if kind == "pair":
            pictures.append(pair(x_train, rng))
        else:
            pictures.append(random_canvas_drawing(scribble(rng) if kind == "scribble" else smiley(rng), rng))
    images = []
    for picture in pictures:
        try:
            images.append(np.round(to_model_input(picture) * 255).astype(np.uint8))
        except DrawingError:
            continue  # a dot: too small to read at all
    return np.array(images, np.uint8).reshape(-1, 28, 28)
