"""The model store: saved runs on disk, written atomically, read defensively.

A run is a folder: `model.keras` (for further training and evaluation), `model.onnx` (what the
app serves, without TensorFlow), `card.json` (how it was made and how it did) and
`gallery.npz` (its test probabilities and the test digits Explore shows, so Explore needs no
dataset and no network; see gallery.py). A run is first written to a
hidden temporary folder and then renamed into place, so a crash never leaves half a model.
Bundled runs ship in the package, are read-only and are listed first.

Hidden folders are never listed: `.tmp-*` and `.deleted-*` (swept after an hour), a training's
`.checkpoint-NAME` (see checkpoint.py), and `.unsaved-NAME-*`: a trained network whose save
failed, kept for a person to recover and named in the error.
"""

import json
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from mnist_core.config import ConfigError, validate_name
from mnist_core.training.export import export_onnx
from mnist_core.runs.digit_map import DigitMap, MapError, read_map, write_map
from mnist_core.runs.gallery import Gallery, GalleryError, check_gallery, read_gallery, write_gallery

PACKAGE_DIR = Path(__file__).resolve().parents[1]
BUNDLED_DIR = PACKAGE_DIR / "bundled"
DEFAULT_STORE_DIR = PACKAGE_DIR.parent / "runs"
DEFAULT_MODEL = "default"
MODEL_FILE, ONNX_FILE, CARD_FILE = "model.keras", "model.onnx", "card.json"
CHECKPOINT_PREFIX, UNSAVED_PREFIX = ".checkpoint-", ".unsaved-"
STALE_TEMP_SECONDS = 3600
IN_TRAINING = "a training called {!r} is running or awaits saving; choose another name"


class StoreError(RuntimeError):
    """A run cannot be saved, found, read or deleted; the message says which and why, and `kept`
    is the hidden store folder keeping a trained network whose save failed, if there is one."""

    def __init__(self, message: str, kept: Path | None = None):
        super().__init__(message)
        self.kept = kept


@dataclass(frozen=True)
class StoredRun:
    name: str
    path: Path
    bundled: bool
    card: dict | None  # None when the card is missing or unreadable
    problem: str | None = None  # why the run cannot be used, if it cannot

    @property
    def three_widths(self) -> bool:
        """Whether its network is read at three stroke widths (preprocess.read_at_three_widths), as
        its card says: a network trained with random stroke widths is."""
        return (self.card or {}).get("three_widths") is True

    @property
    def onnx_path(self) -> Path:
        return self.path / ONNX_FILE

    @property
    def keras_path(self) -> Path:
        return self.path / MODEL_FILE

    def gallery(self) -> Gallery:
        """Its test labels, probabilities and the test digits Explore shows."""
        try:
            return read_gallery(self.path, where=f"run {self.name!r}")
        except GalleryError as exc:
            raise StoreError(str(exc)) from exc

    def digit_map(self) -> DigitMap:
        """Its map of the test set (digit_map.py)."""
        try:
            return read_map(self.path, where=f"run {self.name!r}")
        except MapError as exc:
            raise StoreError(str(exc)) from exc


def store_dir() -> Path:
    """Where user runs go: $MNIST_STORE_DIR, else `runs/` beside the package (git-ignored)."""
    return Path(os.environ.get("MNIST_STORE_DIR") or DEFAULT_STORE_DIR)


def _read_run(path: Path, bundled: bool) -> StoredRun:
    card, problem = None, None
    try:
        card = json.loads((path / CARD_FILE).read_text(encoding="utf-8"))
        if not isinstance(card, dict):
            raise ValueError("the card is not a JSON object")
    except FileNotFoundError:
        problem = "card.json is missing"
    except (OSError, ValueError) as exc:
        card, problem = None, f"card.json is unreadable: {exc}"
    if problem is None and not (path / ONNX_FILE).is_file():
        problem = "model.onnx is missing"
    return StoredRun(path.name, path, bundled, card, problem)


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


def list_runs(store: Path | None = None) -> list[StoredRun]:
    """Bundled runs, then user runs, newest first. Hidden (temporary) folders are never listed."""
    store = store or store_dir()
    bundled = [_read_run(p, True) for p in _run_dirs(BUNDLED_DIR)]
    user = [_read_run(p, False) for p in _run_dirs(store) if p.name not in {r.name for r in bundled}]
    user.sort(key=lambda r: (r.card or {}).get("created", ""), reverse=True)
    return bundled + user


def find_run(name: str | None = None, store: Path | None = None) -> StoredRun:
    """The run called `name` (the bundled default when None)."""
    name = name or DEFAULT_MODEL
    try:
        validate_name(name)
    except ConfigError as exc:
        raise StoreError(str(exc)) from exc
    for root, bundled in ((BUNDLED_DIR, True), (store or store_dir(), False)):
        if (root / name).is_dir():
            return _read_run(root / name, bundled)
    raise StoreError(f"no saved model called {name!r}; see `python -m mnist_core list`")


