"""Why the network gave its answer: which strokes of a drawing pushed it there, by occlusion.

The ink of the 28x28 model input is cut into SEGMENTS short pieces of stroke (nearby ink
pixels, grouped by k-means on their positions). Each piece is blanked in turn and the network
reads every variant in one batched call, each thickened afterwards as a drawing is read (so a
blanked piece leaves no rim behind, see preprocess.thicken); a piece's worth is how much
blanking it lowers log(p(answer) / p(runner-up)). Positive pieces pushed the network toward its
answer, negative ones toward the runner-up. Only the served ONNX network is used, so no
TensorFlow is needed.

Pieces of stroke rather than square windows: a window mostly blanks background, and at the
same number of forward passes stroke pieces rank the ink more faithfully and follow the pen.
The cost is one forward pass per piece, so SEGMENTS is what keeps this within a stroke's budget.
The answer and its runner-up are the Reader's (three widths for an unsure drawing, reader.py),
but the pieces are weighed at the drawing's own width only: reading every variant at three
widths tripled an unsure drawing's cost, the largest share of the server's CPU per stroke, for
a map as faithful (bench/README.md).
"""

from dataclasses import dataclass

import numpy as np

from mnist_core.reading.preprocess import DrawingError, read_image, thicken, to_model_input

SEGMENTS = 12
MAX_SEGMENTS = 64  # bounds the batch: one forward pass per piece
INK = 0.05  # model-input pixels fainter than this are background and are never blanked
LLOYD_STEPS = 3
TINY = 1e-30  # floor for probabilities before taking logs (float32 softmax can underflow to 0)
SUPPORTS_ANSWER = np.array([214, 39, 40], np.float32)  # red
SUPPORTS_RUNNER_UP = np.array([31, 119, 180], np.float32)  # blue
MAX_SCALE = 40


@dataclass(frozen=True)
class Explanation:
    digit: int
    runner_up: int
    probabilities: np.ndarray  # 10 floats, for the drawing as it is
    saliency: np.ndarray  # 28x28 float32; see explain()
    model_input: np.ndarray  # the 28x28 image explained

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.digit])


def stroke_segments(image: np.ndarray, count: int = SEGMENTS) -> np.ndarray:
    """28x28 int: each ink pixel's piece of stroke (0 .. count-1), -1 on the background.

    Deterministic: seeds spread out by farthest-point sampling from the first ink pixel, then a
    few k-means steps, so the same drawing always gets the same pieces."""
    points = np.argwhere(image > INK).astype(np.float32)
    labels = np.full(image.shape, -1)
    if not len(points):
        return labels
    count = min(count, len(points))
    seeds = [0]
    distance = np.full(len(points), np.inf, np.float32)
    for _ in range(count - 1):
        distance = np.minimum(distance, ((points - points[seeds[-1]]) ** 2).sum(axis=1))
        seeds.append(int(distance.argmax()))
    centres = points[seeds]
    for _ in range(LLOYD_STEPS + 1):
        nearest = ((points[:, None] - centres[None]) ** 2).sum(axis=2).argmin(axis=1)
        sizes = np.bincount(nearest, minlength=count)[:, None]
        sums = np.stack([np.bincount(nearest, points[:, axis], count) for axis in (0, 1)], axis=1)
        centres = np.where(sizes > 0, sums / np.maximum(sizes, 1), centres)
    labels[tuple(points.astype(int).T)] = nearest
    return labels


def runner_up(probabilities, digit: int) -> int:
    """The most probable digit other than `digit` (the lower one on a tie, as argmax picks)."""
    return int(np.argmax(np.where(np.arange(10) == digit, -np.inf, probabilities)))


def _checked(model_input) -> np.ndarray:
    image = np.asarray(model_input, np.float32)
    if image.shape != (28, 28):
        raise ValueError(f"expected the 28x28 model input (Prediction.model_input), got shape {image.shape}")
    if not np.isfinite(image).all() or image.min() < 0 or image.max() > 1:
        raise ValueError("the model input must hold finite values in [0, 1]")
    return image


def explain(reader, model_input, segments: int = SEGMENTS, probabilities=None) -> Explanation:
    """The answer for `model_input` (28x28 in [0, 1], as `Classifier.predict` returns it) and its
    saliency map, from one batched call of the network on 1 + `segments` drawings.
    `probabilities`: the Reader's answer for it when the caller has it (Prediction.probabilities);
    otherwise `reader` (Classifier.reader) reads it.

    saliency[i, j] is the drop in log(p(digit) / p(runner_up)) when the piece of stroke holding
    pixel (i, j) is blanked, shared among the piece's pixels in proportion to their ink: positive
    where the ink supports the answer, negative where it supports the runner-up, 0 off the ink.
    """
    image = _checked(model_input)
    if not isinstance(segments, (int, np.integer)) or not 1 <= segments <= MAX_SEGMENTS:
        raise ValueError(f"segments must be a whole number from 1 to {MAX_SEGMENTS}, got {segments!r}")
    labels = stroke_segments(image, segments)
    pieces = labels.max() + 1
    blanked = labels[None] == np.arange(pieces)[:, None, None]
    once = reader.network_probabilities(thicken(np.concatenate([image[None], np.where(blanked, 0.0, image[None])])))
    if probabilities is None:
        probabilities = reader.probabilities(thicken(image[None]), first=once[:1])[0]
    probabilities = np.asarray(probabilities, np.float32)
    digit = int(probabilities.argmax())
    second = runner_up(probabilities, digit)
    log_p = np.log(np.maximum(once[:, [digit, second]], TINY))
    margin = log_p[:, 0] - log_p[:, 1]
    drop = margin[0] - margin[1:]
    ink_per_piece = np.bincount(labels[labels >= 0], image[labels >= 0], pieces)
    saliency = np.zeros((28, 28), np.float32)
    on_ink = labels >= 0
    saliency[on_ink] = drop[labels[on_ink]] * image[on_ink] / ink_per_piece[labels[on_ink]]
    return Explanation(digit, second, probabilities, saliency, image)


