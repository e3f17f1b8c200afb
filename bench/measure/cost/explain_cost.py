"""What "Why this answer" costs per drawing, against the plain prediction, and how faithful it is.

    python -m bench.measure.cost.explain_cost [--model NAME] [--count 200] [--calls 1000] [--segments 12]

The drawings are 280x280 canvas images (from bench/harness/drawings/canvas_digits.py, MNIST test digits redrawn with
round pens). Each call times `clf.predict(image)` (preprocess + the reading: the baseline
the Draw page already pays per stroke) and, right after it on the same drawing,
`explain(clf.reader, prediction.model_input)` (what the map adds) and `saliency_image` (its 280x280
picture for the page), so drift on a shared machine hits all alike. Faithfulness: on how many drawings blanking the 20% of the ink the map ranks
highest lowers p(answer) more than blanking as many random ink pixels (mean of 10 draws).
"""

import argparse
import time

import numpy as np

from bench.harness.drawings.canvas_digits import canvas_digits
from mnist_core import load_classifier, load_test_set
from mnist_core.reading.explain import SEGMENTS, deletion_check, explain, saliency_image


def timed(function, *args) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args)
    return (time.perf_counter() - start) * 1000, result


def line(name: str, ms: np.ndarray) -> str:
    return f"  {name:34s} p50 {np.percentile(ms, 50):7.3f} ms   p99 {np.percentile(ms, 99):7.3f} ms   (n={len(ms)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--count", type=int, default=200, help="canvas drawings")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--segments", type=int, default=SEGMENTS, help="stroke pieces blanked per drawing")
    args = parser.parse_args()
    clf = load_classifier(args.model)
    x_test, y_test = load_test_set()
    images = [image for image, _, _ in canvas_digits(x_test, y_test, args.count, seed=1)]
    for image in images[:20]:  # warm up
        explain(clf.reader, clf.predict(image).model_input, args.segments)
    predict_ms, explain_ms, picture_ms = np.empty((3, args.calls))
    for i in range(args.calls):
        predict_ms[i], prediction = timed(clf.predict, images[i % len(images)])
        explain_ms[i], explanation = timed(explain, clf.reader, prediction.model_input, args.segments)
        picture_ms[i], _ = timed(saliency_image, explanation)
    print(f"model {clf.name}, {len(images)} canvas drawings, {args.segments} stroke pieces "
          f"({args.segments + 1} images per explain call)")
    print(line("baseline: clf.predict", predict_ms))
    print(line("explain(clf.reader, model_input)", explain_ms))
    print(line("saliency_image (280x280 RGB)", picture_ms))
    print(f"explain / predict, p50: {np.median(explain_ms) / np.median(predict_ms):.1f}x")

    explanations = [explain(clf.reader, clf.predict(image).model_input, args.segments) for image in images]
    checks = np.array([deletion_check(clf.reader, explanation) for explanation in explanations])
    wins = checks[:, 0] < checks[:, 1]
    print(f"faithfulness: blanking the top 20% of the ink lowers p(answer) more than random ink on "
          f"{wins.sum()}/{len(wins)} drawings ({wins.mean():.1%}); mean p(answer) after: "
          f"top {checks[:, 0].mean():.3f}, random {checks[:, 1].mean():.3f}")


if __name__ == "__main__":
    main()
