"""A network brought in as a run, and loading a run's Keras network, in the training process.

Two kinds of file arrive: a run downloaded from this app (kept across a deployment's reboots),
and a network a person trained in their own notebook, saved with `model.save("mine.keras")` (or
as `.h5` by an older notebook). `python -m mnist_core import FILE --name NAME` brings either in,
and the app queues it like a training. A file may be a stranger's, so before Keras loads it:
its sizes (network_file.py), what its HDF5 datasets declare and the architecture it declares
(runs/architecture.py: ordinary layers in one chain, a bounded cost) are checked, each refusal
naming its rule; Keras then loads it in safe mode (no code from the file runs), in a process
with a memory limit (cli/training.py). Its pixel scale and whether it ends in logits are found
(adapter.py), and it is saved adapted, as every run is: 28x28x1 pixels in [0, 1] in, ten
probabilities out. It is evaluated on the MNIST test set, so it carries the figures Explore shows.
"""

import io
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from mnist_core.data import load_arrays
from mnist_core.evaluate import evaluate_probabilities
from mnist_core.runs.architecture import Architecture, check_architecture
from mnist_core.runs.network_file import H5, KERAS, SAVE_HINT, check_network_file, keras_config, parse_config
from mnist_core.runs.store import (MAX_UNPACKED_BYTES, StoredRun, StoreError, check_new_name, check_shapes,
                                   store_dir)
from mnist_core.keras_runs.adapter import PIXEL_SCALES, adapted_network, are_probabilities, find_reading
from mnist_core.keras_runs.detector_fit import fit_detector, held_out_split
from mnist_core.training.keras_reader import read_test_set
from mnist_core.keras_runs.saving import new_card, save_model, test_set_views

IMPORTED = "imported"  # an imported run's preset and `ended`
# Features × digits a digit detector is fitted on: its regression holds a few float64 copies of
# them (the fit's regression reads each digit twice, and as many non-digits), so a network whose
# last layer reads many features (Keras' mnist_convnet: 1,600, architecture.MAX_FEATURES at most)
# is fitted on fewer digits, within the import's memory; one reading 128 is fitted on all it asks.
DETECTOR_VALUES = 12_000_000
WEIGHTS_MEMBER = "model.weights.h5"  # where a .keras archive keeps its weights


def load_keras_model(run: StoredRun):
    """The run's Keras network, loaded in safe mode and checked to be a 28x28 → 10 classifier."""
    return load_keras_file(run.keras_path)


def _keras_load(path: Path, label: str):
    """Keras' safe-mode load (no code from the file runs), any failure a StoreError."""
    import keras

    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError, OSError, zipfile errors, TypeError...
        raise StoreError(f"{label}: not a loadable Keras model ({type(exc).__name__}: {exc})"[:600]) from exc
    if not isinstance(model, keras.Model):
        raise StoreError(f"{label}: holds a {type(model).__name__}, not a Keras model")
    return model


def load_keras_file(path: Path):
    """A run's `.keras` file's network, loaded in safe mode and checked to be a 28x28 → 10 classifier."""
    model = _keras_load(path, str(path))
    check_shapes(tuple(model.inputs[0].shape), tuple(model.outputs[0].shape), path)
    return model


def check_datasets(h5file, label: str) -> None:
    """Refuse HDF5 weights that declare more bytes than an archive may unpack to (datasets can be
    compressed inside the file), or that point outside the file (external links and storage)."""
    import h5py

    declared = 0

    def visit(name, link):
        nonlocal declared
        if isinstance(link, h5py.ExternalLink):
            raise StoreError(f"{label}: its weights link to another file ({name})")
        item = h5file.get(name)
        if isinstance(item, h5py.Dataset):
            if item.external or item.is_virtual:
                raise StoreError(f"{label}: its weights are stored outside the file ({name})")
            declared += item.size * item.dtype.itemsize

    h5file.visititems_links(visit)
    if declared > MAX_UNPACKED_BYTES:
        raise StoreError(f"{label}'s weights unpack to {declared / 1e6:.0f} MB; at most {MAX_UNPACKED_BYTES / 1e6:g} MB")


