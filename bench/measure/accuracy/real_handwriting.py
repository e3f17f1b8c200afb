"""How the app reads real handwriting: pen-written digits by many writers, drawn as canvas strokes.

    python -m bench.measure.accuracy.real_handwriting [--model NAME] [--writers all|tune|confirm] [--sheet errors.png]

Each digit of the UNIPEN development set (real people writing with a pen on tablets, see
../shared/data/README.md) is drawn the way a person draws on the Draw page's canvas: a round pen
of a random width, any size and place, either polarity. Prints the accuracy through the app's
preprocessing and through a plain resize of the canvas read once (what many MNIST demos do), per class,
the top confusions, the expected calibration error of the confidence the Draw page shows, and
saves a sheet of the errors. Never train on this set: it is here to estimate how the app reads
strangers. --writers tune / confirm reads one half of the writers (bench.harness.drawings.unipen.writer_half):
choose on one half, confirm on the other, since the project is judged on writers it never had.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from bench.harness.drawings.canvas_digits import plain_resize
from bench.harness.drawings.unipen import (DEFAULT_DATA, WRITER_HALVES, canvas_drawings, error_sheet,
                                  expected_calibration_error, load_unipen, model_inputs, of_writers)
from mnist_core import load_classifier
from mnist_core.reading.preprocess import thicken


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
    parser.add_argument("--writers", choices=("all", *WRITER_HALVES), default="all",
                        help="read one half of the writers only")
    parser.add_argument("--sheet", type=Path, help="save the errors as a PNG sheet here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    clf = load_classifier(args.model)
    result = measure(clf, of_writers(load_unipen(args.data), args.writers), args.seed)
    if args.sheet:
        error_sheet(result["inputs"], result["labels"], result["predicted"], args.sheet)
    for key in ("inputs", "labels", "predicted"):
        result.pop(key)
    if args.json:
        print(json.dumps(dict(model=clf.name, writers=args.writers, **result)))
        return
    print(f"model {clf.name}: {result['count']} real pen-written digits ({args.writers} writers) drawn as canvas "
          f"strokes (seed {args.seed})")
    print(f"  accuracy, the app's preprocessing: {result['accuracy']:.2%} ({result['refused']} refused)")
    print(f"  accuracy, plain resize baseline:   {result['plain_resize_accuracy']:.2%}")
    print(f"  expected calibration error:        {result['ece']:.2%}")
    print("  per class: " + "  ".join(f"{d}: {a:.1%}" for d, a in result["per_class"].items()))
    print("  top confusions: " + "; ".join(f"{c['true']} read as {c['predicted']}: {c['count']}"
                                          for c in result["top_confusions"]))


if __name__ == "__main__":
    main()