def check_new_name(name: str, store: Path | None = None, saving: bool = False) -> str:
    """Refuse a bad or taken name (ConfigError, as for any bad input) before training, not after it.
    A name is taken by a run, or by a training's checkpoint unless that training is `saving` it."""
    validate_name(name)
    store = store or store_dir()
    bundled = (BUNDLED_DIR / name).exists() and store.resolve() != BUNDLED_DIR.resolve()
    if bundled or (store / name).exists():
        raise ConfigError(f"a model called {name!r} already exists; choose another name")
    if not saving and (store / f"{CHECKPOINT_PREFIX}{name}").exists():
        raise ConfigError(IN_TRAINING.format(name))
    return name


def make_card(name: str, model, test_accuracy: float, owner: str | None = None, temporary: bool = False,
              three_widths: bool = False, **fields) -> dict:
    """Everything about a run worth keeping except the weights: `fields` say how it was made;
    `owner` is the owner id of the app session that made it (access.py), and a `temporary` run
    is a public deployment's visitor's, which the store's quota may delete (quota.py).
    `three_widths`: the network is read at three stroke widths, test accuracy included."""
    import keras
    import tensorflow as tf

    versions = dict(python=platform.python_version(), tensorflow=tf.__version__, keras=keras.__version__,
                    numpy=np.__version__)
    return dict(name=name, **fields, test_accuracy=test_accuracy, parameters=int(model.count_params()),
                created=datetime.now(timezone.utc).isoformat(timespec="seconds"), versions=versions,
                owner=owner, temporary=temporary, three_widths=three_widths)


def training_card(result, name: str, test_accuracy: float, command: str | None, **owner) -> dict:
    """The card of a TrainingResult: its preset, hyperparameters, history and how it ended."""
    return make_card(name, result.model, test_accuracy, preset=result.config.preset,
                     hyperparameters=result.config.to_dict(), ended=result.ended, epochs_done=result.epochs_done,
                     wall_time_seconds=round(result.wall_time, 2), history=result.history,
                     batch_history=list(result.batch_history), command=command, **owner)


def hidden_folder(store: Path, prefix: str) -> Path:
    """A new temporary folder in `store` (swept an hour after a crash left it)."""
    try:
        store.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=store))
    except OSError as exc:
        raise StoreError(f"cannot write to the model store {store}: {exc.strerror or exc}") from exc


def keep_unsaved(folder: Path, name: str) -> Path | None:
    """Move `folder`, holding a network that could not be saved, where no sweep removes it."""
    kept = folder.with_name(f"{UNSAVED_PREFIX}{name}-{time.time_ns()}")
    try:
        os.rename(folder, kept)
        return kept
    except OSError:
        return None


def save_run(result, name: str, gallery: Gallery, test_accuracy: float, command: str | None = None,
             store: Path | None = None, digit_map: DigitMap | None = None, **owner) -> StoredRun:
    """Save a TrainingResult, its test gallery, map and accuracy atomically as `name`; never
    overwrites. `owner`: make_card's owner, temporary and three_widths, and any more card fields."""
    return save_model(result.model, training_card(result, name, test_accuracy, command, **owner), gallery,
                      digit_map, store)


def save_model(model, card: dict, gallery: Gallery, digit_map: DigitMap | None = None,
               store: Path | None = None) -> StoredRun:
    """Save a Keras network with its card, test gallery and map (if any) atomically as `card["name"]`."""
    store, name = store or store_dir(), card["name"]
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
        (temp / CARD_FILE).write_text(json.dumps(card, indent=1), encoding="utf-8")
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
    return _read_run(store / name, store.resolve() == BUNDLED_DIR.resolve())


def delete_run(name: str, store: Path | None = None) -> None:
    run = find_run(name, store)
    if run.bundled:
        raise StoreError(f"{name!r} is a bundled model and cannot be deleted")
    trash = run.path.with_name(f".deleted-{name}-{time.time_ns()}")
    os.rename(run.path, trash)  # one atomic step out of sight, then the slow removal
    shutil.rmtree(trash, ignore_errors=True)


def remove_stale_temporaries(store: Path | None = None) -> list[Path]:
    """Delete leftovers of crashed saves and deletes (hidden folders older than an hour); the
    hour spares a save or delete still in progress in another process."""
    store = store or store_dir()
    hidden = [p for p in (store.iterdir() if store.is_dir() else []) if p.name.startswith((".tmp-", ".deleted-"))]
    stale = [path for path in hidden if time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


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


def check_shapes(input_shape: tuple, output_shape: tuple, where) -> None:
    """Refuse a network that is not an MNIST classifier (28x28[x1] in, 10 classes out)."""
    if tuple(input_shape[1:]) not in {(28, 28), (28, 28, 1)}:
        raise StoreError(f"{where}: expects input {tuple(input_shape[1:])}, not a 28x28 image")
    if tuple(output_shape[1:]) != (10,):
        raise StoreError(f"{where}: gives {tuple(output_shape[1:])} outputs, not 10 digit probabilities")
