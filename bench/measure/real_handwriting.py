"""How the app reads real handwriting: pen-written digits by many writers, drawn as canvas strokes.

    python -m bench.measure.real_handwriting [--model NAME] [--data PATH] [--sheet errors.png]

Each digit of the UNIPEN development set (real people writing with a pen on tablets, see
../shared/data/README.md) is drawn the way a person draws on the Draw page's canvas: a round pen
of a random width, any size and place, either polarity. Prints the accuracy through the app's
preprocessing and through a plain resize of the canvas read once (what many MNIST demos do), per class,
the top confusions, the expected calibration error of the confidence the Draw page shows, and
saves a sheet of the errors. Never train on this set: it is here to estimate how the app reads
strangers.
"""

import argparse
import gzip
import json
from pathlib import Path

import numpy as np
from PIL import Image

from mnist_core import DrawingError, load_classifier, to_model_input
from mnist_core.reading.preprocess import ink_map, thicken
from mnist_core.training.strokes import random_canvas_drawing

ROOT = Path(__file__).resolve().parents[2]  # the repository
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "unipen_dev.json.gz"


def load_unipen(path: Path) -> list[dict]:
    """[{"label", "source", "strokes"}], strokes in tablet coordinates with y pointing up."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def canvas_drawings(samples: list[dict], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [random_canvas_drawing(s["strokes"], rng, y_up=True) for s in samples]


def model_inputs(drawings: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The 28x28 inputs the app makes, and which drawings it refused (a dot, say): those count as errors."""
    inputs, refused = np.zeros((len(drawings), 28, 28), np.float32), np.zeros(len(drawings), bool)
    for i, drawing in enumerate(drawings):
        try:
            inputs[i] = to_model_input(drawing)
        except DrawingError:
            refused[i] = True
    return inputs, refused


def plain_resize(drawing: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(ink_map(drawing), mode="F").resize((28, 28), Image.Resampling.BILINEAR))


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """The gap between shown confidence and accuracy, averaged over equal-width confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(gap)


def error_sheet(inputs: np.ndarray, labels: np.ndarray, predicted: np.ndarray, path: Path, limit: int = 400) -> None:
    """The misread digits as the network saw them, 20 a row, each with a strip: green = label, red = answer."""
    wrong = np.flatnonzero(labels != predicted)[:limit]
    cols = 20
    rows = max(1, -(-len(wrong) // cols))
    sheet = np.full((rows * 36, cols * 30, 3), 255, np.uint8)
    for k, i in enumerate(wrong):
        r, c = divmod(k, cols)
        tile = (255 - inputs[i] * 255).astype(np.uint8)
        sheet[r * 36:r * 36 + 28, c * 30:c * 30 + 28] = tile[..., None]
        sheet[r * 36 + 29:r * 36 + 33, c * 30 + labels[i] * 2 + 4:c * 30 + labels[i] * 2 + 6] = (0, 160, 0)
        sheet[r * 36 + 29:r * 36 + 33, c * 30 + predicted[i] * 2 + 4:c * 30 + predicted[i] * 2 + 6] = (220, 0, 0)
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.Resampling.NEAREST).save(path)


def measure(clf, samples: list[dict], seed: int) -> dict:
    labels = np.array([s["label"] for s in samples])
    drawings = canvas_drawings(samples, seed)
    inputs, refused = model_inputs(drawings)
    probabilities = np.concatenate([clf.probabilities(thicken(inputs[i:i + 500])) for i in range(0, len(inputs), 500)])
    predicted = np.where(refused, -1, probabilities.argmax(axis=1))
    baseline = np.concatenate([clf.network_probabilities(np.stack([plain_resize(d) for d in drawings[i:i + 500]]))
                               for i in range(0, len(drawings), 500)]).argmax(axis=1)
    correct = predicted == labels
    pairs = np.zeros((10, 10), int)
    np.add.at(pairs, (labels[~correct & ~refused], predicted[~correct & ~refused]), 1)
    top = sorted(((int(pairs[t, p]), t, p) for t in range(10) for p in range(10) if pairs[t, p]), reverse=True)[:8]
    return dict(
        count=len(labels), accuracy=float(correct.mean()), refused=int(refused.sum()),
        plain_resize_accuracy=float((baseline == labels).mean()),
        per_class={d: float(correct[labels == d].mean()) for d in range(10)},
        top_confusions=[dict(true=t, predicted=p, count=c) for c, t, p in top],
        ece=expected_calibration_error(probabilities.max(axis=1), correct),
        inputs=inputs, labels=labels, predicted=predicted,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="saved run name (default: the bundled model)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="unipen_dev.json.gz")
    parser.add_argument("--seed", type=int, default=2026, help="seeds the pens, sizes, places and polarities")
    parser.add_argument("--sheet", type=Path, help="save the errors as a PNG sheet here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    clf = load_classifier(args.model)
    result = measure(clf, load_unipen(args.data), args.seed)
    if args.sheet:
        error_sheet(result["inputs"], result["labels"], result["predicted"], args.sheet)
    for key in ("inputs", "labels", "predicted"):
        result.pop(key)
    if args.json:
        print(json.dumps(dict(model=clf.name, **result)))
        return
    print(f"model {clf.name}: {result['count']} real pen-written digits drawn as canvas strokes (seed {args.seed})")
    print(f"  accuracy, the app's preprocessing: {result['accuracy']:.2%} ({result['refused']} refused)")
    print(f"  accuracy, plain resize baseline:   {result['plain_resize_accuracy']:.2%}")
    print(f"  expected calibration error:        {result['ece']:.2%}")
    print("  per class: " + "  ".join(f"{d}: {a:.1%}" for d, a in result["per_class"].items()))
    print("  top confusions: " + "; ".join(f"{c['true']} read as {c['predicted']}: {c['count']}"
                                          for c in result["top_confusions"]))


if __name__ == "__main__":
    main()
