"""MNIST loading: an explicit path, then $MNIST_PATH, then Keras' download.

The order matters: this machine and CI are offline and use a local copy, while people on a
laptop or on Streamlit Community Cloud rely on the download. Arrays stay uint8 in Keras'
layout (N x 28 x 28, 0 = background, 255 = ink) until a model needs floats.
"""

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KEYS = ("x_train", "y_train", "x_test", "y_test")
DEFAULT_VALIDATION_SIZE = 5000


class DatasetError(RuntimeError):
    """The dataset could not be loaded; the message says which file and what is wrong."""


@dataclass(frozen=True)
class Mnist:
    """Train, validation and test splits, uint8 images and uint8 labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


def _check_arrays(arrays: dict, where: str) -> None:
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28):
            raise DatasetError(f"{where}: x_{split} has shape {x.shape}, expected (N, 28, 28)")
        if y.shape != (x.shape[0],):
            raise DatasetError(
                f"{where}: y_{split} has shape {y.shape}, expected ({x.shape[0]},) to match x_{split}"
            )
        if x.dtype != np.uint8:
            raise DatasetError(f"{where}: x_{split} has dtype {x.dtype}, expected uint8")
        if y.size and (y.min() < 0 or y.max() > 9):
            raise DatasetError(f"{where}: y_{split} holds labels outside 0-9")


def load_npz(path) -> dict:
    """Read an .npz in the layout of Keras' mnist.npz, raising DatasetError on any defect."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such file (expected an .npz with keys {', '.join(KEYS)})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise DatasetError(
                    f"{path}: missing key(s) {', '.join(missing)}; found {', '.join(npz.files) or 'none'}"
                )
            arrays = {k: npz[k] for k in KEYS}
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: not a readable .npz file (truncated or corrupt?): {exc}") from exc
    _check_arrays(arrays, str(path))
    return arrays


def _download() -> dict:
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # network errors come in many types (URLError, OSError, Exception)
        raise DatasetError(
            "Could not download MNIST (this machine seems to be offline): "
            f"{exc}. Point MNIST_PATH at a local mnist.npz, e.g. "
            "MNIST_PATH=../shared/data/mnist.npz"
        ) from exc
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


def load_arrays(path=None) -> tuple[dict, str]:
    """The four raw arrays and where they came from, in the documented order."""
    if path is not None:
        return load_npz(path), str(path)
    env_path = os.environ.get("MNIST_PATH")
    if env_path:
        return load_npz(env_path), env_path
    return _download(), "keras.datasets.mnist"


def load_mnist(path=None, validation_size: int = DEFAULT_VALIDATION_SIZE, seed: int = 0) -> Mnist:
    """MNIST with a seeded validation split carved from the training set.

    Early stopping watches the validation split, so the test set is never used for choices.
    """
    arrays, source = load_arrays(path)
    return split_validation(arrays, validation_size, seed, source)


def split_validation(arrays: dict, validation_size: int, seed: int, source: str = "arrays") -> Mnist:
    n = len(arrays["x_train"])
    if not 0 < validation_size < n:
        raise DatasetError(f"validation size must be between 1 and {n - 1}, got {validation_size}")
    order = np.random.default_rng(seed).permutation(n)
    val, train = order[:validation_size], order[validation_size:]
    return Mnist(
        x_train=arrays["x_train"][train],
        y_train=arrays["y_train"][train],
        x_val=arrays["x_train"][val],
        y_val=arrays["y_train"][val],
        x_test=arrays["x_test"],
        y_test=arrays["y_test"],
        source=source,
    )


def load_test_set(path=None) -> tuple[np.ndarray, np.ndarray]:
    """Only the test images and labels (what evaluation and the Explore page need)."""
    arrays, _ = load_arrays(path)
    return arrays["x_test"], arrays["y_test"]
