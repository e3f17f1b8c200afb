"""Reading a network at three stroke widths against reading it once, run by run.

    MNIST_PATH=... python -m bench.measure.accuracy.three_widths RUN [RUN ...] [--unipen] [--json]

For each saved run: its errors on its own validation split (the digits its training held out,
re-made from the card's validation size and seed) and on the MNIST test set, read once as they
are and read at three widths (reader.read_at_three_widths); with --unipen, also the accuracy
and calibration error on the real pen-written digits of bench.measure.accuracy.real_handwriting. "Unsure": read
once, less sure than reader.SURE, so read at the other two widths as well. The choice
to read at three widths was made on the validation splits and the development set; the test
columns show how it held on digits it was not chosen on.
"""

import argparse
import json
from pathlib import Path

import numpy as np

from bench.harness.drawings.unipen import DEFAULT_DATA, canvas_drawings, expected_calibration_error, load_unipen, model_inputs
from mnist_core import load_classifier, load_mnist
from mnist_core.reading.preprocess import thicken
from mnist_core.reading.reader import read_at_three_widths, unsure_answers


def readings(clf, images: np.ndarray) -> dict:
    """Probabilities for N x 28 x 28 floats, read once and at three widths."""
    once = np.concatenate([clf.network_probabilities(images[i:i + 1000]) for i in range(0, len(images), 1000)])
    three = np.concatenate([read_at_three_widths(clf.network_probabilities, images[i:i + 1000])
                            for i in range(0, len(images), 1000)])
    return dict(once=once, three=three)


def errors(images: np.ndarray, labels: np.ndarray, clf) -> dict:
    """Errors read once and at three widths, and how many images were unsure enough to be read thrice."""
    read = readings(clf, images)
    return dict(once=int((read["once"].argmax(axis=1) != labels).sum()),
                three=int((read["three"].argmax(axis=1) != labels).sum()),
                unsure=int(unsure_answers(read["once"]).sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--unipen", action="store_true", help="also the real pen-written digits (a few minutes)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="unipen_dev.json.gz")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.unipen:
        samples = load_unipen(args.data)
        labels = np.array([s["label"] for s in samples])
        inputs, refused = model_inputs(canvas_drawings(samples, 2026))  # bench.measure.accuracy.real_handwriting's seed
        inputs = thicken(inputs)
    rows, totals = [], {}
    for name in args.runs:
        clf = load_classifier(name)
        hp = clf.card.hyperparameters
        data = load_mnist(validation_size=hp.get("validation_size", 5000), seed=hp.get("seed", 0))
        row = dict(run=name, validation=len(data.y_val), validation_errors=errors(data.x_val / 255.0, data.y_val, clf),
                   test_errors=errors(data.x_test / 255.0, data.y_test, clf))
        if args.unipen:
            read = readings(clf, inputs)
            row["unipen_unsure"] = float(unsure_answers(read["once"]).mean())
            for way, p in read.items():
                correct = np.where(refused, -1, p.argmax(axis=1)) == labels
                row[f"unipen_{way}"] = dict(accuracy=float(correct.mean()),
                                            ece=expected_calibration_error(p.max(axis=1), correct))
        rows.append(row)
        for split in ("validation_errors", "test_errors"):
            for way, count in row[split].items():  # once, three, unsure
                totals[f"{split} {way}"] = totals.get(f"{split} {way}", 0) + count
        if not args.json:
            val, test = row["validation_errors"], row["test_errors"]
            line = (f"{name:12s} validation ({row['validation']:5d}) errors: once {val['once']:3d}, three widths "
                    f"{val['three']:3d}   test errors: once {test['once']:3d}, three widths {test['three']:3d} "
                    f"({1 - test['three'] / len(data.y_test):.2%}; {test['unsure']} unsure)")
            if args.unipen:
                line += "   real handwriting: " + ", ".join(
                    f"{way} {row[f'unipen_{way}']['accuracy']:.2%} (ECE {row[f'unipen_{way}']['ece']:.2%})"
                    for way in ("once", "three")) + f"; {row['unipen_unsure']:.1%} unsure"
            print(line, flush=True)
    if args.json:
        print(json.dumps(dict(runs=rows, totals=totals)))
    else:
        print("totals: " + ", ".join(f"{key} {value}" for key, value in totals.items()))


if __name__ == "__main__":
    main()