def deletion_check(reader, explanation: Explanation, fraction: float = 0.2, draws: int = 10,
                   seed: int = 0) -> tuple[float, float]:
    """How faithful the map is on its drawing: p(answer) after blanking the `fraction` of ink
    pixels the map ranks highest, and its mean over `draws` blankings of as many random ink
    pixels. A faithful map gives the first the lower."""
    image = explanation.model_input
    ink = np.flatnonzero(image.ravel() > INK)
    if not len(ink):
        raise ValueError("nothing to blank: the model input has no ink")
    count = max(1, round(fraction * len(ink)))
    rng = np.random.default_rng(seed)
    ranked = ink[np.argsort(-explanation.saliency.ravel()[ink], kind="stable")]
    chosen = [ranked[:count]] + [rng.choice(ink, count, replace=False) for _ in range(draws)]
    batch = np.repeat(image.reshape(1, -1), len(chosen), axis=0)
    for row, pixels in zip(batch, chosen):
        row[pixels] = 0.0
    p = reader.drawing_probabilities(batch.reshape(-1, 28, 28))[:, explanation.digit]
    return float(p[0]), float(p[1:].mean())


def saliency_image(explanation: Explanation, scale: int = 10, over_drawing: bool = True) -> np.ndarray:
    """RGB uint8 (28*scale) x (28*scale) x 3: red where the ink supports the answer, blue where it
    supports the runner-up, stronger the more it does, over the drawing in gray (or over white
    with `over_drawing=False`). Each input pixel becomes a crisp scale x scale block."""
    if not isinstance(scale, (int, np.integer)) or not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be a whole number from 1 to {MAX_SCALE}, got {scale!r}")
    saliency = np.asarray(explanation.saliency, np.float32)
    gray = 255.0 - 110.0 * explanation.model_input if over_drawing else np.full((28, 28), 255.0)
    peak = float(np.abs(saliency).max())
    strength = np.abs(saliency)[..., None] / peak if peak > 0 else np.zeros((28, 28, 1))
    colour = np.where(saliency[..., None] >= 0, SUPPORTS_ANSWER, SUPPORTS_RUNNER_UP)
    rgb = gray[..., None] * (1 - strength) + colour * strength
    small = np.round(rgb).astype(np.uint8)
    return np.repeat(np.repeat(small, scale, axis=0), scale, axis=1)


def explain_file(clf, path) -> dict:
    """One image file → {"file", "digit", "probabilities", "saliency"} (saliency a 28x28 list of
    floats), or {"file", "error"} if it holds no readable digit; ready for json.dumps."""
    try:
        explanation = explain(clf.reader, to_model_input(read_image(path)))
    except DrawingError as exc:
        return {"file": str(path), "error": str(exc)}
    return {"file": str(path), "digit": explanation.digit,
            "probabilities": [round(float(p), 6) for p in explanation.probabilities],
            "saliency": np.round(explanation.saliency.astype(np.float64), 4).tolist()}


def explanation_text(result: dict) -> str:
    """An explain_file result for a terminal: the answer and the map drawn in characters, two
    per pixel ('#' strongly and '+' weakly for the answer, '=' and '-' for the runner-up,
    '.' ink that hardly mattered), without the empty rows above and below the digit."""
    if "error" in result:
        return f"{result['file']}: error: {result['error']}"
    probabilities = np.asarray(result["probabilities"])
    digit = result["digit"]
    second = runner_up(probabilities, digit)
    saliency = np.asarray(result["saliency"], np.float64)
    peak = np.abs(saliency).max() or 1.0
    rows = ["".join(2 * (" " if s == 0 else "#" if s >= 0.5 else "+" if s >= 0.1
                         else "=" if s <= -0.5 else "-" if s <= -0.1 else ".") for s in row).rstrip()
            for row in saliency / peak]
    while rows and not rows[-1]:
        rows.pop()
    while rows and not rows[0]:
        rows.pop(0)
    header = (f"{result['file']}: {digit} ({probabilities[digit]:.1%}), runner-up {second} "
              f"({probabilities[second]:.1%}); # + pushed toward {digit}, = - toward {second}")
    return "\n".join([header, *rows])
