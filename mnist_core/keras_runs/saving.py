"""How a network becomes a run: evaluated on the MNIST test set, then saved with those figures.

This runs in the training process (it imports TensorFlow, which the app's server never does).
Two kinds of network arrive here: a finished or stopped training, and the checkpoint of a
training whose process died; importing.py brings a downloaded `.keras` file back the same way.
A run is written to a hidden temporary folder and renamed into place, so a crash never leaves
half a model, and a network whose save fails is kept as `.unsaved-NAME-*` and named in the error.
"""

import os
import platform
import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mnist_core.card import RunCard, write_card
from mnist_core.reading.detector import DigitDetector, write_detector
from mnist_core.config import ConfigError
from mnist_core.data import load_mnist
from mnist_core.evaluate import evaluate_probabilities
from mnist_core.runs.digit_map import DigitMap, compute_map, map_like, write_map
from mnist_core.runs.gallery import Gallery, GalleryError, build_gallery, check_gallery, write_gallery
from mnist_core.runs.store import (BUNDLED_DIR, MODEL_FILE, ONNX_FILE, UNSAVED_PREFIX, StoredRun, StoreError,
                                   check_new_name, hidden_folder, read_run, store_dir)
from mnist_core.training.checkpoint import abandoned_checkpoints, read_checkpoint
from mnist_core.keras_runs.detector_fit import fit_detector
from mnist_core.keras_runs.export import export_onnx
from mnist_core.training.keras_reader import read_test_set


def new_card(name: str, model, test_accuracy: float, **fields) -> RunCard:
    """A card for a network about to be saved: `fields` say how it was made (see RunCard)."""
    import keras
    import tensorflow as tf

    versions = dict(python=platform.python_version(), tensorflow=tf.__version__, keras=keras.__version__,
                    numpy=np.__version__)
    return RunCard(name=name, test_accuracy=test_accuracy, parameters=int(model.count_params()),
                   created=datetime.now(timezone.utc).isoformat(timespec="seconds"), versions=versions, **fields)


def training_card(result, name: str, test_accuracy: float, **fields) -> RunCard:
    """The card of a TrainingResult: its preset, hyperparameters, history and how it ended."""
    return new_card(name, result.model, test_accuracy, preset=result.config.preset,
                    hyperparameters=result.config.to_dict(), ended=result.ended, epochs_done=result.epochs_done,
                    wall_time_seconds=round(result.wall_time, 2), history=result.history,
                    batch_history=list(result.batch_history), **fields)


def test_set_views(x_test: np.ndarray, y_test: np.ndarray, probabilities: np.ndarray, features: np.ndarray,
                   parent_map: DigitMap | None = None) -> tuple[Gallery, DigitMap | None]:
    """What a run keeps of the test set for Explore: its gallery of `probabilities`, and its map of
    `features` (keras_reader.read_test_set gives both), placed on `parent_map` when the network is
    a copy of that map's (None, with a warning, if the map cannot be made: a run is worth saving
    without one)."""
    gallery = build_gallery(x_test, y_test, probabilities)
    try:
        if parent_map is not None and len(parent_map.xy) == len(x_test):
            return gallery, map_like(parent_map, features)
        return gallery, compute_map(features)
    except Exception as exc:
        sys.stderr.write(f"warning: no map of the test set for this run: {type(exc).__name__}: {exc}\n")
        return gallery, None


def save_trained(result, data, name: str, store: Path, handwritten: list[dict] | None = None,
                 **fields) -> tuple[StoredRun, float]:
    """Evaluate a TrainingResult on the test set of `data` (a data.Mnist), fit its digit detector
    on the training digits (thresholded on the validation digits; `handwritten`: real non-digits),
    then save it with those figures (`fields`: more of its card, such as command and owner); the
    run and its test accuracy. A network trained with random stroke widths (augmentation on) is
    read, and so evaluated, at three widths."""
    three_widths = result.config.augment
    features, probabilities = read_test_set(result.model, three_widths, data.x_test)
    accuracy = evaluate_probabilities(data.y_test, probabilities).accuracy
    detector, figures = fit_detector(result.model, data.x_train, data.x_val, result.config.seed, handwritten)
    card = training_card(result, name, accuracy, three_widths=three_widths, detector=figures, **fields)
    views = test_set_views(data.x_test, data.y_test, probabilities, features)
    return save_model(result.model, card, *views, store, detector), accuracy


def recover_abandoned(store: Path) -> None:
    """Save the checkpoint of each training whose process is gone as a stopped run. One that
    cannot be saved is kept as an `.unsaved-NAME-*` folder instead, so it is tried only once."""
    for checkpoint in abandoned_checkpoints(store):
        try:
            if (found := read_checkpoint(checkpoint.path)) is not None:
                result, recorded = found
                data = load_mnist(recorded["data"], result.config.validation_size, result.config.seed)
                save_trained(result, data, checkpoint.name, store, command=recorded["command"],
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


def keep_unsaved(folder: Path, name: str) -> Path | None:
    """Move `folder`, holding a network that could not be saved, where no sweep removes it."""
    kept = folder.with_name(f"{UNSAVED_PREFIX}{name}-{time.time_ns()}")
    try:
        os.rename(folder, kept)
        return kept
    except OSError:
        return None


def save_model(model, card: RunCard, gallery: Gallery, digit_map: DigitMap | None = None,
               store: Path | None = None, detector: DigitDetector | None = None) -> StoredRun:
    """Save a Keras network with its card, test gallery, map and digit detector (those it has)
    atomically as `card.name`; never overwrites."""
    store, name = store or store_dir(), card.name
    try:
        check_new_name(name, store, saving=True)
    except ConfigError as exc:  # taken while it trained (another process saved that name): keep the network
        temp = hidden_folder(store, f".tmp-{name}-")
        model.save(temp / MODEL_FILE)
        kept = keep_unsaved(temp, name)
        raise StoreError(f"could not save {name!r}: {exc}; the trained network is kept in the model store as "
                         f"{(kept or temp).name}/{MODEL_FILE} (`python -m mnist_core import` it under another name)",
                         kept or temp) from exc
    try:
        check_gallery(gallery, f"run {name!r}")
    except GalleryError as exc:
        raise StoreError(str(exc)) from exc
    temp = hidden_folder(store, f".tmp-{name}-")
    temp.chmod(0o755)
    step, network_written = "saving the Keras model", False
    try:
        model.save(temp / MODEL_FILE)
        step, network_written = "exporting it to ONNX", True
        export_onnx(model, temp / ONNX_FILE)
        step = "writing its files"
        write_gallery(gallery, temp)
        if digit_map is not None:
            write_map(digit_map, temp)
        if detector is not None:
            write_detector(detector, temp)
        write_card(card, temp)
        for path in temp.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        os.rename(temp, store / name)
    except Exception as exc:  # export alone raises many types; none may lose the trained network
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else f"{type(exc).__name__}: {exc}"
        kept = keep_unsaved(temp, name) if network_written else None
        if kept is None:
            shutil.rmtree(temp, ignore_errors=True)
        where = (f"the trained network is kept in the model store as {kept.name}/{MODEL_FILE}" if kept
                 else "earlier runs are untouched")
        raise StoreError(f"could not save {name!r} ({step} failed: {reason[:300]}); {where}", kept) from exc
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return read_run(store / name, store.resolve() == BUNDLED_DIR.resolve())
