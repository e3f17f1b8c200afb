"""Make a saved run the bundled default model (a maintainer's step, then commit the folder).

    MNIST_PATH=/path/to/mnist.npz python -m bench.tools.bundle_default RUN [--store DIR]

Copies the run into mnist_core/bundled/default as a whole (a temporary folder, then a rename),
names its card `default` (its `command` still names the run it was trained as), and brings a run
saved by an older version up to date: an Explore gallery built from its stored test
probabilities, a map of the test set, and an ONNX file exported with the activation maps and
features the pages show.
"""

import argparse
import json
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np

from mnist_core.data import load_test_set
from mnist_core.runs.digit_map import MAP_FILE, compute_map, write_map
from mnist_core.evaluate import model_features
from mnist_core.training.export import export_onnx
from mnist_core.runs.gallery import GALLERY_FILE, build_gallery, write_gallery
from mnist_core.runs.store import BUNDLED_DIR, CARD_FILE, DEFAULT_MODEL, ONNX_FILE, find_run, load_keras_model

OLD_PROBABILITIES = "test_probabilities.npy"  # what runs stored before gallery.npz


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    run = find_run(args.run, args.store)
    folder = Path(tempfile.mkdtemp(prefix=".tmp-default-", dir=BUNDLED_DIR))
    shutil.copytree(run.path, folder, dirs_exist_ok=True)
    if not (folder / GALLERY_FILE).is_file():
        x_test, y_test = load_test_set()
        write_gallery(build_gallery(x_test, y_test, np.load(folder / OLD_PROBABILITIES)), folder)
    (folder / OLD_PROBABILITIES).unlink(missing_ok=True)
    model = load_keras_model(run)
    if not (folder / MAP_FILE).is_file():
        write_map(compute_map(model_features(model, load_test_set()[0])), folder)
    export_onnx(model, folder / ONNX_FILE)
    card = json.loads((folder / CARD_FILE).read_text())
    card.update(name=DEFAULT_MODEL, owner=None, temporary=False)
    if card.get("command"):  # where the maintainer's MNIST was is nobody else's business: $MNIST_PATH says it
        card["command"] = re.sub(r" --data \S+", "", card["command"])
    (folder / CARD_FILE).write_text(json.dumps(card, indent=1))
    folder.chmod(0o755)
    old = BUNDLED_DIR / DEFAULT_MODEL
    if old.exists():
        old.rename(BUNDLED_DIR / f".old-default-{folder.name}")
        shutil.rmtree(BUNDLED_DIR / f".old-default-{folder.name}")
    folder.rename(old)
    print(f"bundled {run.name} as {old}: test accuracy {card['test_accuracy']:.2%}")


if __name__ == "__main__":
    main()
