"""Single-drawing prediction time in process: preprocessing + forward pass, p50 and p99.

    python -m bench.measure.cost.predict_latency [--model NAME] [--calls 2000]

The inputs are 280x280 canvas images, gray or RGBA (from bench/harness/drawings/canvas_digits.py), read as the Draw page
reads them (at three stroke widths when the run's card says so, and through the run's digit detector
when it has one); RGBA, what the canvas sends, is also timed alone. Baselines measured in the
same run on the same images: Keras' `model.predict` per image (what many demos do) and a
direct Keras call `model(x, training=False)`.
"""

import argparse
import os
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench.harness.drawings.canvas_digits import canvas_digits
from mnist_core import load_classifier, load_test_set, to_model_input
from mnist_core.keras_runs.importing import load_keras_model


def timings(function, inputs, calls: int) -> np.ndarray:
    for image in inputs[:20]:
        function(image)  # warm up
    out = np.empty(calls)
    for i in range(calls):
        image = inputs[i % len(inputs)]
        start = time.perf_counter()
        function(image)
        out[i] = time.perf_counter() - start
    return out * 1000


def report(name: str, ms: np.ndarray) -> float:
    p50 = float(np.percentile(ms, 50))
    print(f"  {name:44s} p50 {p50:8.3f} ms   p99 {np.percentile(ms, 99):8.3f} ms   (n={len(ms)})")
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    clf = load_classifier(args.model)
    x_test, y_test = load_test_set()
    images = [image for image, _, _ in canvas_digits(x_test, y_test, 200, seed=1)]
    inputs = [to_model_input(image) for image in images]
    print(f"model {clf.name}, 280x280 canvas images")
    detector = " + digit detector" if clf.detector is not None else ""
    ours = report(f"clf.predict (preprocess + ONNX Runtime{detector})", timings(clf.predict, images, args.calls))
    rgba = [image for image in images if image.ndim == 3 and image.shape[2] == 4]
    report(f"  on RGBA canvas arrays alone ({len(rgba)} of {len(images)})", timings(clf.predict, rgba, args.calls))
    report("  of which preprocessing", timings(to_model_input, images, args.calls))
    reading = "three widths if unsure" if clf.card.three_widths else "one read"
    report(f"  of which ONNX Runtime ({reading})", timings(clf.probabilities, inputs, args.calls))

    model = load_keras_model(clf.run)
    batch = lambda x: x.reshape(1, 28, 28, 1)  # noqa: E731
    direct = report("baseline: preprocess + Keras model(x)",
                    timings(lambda im: model(batch(to_model_input(im)), training=False), images, args.calls // 4))
    predict = report("baseline: preprocess + Keras model.predict",
                     timings(lambda im: model.predict(batch(to_model_input(im)), verbose=0), images, 200))
    print(f"speed-up: {predict / ours:.0f}x over model.predict, {direct / ours:.0f}x over a direct Keras call")


if __name__ == "__main__":
    main()
