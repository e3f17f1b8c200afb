"""The model store: saved runs on disk, written atomically, read defensively.

A run is a folder: `model.keras` (for further training and evaluation), `model.onnx` (what the
app serves, without TensorFlow), `card.json` (how it was made and how it did) and
`gallery.npz` (its test probabilities and the test digits Explore shows, so Explore needs no
dataset and no network; see gallery.py). A run is first written to a
hidden temporary folder and then renamed into place, so a crash never leaves half a model.
Bundled runs ship in the package, are read-only and are listed first.

Hidden folders are never listed: `.tmp-*` and `.deleted-*` (swept after an hour), a training's
`.checkpoint-NAME` (see training/checkpoint.py), and `.unsaved-NAME-*`: a trained network whose save
failed, kept for a person to recover and named in the error.
"""

import json
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mnist_core.card import CARD_FILE, RunCard, read_card
from mnist_core.config import ConfigError, validate_name
from mnist_core.runs.digit_map import DigitMap, MapError, read_map
from mnist_core.runs.gallery import Gallery, GalleryError, read_gallery

PACKAGE_DIR = Path(__file__).resolve().parents[1]
BUNDLED_DIR = PACKAGE_DIR / "bundled"
DEFAULT_STORE_DIR = PACKAGE_DIR.parent / "runs"
DEFAULT_MODEL = "default"
MODEL_FILE, ONNX_FILE = "model.keras", "model.onnx"
CHECKPOINT_PREFIX, UNSAVED_PREFIX = ".checkpoint-", ".unsaved-"
CHECKPOINT_STATE = "state.json"  # what training/checkpoint.py writes after each whole epoch
STALE_TEMP_SECONDS = 3600
MAX_FILE_BYTES = 10_000_000  # a .keras file brought back; the `best` preset's network is 1.4 MB
MAX_UNPACKED_BYTES = 100_000_000
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
    card: RunCard  # all defaults when the card is missing or unreadable (then `problem` says so)
    problem: str | None = None  # why the run cannot be used, if it cannot

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


def read_run(path: Path, bundled: bool) -> StoredRun:
    card, problem = RunCard(path.name), None
    try:
        card = read_card(path)
    except FileNotFoundError:
        problem = f"{CARD_FILE} is missing"
    except (OSError, ValueError) as exc:
        problem = f"{CARD_FILE} is unreadable: {exc}"
    if problem is None and not (path / ONNX_FILE).is_file():
        problem = "model.onnx is missing"
    return StoredRun(path.name, path, bundled, card, problem)


def _run_dirs(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")) if root.is_dir() else []


def list_runs(store: Path | None = None) -> list[StoredRun]:
    """Bundled runs, then user runs, newest first. Hidden (temporary) folders are never listed."""
    store = store or store_dir()
    bundled = [read_run(p, True) for p in _run_dirs(BUNDLED_DIR)]
    user = [read_run(p, False) for p in _run_dirs(store) if p.name not in {r.name for r in bundled}]
    user.sort(key=lambda r: r.card.created, reverse=True)
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
            return read_run(root / name, bundled)
    raise StoreError(f"no saved model called {name!r}; see `python -m mnist_core list`")


def checkpoint_epochs(folder: Path) -> int:
    """How many whole epochs the checkpoint in `folder` holds (0 when none, or no checkpoint)."""
    try:
        return len(json.loads((folder / CHECKPOINT_STATE).read_text(encoding="utf-8"))["history"]["loss"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0


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


def hidden_folder(store: Path, prefix: str) -> Path:
    """A new temporary folder in `store` (swept an hour after a crash left it)."""
    try:
        store.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=store))
    except OSError as exc:
        raise StoreError(f"cannot write to the model store {store}: {exc.strerror or exc}") from exc


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


def check_shapes(input_shape: tuple, output_shape: tuple, where) -> None:
    """Refuse a network that is not an MNIST classifier (28x28[x1] in, 10 classes out)."""
    if tuple(input_shape[1:]) not in {(28, 28), (28, 28, 1)}:
        raise StoreError(f"{where}: expects input {tuple(input_shape[1:])}, not a 28x28 image")
    if tuple(output_shape[1:]) != (10,):
        raise StoreError(f"{where}: gives {tuple(output_shape[1:])} outputs, not 10 digit probabilities")


def check_keras_file(file, label: str) -> None:
    """StoreError unless `file` (a path or a binary file object, called `label` in messages) is a
    `.keras` archive small enough to open, whole and unpacked. Checked before Keras unpacks it,
    in the server (an upload) and in the import process (a file)."""
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
