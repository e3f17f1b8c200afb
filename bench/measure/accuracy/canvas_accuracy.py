"""Accuracy on canvas-like drawings (see bench/harness/drawings/canvas_digits.py), against a plain-resize baseline.

    python -m bench.measure.accuracy.canvas_accuracy [--model NAME] [--count 3000] [--save-examples DIR]

Prints the accuracy with MNIST-style preprocessing (what the app does) and with a plain resize
of the whole canvas to 28x28 (what many MNIST demos do), per digit and per style.
"""

import argparse
from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from bench.harness.drawings.canvas_digits import STYLES, canvas_digits, plain_resize, styled_digit
from mnist_core import load_classifier, load_test_set


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--styles", type=int, default=200, help="drawings per hand-made style")
    parser.add_argument("--save-examples", type=Path)
    args = parser.parse_args()

    clf = load_classifier(args.model)
    x_test, y_test = load_test_set()
    hits = defaultdict(list)
    baseline = []
    for i, (image, label, style) in enumerate(canvas_digits(x_test, y_test, args.count, args.seed)):
        right = clf.predict(image).digit == label
        hits["all"].append(right)
        hits[f"digit {label}"].append(right)
        hits[style["style"]].append(right)
        baseline.append(int(clf.network_probabilities(plain_resize(image)).argmax()) == label)
        if args.save_examples and i < 16:
            args.save_examples.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(args.save_examples / f"{i:02d}-label{label}.png")
    print(f"model {clf.name}: {args.count} canvas-like drawings from the MNIST test set (seed {args.seed})")
    print(f"  MNIST-style preprocessing: {np.mean(hits['all']):.2%}")
    print(f"  plain resize baseline:     {np.mean(baseline):.2%}")
    for key in sorted(k for k in hits if k != "all"):
        print(f"  {key:16s} {np.mean(hits[key]):.2%}  (n={len(hits[key])})")
    rng = np.random.default_rng(args.seed)
    print(f"drawing styles MNIST rarely shows ({args.styles} drawings each):")
    for style, (label, _) in STYLES.items():
        right = [clf.predict(styled_digit(style, rng)).digit == label for _ in range(args.styles)]
        print(f"  {style:24s} {np.mean(right):.2%}")


if __name__ == "__main__":
    main()