def checked_architecture(path: Path, label: str) -> tuple[str, Architecture]:
    """(format, the architecture it declares) of a network file, checked before Keras loads it."""
    import h5py

    kind = check_network_file(path, label)
    try:
        if kind == KERAS:
            config = keras_config(path, label)
            with zipfile.ZipFile(path) as archive:
                if WEIGHTS_MEMBER in archive.namelist():
                    with h5py.File(io.BytesIO(archive.read(WEIGHTS_MEMBER)), "r") as weights:
                        check_datasets(weights, label)
            return kind, check_architecture(config, label)
        with h5py.File(path, "r") as h5file:
            check_datasets(h5file, label)
            text = h5file.attrs.get("model_config")
            if text is None:
                raise StoreError(f"{label} holds weights alone, not a network; {SAVE_HINT}")
            return kind, check_architecture(parse_config(text, label), label)
    except (OSError, zipfile.BadZipFile) as exc:  # h5py's and zipfile's errors on a damaged file
        raise StoreError(f"{label} cannot be read ({type(exc).__name__}: {exc})"[:400]) from exc


def load_network(path: Path, label: str):
    """(Keras network, its architecture, its format) of a network file, checked before Keras loads it (see the
    module's doc). Keras picks how to read a file by its suffix; an upload's says nothing, so the
    file is read under the suffix its content calls for. An `.h5` file Keras cannot load without
    running code from it is refused, with how to save it again."""
    kind, architecture = checked_architecture(path, label)
    with tempfile.TemporaryDirectory(prefix="mnist-import-") as folder:
        named = Path(folder) / f"network.{kind}"
        shutil.copyfile(path, named)
        try:
            model = _keras_load(named, label)
        except StoreError as exc:
            raise StoreError(f"{exc}; re-save it as .keras" if kind == H5 else str(exc)) from exc
    if model.count_params() != architecture.parameters:  # what Keras built is what was checked
        raise StoreError(f"{label}: Keras built {model.count_params():,} parameters where the file declares "
                         f"{architecture.parameters:,}")
    return model, architecture, kind


def imported_figures(architecture: Architecture, reading, kind: str) -> dict:
    """What the card says of an imported network: its architecture, input, pixel scale and softmax."""
    return dict(architecture=[layer.to_dict() for layer in architecture.layers], description=architecture.describe(),
                input_shape=list(reading.input_shape), pixel_scale=reading.scale,
                pixel_transform=list(PIXEL_SCALES[reading.scale]), softmax_added=reading.softmax_added,
                scale_accuracies=reading.accuracies, scale_losses=reading.losses, operations=architecture.operations, file_format=kind)


def import_keras(path: Path, name: str, store: Path | None = None, data=None, owner: str | None = None,
                 temporary: bool = False) -> tuple[StoredRun, float]:
    """Check, adapt, evaluate and save the network in `path` (a .keras or .h5 file) as the run
    `name`; the run and its test accuracy. `data`: an mnist.npz (default: $MNIST_PATH, then the download)."""
    store = store or store_dir()
    check_new_name(name, store)
    label = path.name
    model, architecture, kind = load_network(path, label)
    mnist, _ = load_arrays(data)
    reading = find_reading(model, architecture.input_shape, mnist["x_train"], mnist["y_train"], label)
    model = adapted_network(model, reading)
    x_test, y_test = mnist["x_test"], mnist["y_test"]
    features, probabilities = read_test_set(model, False, x_test)  # an imported network is read once
    if not are_probabilities(probabilities):
        raise StoreError(f"{label}: its answers are not probabilities even with a softmax")
    accuracy = evaluate_probabilities(y_test, probabilities).accuracy
    fit_on, held_out = held_out_split(mnist["x_train"])
    width = int(np.prod(model.layers[-1].input.shape[1:]))
    detector, figures = fit_detector(model, fit_on[:DETECTOR_VALUES // (4 * width)], held_out)
    card = new_card(name, model, accuracy, owner=owner, temporary=temporary, preset=IMPORTED, ended=IMPORTED,
                    detector=figures, imported=imported_figures(architecture, reading, kind))
    return save_model(model, card, *test_set_views(x_test, y_test, probabilities, features), store, detector), accuracy
