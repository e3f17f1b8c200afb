"""Make a saved run the bundled default model (a maintainer's step, then commit the folder).

    MNIST_PATH=/path/to/mnist.npz python -m bench.tools.bundle_default RUN [--store DIR] [--nondigits PATH]

Copies the run into mnist_core/bundled/default as a whole (a temporary folder, then a rename),
names its card `default` (its `command` still names the run it was trained as), and gives it a
map of the test set if its save could not make one, and a digit detector if it has none (fitted
as a save fits one, on the run's own training and validation split, with the handwritten
non-digits of --nondigits' training writers).
"""

import argparse
import dataclasses
import re
import shutil
import tempfile
from pathlib import Path

from mnist_core.card import read_card, write_card
from mnist_core.config import TrainConfig
from mnist_core.data import load_mnist, load_test_set
from mnist_core.reading.detector import DETECTOR_FILE, write_detector
from mnist_core.runs.digit_map import MAP_FILE, compute_map, write_map
from mnist_core.runs.store import BUNDLED_DIR, DEFAULT_MODEL, find_run
from mnist_core.keras_runs.detector_fit import fit_detector
from mnist_core.keras_runs.importing import load_keras_model
from mnist_core.training.keras_reader import read_test_set
from mnist_core.training.nondigits import load_handwritten


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("--store", type=Path)
    parser.add_argument("--nondigits", type=Path, help="handwritten non-digits (UNIPEN .json.gz) for the detector")
    args = parser.parse_args()
    run = find_run(args.run, args.store)
    folder = Path(tempfile.mkdtemp(prefix=".tmp-default-", dir=BUNDLED_DIR))
    shutil.copytree(run.path, folder, dirs_exist_ok=True)
    if not (folder / MAP_FILE).is_file():
        write_map(compute_map(read_test_set(load_keras_model(run), False, load_test_set()[0])[0]), folder)
    card = read_card(folder)
    if not (folder / DETECTOR_FILE).is_file():
        config = TrainConfig(**card.hyperparameters)
        data = load_mnist(validation_size=config.validation_size, seed=config.seed)
        handwritten = load_handwritten(args.nondigits) if args.nondigits else None
        detector, figures = fit_detector(load_keras_model(run), data.x_train, data.x_val, config.seed, handwritten)
        write_detector(detector, folder)
        card = dataclasses.replace(card, detector=figures)
    # Where the maintainer's MNIST was is nobody else's business: $MNIST_PATH says it.
    command = re.sub(r" --data \S+", "", card.command) if card.command else None
    card = dataclasses.replace(card, name=DEFAULT_MODEL, owner=None, temporary=False, command=command)
    write_card(card, folder)
    folder.chmod(0o755)
    old = BUNDLED_DIR / DEFAULT_MODEL
    if old.exists():
        old.rename(BUNDLED_DIR / f".old-default-{folder.name}")
        shutil.rmtree(BUNDLED_DIR / f".old-default-{folder.name}")
    folder.rename(old)
    print(f"bundled {run.name} as {old}: test accuracy {card.test_accuracy:.2%}")


if __name__ == "__main__":
    main()
