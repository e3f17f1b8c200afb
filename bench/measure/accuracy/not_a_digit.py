"""Does a run know a digit when it sees one? Real letters and symbols against real digits and MNIST.

    MNIST_PATH=... python -m bench.measure.accuracy.not_a_digit [--model NAME] [--writers tune|confirm|all] [--sheet out.png]

Handwritten letters and symbols (UNIPEN, ../shared/data/nondigits_dev.json.gz) and real digits
(unipen_dev.json.gz) are drawn as a person draws on the canvas and read as the Draw page reads
them; MNIST's test digits are read as they are. Prints the share of letters flagged "not a digit"
(scored without the characters often drawn like a digit, nondigits.LOOK_LIKE_DIGITS), of real
digits and of MNIST test digits kept as digits, the AUROC of `digit_score` between real digits and
letters, and the run's threshold. The letters' writers are split as the training splits them
(nondigits.writer_split: it may learn from "train"; "tune" chose the method, "confirm" checks it),
the digits' by bench.harness.drawings.unipen.writer_half; --writers picks the held-out half of both.
--sheet saves the letters taken for digits (top rows) and the digits taken for letters.
"""

import argparse
import gzip
import json
from pathlib import Path

import numpy as np
from PIL import Image

from bench.harness.paths import SHARED_DATA
from bench.harness.drawings.unipen import DEFAULT_DATA, canvas_drawings, load_unipen, model_inputs, of_writers
from mnist_core import load_classifier, load_test_set
from mnist_core.reading.preprocess import thicken
from mnist_core.keras_runs.detector_fit import auroc
from mnist_core.training.nondigits import LOOK_LIKE_DIGITS, writer_split

NONDIGITS = SHARED_DATA / "nondigits_dev.json.gz"


def letters_of(path: Path, part: str) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        samples = json.load(handle)
    held_out = ("tune", "confirm") if part == "all" else (part,)
    return [s for s in samples if writer_split(s["writer"]) in held_out]


def drawn_scores(clf, samples: list[dict], seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(digit scores, model inputs, kept) of the samples drawn on a canvas; refused ones (a dot) are left out."""
    inputs, refused = model_inputs(canvas_drawings(samples, seed))
    inputs = inputs[~refused]
    scores = np.concatenate([clf.digit_scores(thicken(inputs[i:i + 500])) for i in range(0, len(inputs), 500)])
    return scores, inputs, ~refused


def sheet(rows: list[np.ndarray], path: Path, per_row: int = 30) -> None:
    """Each array of 28x28 inputs as rows of tiles, a blank row between arrays."""
    lines = []
    for images in rows:
        for start in range(0, max(1, len(images)), per_row):
            tiles = list(images[start:start + per_row]) + [np.zeros((28, 28))] * (per_row - len(images[start:start + per_row]))
            lines.append(np.concatenate([np.pad(t, 1) for t in tiles], axis=1))
        lines.append(np.zeros((30, 30 * per_row)))
    picture = (255 - np.concatenate(lines) * 255).clip(0, 255).astype(np.uint8)
    Image.fromarray(picture).resize((picture.shape[1] * 2, picture.shape[0] * 2), Image.Resampling.NEAREST).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="saved run name (default: the bundled model)")
    parser.add_argument("--writers", choices=("tune", "confirm", "all"), default="all",
                        help="which held-out writers: the half that chose the method, the other, or both")
    parser.add_argument("--seed", type=int, default=2026, help="seeds the pens, sizes, places and polarities")
    parser.add_argument("--sheet", type=Path, help="save the letters read as digits and the digits read as not")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    clf = load_classifier(args.model)
    if clf.detector is None:
        raise SystemExit(f"{clf.name} has no digit detector")
    letters = letters_of(NONDIGITS, args.writers)
    scored = np.array([s["label"] not in LOOK_LIKE_DIGITS for s in letters])
    letter_scores, letter_inputs, drawn = drawn_scores(clf, letters, args.seed)
    scored = scored[drawn]
    digit_scores, digit_inputs, _ = drawn_scores(clf, of_writers(load_unipen(DEFAULT_DATA), args.writers), args.seed)
    x_test, _ = load_test_set()
    mnist_scores = np.concatenate([clf.digit_scores(x_test[i:i + 1000] / 255.0) for i in range(0, len(x_test), 1000)])
    threshold = clf.detector.threshold
    flagged = letter_scores < threshold
    labels = np.array([s["label"] for s, kept in zip(letters, drawn) if kept])
    worst = sorted(((float(1 - flagged[scored & (labels == c)].mean()), c) for c in set(labels[scored])), reverse=True)
    result = dict(model=clf.name, writers=args.writers, threshold=threshold,
                  letters=int(scored.sum()), letters_flagged=float(flagged[scored].mean()),
                  lookalikes_flagged=float(flagged[~scored].mean()) if (~scored).any() else None,
                  real_digits=len(digit_scores), real_digits_kept=float((digit_scores >= threshold).mean()),
                  mnist_kept=float((mnist_scores >= threshold).mean()),
                  auroc=auroc(digit_scores, letter_scores[scored]),
                  least_flagged=[dict(label=c, taken_for_digits=round(share, 3)) for share, c in worst[:8]])
    if args.sheet:
        sheet([letter_inputs[scored & ~flagged], digit_inputs[digit_scores < threshold]], args.sheet)
    if args.json:
        print(json.dumps(result))
        return
    print(f"model {clf.name}, {args.writers} held-out writers, threshold {threshold:.3f}:")
    print(f"  letters and symbols flagged not a digit: {result['letters_flagged']:.2%} of {result['letters']}"
          f" (look-alikes, not scored: {result['lookalikes_flagged'] or 0:.2%})")
    print(f"  real digits kept as digits: {result['real_digits_kept']:.2%} of {result['real_digits']}")
    print(f"  MNIST test digits kept as digits: {result['mnist_kept']:.2%}")
    print(f"  AUROC of digit_score, real digits against letters: {result['auroc']:.4f}")
    print("  most often taken for digits: " + ", ".join(f"{w['label']} {w['taken_for_digits']:.0%}"
                                                      for w in result["least_flagged"]))


if __name__ == "__main__":
    main()
