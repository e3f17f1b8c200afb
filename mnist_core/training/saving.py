"""How a network becomes a run: evaluated on the MNIST test set, then saved with those figures.

Three kinds of network arrive here, all in the training process (this imports TensorFlow, which
the app's server never does): a finished or stopped training, the checkpoint of a training whose
process died, and a downloaded `.keras` file uploaded back, so a person keeps a run across a
deployment's reboots (`python -m mnist_core import FILE --name NAME`, which jobs.submit_import
queues like a training).

An uploaded file may be a stranger's: it is refused before Keras unpacks it when it is larger
than MAX_FILE_BYTES or would unpack to more than MAX_UNPACKED_BYTES, loaded in Keras' safe mode
(no code from the file runs), and kept only if it is a network from 28x28x1 images to ten
probabilities, like every run here. It is evaluated on the MNIST test set, so it carries the
figures Explore shows, like a trained run.
"""

import sys
import zipfile
from pathlib import Path

import numpy as np

from mnist_core.training.checkpoint import abandoned_checkpoints, read_checkpoint
from mnist_core.data import load_test_set
from mnist_core.runs.digit_map import DigitMap, compute_map
from mnist_core.evaluate import evaluate_probabilities, model_features, model_probabilities
from mnist_core.runs.gallery import Gallery, build_gallery
from mnist_core.runs.store import (StoredRun, StoreError, check_new_name, keep_unsaved, load_keras_file, make_card, save_model,
                    save_run, store_dir)

MAX_FILE_BYTES = 10_000_000  # the `best` preset's network is 1.4 MB
MAX_UNPACKED_BYTES = 100_000_000
IMPORTED = "imported"  # an imported run's preset and `ended`


def test_set_views(model, x_test: np.ndarray, y_test: np.ndarray, probabilities: np.ndarray | None = None,
                   three_widths: bool = False) -> tuple[Gallery, DigitMap | None]:
    """What a run keeps of the test set for Explore: its gallery (of `probabilities`, else the
    network's, read at three widths when asked), and its map (None, with a warning, if the map
    cannot be made: a run is worth saving without one)."""
    if probabilities is None:
        probabilities = model_probabilities(model, x_test, three_widths=three_widths)
    gallery = build_gallery(x_test, y_test, probabilities)
    try:
        return gallery, compute_map(model_features(model, x_test))
    except Exception as exc:
        sys.stderr.write(f"warning: no map of the test set for this run: {type(exc).__name__}: {exc}\n")
        return gallery, None


def save_trained(result, name: str, x_test: np.ndarray, y_test: np.ndarray, command: str | None, store: Path,
                 **owner) -> tuple[StoredRun, float]:
    """Evaluate a TrainingResult on the test set, then save it with those figures (`owner`: see
    store.make_card); the run and its test accuracy. A network trained with random stroke widths
    (augmentation on) is read, and so evaluated, at three widths."""
    three_widths = result.config.augment
    gallery, digit_map = test_set_views(result.model, x_test, y_test, three_widths=three_widths)
    accuracy = evaluate_probabilities(y_test, gallery.probabilities).accuracy
    return save_run(result, name, gallery, accuracy, command=command, store=store, digit_map=digit_map,
                    three_widths=three_widths, **owner), accuracy


def recover_abandoned(store: Path) -> None:
    """Save the checkpoint of each training whose process is gone as a stopped run. One that
    cannot be saved is kept as an `.unsaved-NAME-*` folder instead, so it is tried only once."""
    for checkpoint in abandoned_checkpoints(store):
        try:
            if (found := read_checkpoint(checkpoint.path)) is not None:
                result, recorded = found
                x_test, y_test = load_test_set(recorded["data"])
                save_trained(result, checkpoint.name, x_test, y_test, recorded["command"], store,
                             owner=recorded.get("owner"), temporary=recorded.get("temporary", False))
                sys.stderr.write(f"saved the interrupted training {checkpoint.name!r} as a stopped run "
                                 f"({result.epochs_done} epochs)\n")
            checkpoint.remove()
        except Exception as exc:  # a bad checkpoint must not stop the training being started
            message = str(exc)
            if getattr(exc, "kept", None):
                checkpoint.remove()  # the failed save kept the network and its message says where
            else:
                checkpoint.lock.close()
                kept = keep_unsaved(checkpoint.path, checkpoint.name)
                message += f"; it is kept in the model store as {(kept or checkpoint.path).name}"
            sys.stderr.write(f"warning: could not save the interrupted training {checkpoint.name!r}: {message}\n")


def check_keras_file(file, label: str) -> None:
    """StoreError unless `file` (a path or a binary file object, called `label` in messages) is a
    `.keras` archive small enough to open, whole and unpacked."""
    size = file.stat().st_size if isinstance(file, Path) else file.seek(0, 2)
    if size > MAX_FILE_BYTES:
        raise StoreError(f"{label} is {size / 1e6:.1f} MB; a .keras file may be at most {MAX_FILE_BYTES / 1e6:g} MB")
    try:
        with zipfile.ZipFile(file) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise StoreError(f"{label} is not a .keras file (not a zip archive: {exc})") from exc
    # Reading a member never yields more than its declared size, so the declared sizes bound it.
    if unpacked > MAX_UNPACKED_BYTES:
        raise StoreError(f"{label} unpacks to {unpacked / 1e6:.0f} MB; at most {MAX_UNPACKED_BYTES / 1e6:g} MB")


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
    x_test, y_test = load_test_set(data)
    probabilities = model_probabilities(model, x_test)
    if not (np.all(np.isfinite(probabilities)) and probabilities.min() >= 0
            and np.allclose(probabilities.sum(axis=1), 1, atol=1e-3)):
        raise StoreError(f"{path.name}: its outputs are not probabilities (end the network with a softmax)")
    accuracy = evaluate_probabilities(y_test, probabilities).accuracy
    card = make_card(name, model, accuracy, owner=owner, temporary=temporary, preset=IMPORTED, hyperparameters={},
                     ended=IMPORTED, epochs_done=0, wall_time_seconds=0, history={}, batch_history=[], command=None)
    return save_model(model, card, *test_set_views(model, x_test, y_test, probabilities), store), accuracy
