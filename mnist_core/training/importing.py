"""A `.keras` file brought back as a run, and loading a run's Keras network, in the training process.

A person keeps a run across a deployment's reboots by downloading its `.keras` file and uploading
it back (`python -m mnist_core import FILE --name NAME`, which the app queues like a training).
An uploaded file may be a stranger's: it is refused before Keras unpacks it when it is too large
whole or unpacked (store.check_keras_file), loaded in Keras' safe mode (no code from the file
runs), and kept only if it is a network from 28x28x1 images to ten probabilities, like every run
here. It is evaluated on the MNIST test set, so it carries the figures Explore shows.
"""

from pathlib import Path

import numpy as np

from mnist_core.data import load_arrays
from mnist_core.evaluate import evaluate_probabilities
from mnist_core.runs.store import StoredRun, StoreError, check_keras_file, check_new_name, check_shapes, store_dir
from mnist_core.training.detector_fit import fit_detector, held_out_split
from mnist_core.training.keras_reader import keras_reader
from mnist_core.training.saving import new_card, save_model, test_set_views

IMPORTED = "imported"  # an imported run's preset and `ended`


def load_keras_model(run: StoredRun):
    """The run's Keras network, loaded in safe mode and checked to be a 28x28 → 10 classifier."""
    return load_keras_file(run.keras_path)


def load_keras_file(path: Path):
    """A `.keras` file's network, loaded in safe mode (no code from the file runs) and checked to
    be a 28x28 → 10 classifier."""
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors, TypeError...
        raise StoreError(f"{path}: not a loadable Keras model ({type(exc).__name__}: {exc})"[:600]) from exc
    if not isinstance(model, keras.Model):
        raise StoreError(f"{path}: holds a {type(model).__name__}, not a Keras model")
    check_shapes(tuple(model.inputs[0].shape), tuple(model.outputs[0].shape), path)
    return model


def import_keras(path: Path, name: str, store: Path | None = None, data=None, owner: str | None = None,
                 temporary: bool = False) -> tuple[StoredRun, float]:
    """Check, evaluate and save the network in `path` as the run `name`; the run and its test accuracy.
    `data`: an mnist.npz for the test set (default: $MNIST_PATH, then the download)."""
    store = store or store_dir()
    check_new_name(name, store)
    check_keras_file(path, path.name)
    model = load_keras_file(path)
    if tuple(model.inputs[0].shape[1:]) != (28, 28, 1):
        raise StoreError(f"{path.name}: takes input {tuple(model.inputs[0].shape[1:])}; a run takes 28x28x1 images")
    mnist, _ = load_arrays(data)
    x_test, y_test = mnist["x_test"], mnist["y_test"]
    probabilities = keras_reader(model).pixel_probabilities(x_test)  # an imported network is read once
    if not (np.all(np.isfinite(probabilities)) and probabilities.min() >= 0
            and np.allclose(probabilities.sum(axis=1), 1, atol=1e-3)):
        raise StoreError(f"{path.name}: its outputs are not probabilities (end the network with a softmax)")
    accuracy = evaluate_probabilities(y_test, probabilities).accuracy
    detector, figures = fit_detector(model, *held_out_split(mnist["x_train"]))
    card = new_card(name, model, accuracy, owner=owner, temporary=temporary, preset=IMPORTED, ended=IMPORTED,
                    detector=figures)
    return save_model(model, card, *test_set_views(model, x_test, y_test, probabilities), store, detector), accuracy
