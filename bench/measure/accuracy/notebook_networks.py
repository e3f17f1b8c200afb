"""Networks trained the way notebooks train MNIST, brought into the app: Keras' test accuracy beside the app's.

    MNIST_PATH=... python -m bench.measure.accuracy.notebook_networks [--epochs 5] [--networks NAME ...] [--drawings 1000]

Each network (bench/harness/notebooks.py) is built and trained with plain Keras on MNIST's
60,000 training digits, fed as its notebook feeds them (its own input shape and pixel scale;
logits where it was trained with `from_logits=True`), and saved with `model.save` (one also as
an older notebook's `.h5`). Each file is then imported as the app imports an upload
(keras_runs/importing.py: checked, its pixel scale and softmax found, adapted, evaluated, saved)
into a temporary store. Printed per network: the input and pixel scale it was trained with and
what the import found, whether a softmax was added, Keras' own test accuracy, the app's (the
run's card: the served network, read as the app reads it) and the difference in points, and
the share of canvas-like drawings of MNIST test digits (bench/harness/drawings/canvas_digits.py) the
served network reads right, with the bundled default's on the same drawings below.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

from bench.harness.drawings.canvas_digits import canvas_digits
from bench.harness.notebooks import NOTEBOOKS, train_notebook
from mnist_core import load_classifier
from mnist_core.data import load_arrays
from mnist_core.keras_runs.importing import import_keras

H5_COPY = "mlp-28x28"  # also saved as .h5, as an older notebook saves it


def drawing_accuracy(classifier, drawings: list) -> float:
    return float(np.mean([classifier.predict(image).digit == label for image, label, _ in drawings]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--networks", nargs="+", choices=list(NOTEBOOKS), default=list(NOTEBOOKS))
    parser.add_argument("--drawings", type=int, default=1000, help="canvas-like drawings each network reads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    mnist, _ = load_arrays(None)
    drawings = list(canvas_digits(mnist["x_test"], mnist["y_test"], args.drawings, args.seed))
    rows = []
    with tempfile.TemporaryDirectory(prefix="notebook-networks-") as folder:
        folder = Path(folder)
        for number, name in enumerate(args.networks):
            model, keras_accuracy = train_notebook(name, mnist, args.epochs, args.seed + number)
            files = [folder / f"{name}.keras"] + ([folder / f"{name}.h5"] if name == H5_COPY else [])
            for path in files:
                model.save(path)
                started = time.perf_counter()
                run, accuracy = import_keras(path, path.name.replace(".", "-"), folder / "store", None)
                seconds = time.perf_counter() - started
                imported = run.card.imported
                drawn = drawing_accuracy(load_classifier(run.name, folder / "store"), drawings)
                rows.append((path.name, NOTEBOOKS[name], imported, keras_accuracy, accuracy, drawn, seconds))
        default = drawing_accuracy(load_classifier(), drawings)

    print(f"{len(rows)} notebook networks, {args.epochs} epochs each on 60,000 MNIST digits (seed {args.seed}); "
          f"{args.drawings} canvas-like drawings of MNIST test digits")
    print(f"{'network':36} {'input':12} {'trained at':15} {'found':15} {'softmax':8} {'Keras':>7} {'app':>7} "
          f"{'diff':>6} {'drawings':>8} {'import':>7}")
    for file, notebook, imported, keras_accuracy, accuracy, drawn, seconds in rows:
        shape, scale = notebook[0], notebook[1]
        added = "added" if imported["softmax_added"] else "its own"
        print(f"{file:36} {str(shape):12} {scale:15} {imported['pixel_scale']:15} {added:8} {keras_accuracy:7.2%} "
              f"{accuracy:7.2%} {100 * (accuracy - keras_accuracy):+6.2f} {drawn:8.2%} {seconds:6.1f}s")
    print(f"bundled default on the same drawings: {default:.2%}")
    worst = max(abs(row[4] - row[3]) for row in rows)
    print(f"largest difference between Keras' and the app's test accuracy: {100 * worst:.2f} points")


if __name__ == "__main__":
    main()
