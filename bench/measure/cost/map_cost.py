"""What the map of the test set costs: seconds to compute it for 10,000 digits, bytes on disk.

    MNIST_PATH=/path/to/mnist.npz python -m bench.measure.cost.map_cost [--model NAME] [--repeat 3]

Runs the model (ONNX, as the server does) over the test set for its final-layer features, then
times digit_map.compute_map on them (the work the training process adds to saving a run: the
Keras pass for the features is timed separately) and writes the map to see its size.
"""

import argparse
import statistics
import tempfile
import time

import numpy as np

from mnist_core import load_classifier
from mnist_core.data import load_test_set
from mnist_core.runs.digit_map import compute_map, write_map


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clf = load_classifier(args.model, threads=2)
    x_test, _ = load_test_set()
    last = clf.session.get_outputs()[-1].name
    started = time.perf_counter()
    features = np.concatenate([clf.session.run([last], {clf.input_name: (x_test[i:i + 500] / 255.0).astype(
        np.float32)[..., None]})[0] for i in range(0, len(x_test), 500)])
    print(f"features of {len(features):,} test digits ({features.shape[1]} each): {time.perf_counter() - started:.1f} s")
    times = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        digit_map = compute_map(features)
        times.append(time.perf_counter() - started)
    print(f"compute_map: median {statistics.median(times):.1f} s of {args.repeat} (min {min(times):.1f}, "
          f"max {max(times):.1f}); goal ≤ 30 s on two cores")
    with tempfile.TemporaryDirectory() as folder:
        size = write_map(digit_map, folder).stat().st_size
    print(f"map.npz: {size / 1e6:.2f} MB on disk")


if __name__ == "__main__":
    main()
