"""Reading whole numbers: UNIPEN writers' digits set side by side on the wide canvas, read as one picture.

    python -m bench.measure.accuracy.numbers [--model NAME] [--writers tune|confirm|both] [--count N] [--json]

Each number (bench/harness/drawings/numbers.py: 2-5 digits of one writer, natural gaps, some nearly
touching) is read by mnist_core.reading.number.read_number with the canvas's strokes, as the Draw
page reads it, and from the picture alone, as an upload is read. Prints the numbers read exactly,
those with the right count of digits (also without the numbers holding a writer's broken sample,
a dot labelled as a digit: WrittenNumber.legible), and the digits read right (aligned as the longest common
subsequence) against the same digits each drawn alone and read by Classifier.predict; then the
time to read a 4-digit number against its digits' predictions alone, measured in the same run.
Choose on the "tune" writers; "confirm" is only measured (the project is judged on other writers).
"""

import argparse
import json
import time
from pathlib import Path

import numpy as np

from bench.harness.drawings.numbers import numbers
from bench.harness.drawings.unipen import DEFAULT_DATA, WRITER_HALVES, load_unipen, of_writers
from mnist_core import load_classifier
from mnist_core.reading.number import read_number
from mnist_core.reading.preprocess import DrawingError


def common(a: str, b: str) -> int:
    """The longest common subsequence's length: the digits read right, wherever a split went wrong."""
    row = [0] * (len(b) + 1)
    for x in a:
        previous = 0
        for j, y in enumerate(b):
            previous, row[j + 1] = row[j + 1], previous + 1 if x == y else max(row[j + 1], row[j])
    return row[-1]


def read(clf, number, strokes: bool) -> str:
    try:
        return read_number(clf, number.image, number.objects if strokes else None).number
    except DrawingError:
        return ""


def alone_digit(clf, image) -> int:
    """A digit read by itself as the one-digit canvas reads it; -1 when refused (a dot among the broken samples)."""
    try:
        return clf.predict(image).digit
    except DrawingError:
        return -1


def measure(clf, written: list) -> dict:
    truth = [n.digits for n in written]
    legible = np.array([n.legible for n in written])
    alone = [[alone_digit(clf, image) for image in n.alone] for n in written]
    result = dict(numbers=len(written), legible_numbers=int(legible.sum()), digits=sum(map(len, truth)),
                  alone_digit_accuracy=sum(sum(str(d) == t for d, t in zip(a, n)) for a, n in zip(alone, truth))
                  / sum(map(len, truth)))
    for mode in ("strokes", "picture"):
        got = [read(clf, n, mode == "strokes") for n in written]
        exact = np.array([g == t for g, t in zip(got, truth)])
        count = np.array([len(g) == len(t) for g, t in zip(got, truth)])
        result[mode] = dict(exact=float(exact.mean()), right_count=float(count.mean()),
                            legible_exact=float(exact[legible].mean()),
                            legible_right_count=float(count[legible].mean()),
                            digit_accuracy=sum(common(g, t) for g, t in zip(got, truth)) / sum(map(len, truth)),
                            misread=[(t, g) for g, t in zip(got, truth) if g != t][:12])
    return result


def timing(clf, written: list, rounds: int = 3) -> dict:
    """p50 over the 4-digit numbers of reading the number (with strokes) and of predicting its
    digits one by one, interleaved so that both see the same machine."""
    fours = [n for n in written if len(n.digits) == 4]
    number_ms, digits_ms = [], []
    for _ in range(rounds):
        for n in fours:
            start = time.perf_counter()
            read_number(clf, n.image, n.objects)
            middle = time.perf_counter()
            for image in n.alone:
                alone_digit(clf, image)
            number_ms.append((middle - start) * 1000)
            digits_ms.append((time.perf_counter() - middle) * 1000)
    a, b = float(np.median(number_ms)), float(np.median(digits_ms))
    return dict(count=len(fours), number_p50_ms=a, digits_p50_ms=b, ratio=a / b, difference_ms=a - b)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="saved run name (default: the bundled model)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="unipen_dev.json.gz")
    parser.add_argument("--writers", choices=(*WRITER_HALVES, "both"), default="both")
    parser.add_argument("--count", type=int, default=1000, help="numbers per half of the writers")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    clf = load_classifier(args.model)
    samples = load_unipen(args.data)
    halves = WRITER_HALVES if args.writers == "both" else (args.writers,)
    results = {half: measure(clf, numbers(of_writers(samples, half), args.count, args.seed)) for half in halves}
    results["time"] = timing(clf, numbers(of_writers(samples, halves[0]), min(args.count, 300), args.seed + 1))
    if args.json:
        print(json.dumps(dict(model=clf.name, **results)))
        return
    print(f"model {clf.name}: numbers of 2-5 real pen-written digits, one writer each (seed {args.seed})")
    for half in halves:
        r = results[half]
        print(f"  {half} writers: {r['numbers']} numbers ({r['legible_numbers']} without a digit that is only a "
              f"dot), {r['digits']} digits; each digit alone: {r['alone_digit_accuracy']:.2%} read right")
        for mode in ("strokes", "picture"):
            m = r[mode]
            print(f"    with {mode:8}: exact {m['exact']:.2%}, right count {m['right_count']:.2%} (without the dots: "
                  f"{m['legible_exact']:.2%}, {m['legible_right_count']:.2%}), digits {m['digit_accuracy']:.2%}; "
                  "misread: " + ", ".join(f"{t}→{g or '(refused)'}" for t, g in m["misread"][:6]))
    t = results["time"]
    print(f"  time, {t['count']} numbers of 4 digits: read_number p50 {t['number_p50_ms']:.2f} ms, their digits "
          f"predicted one by one {t['digits_p50_ms']:.2f} ms: ratio {t['ratio']:.2f}, "
          f"difference {t['difference_ms']:+.2f} ms")


if __name__ == "__main__":
    main()
