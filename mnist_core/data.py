"""MNIST loading: an explicit path, then $MNIST_PATH, then Keras' cached (or downloaded) file.

The order matters: this machine and CI are offline and use a local copy, while people on a
laptop or on Streamlit Community Cloud rely on the download. The download uses only the
standard library, so the app's server never imports TensorFlow, and it lands where Keras'
`mnist.load_data()` looks, so the app and Keras share one file. Arrays stay uint8 in Keras'
layout (N x 28 x 28, 0 = background, 255 = ink) until a model needs floats.
"""

import hashlib
import http.client
import os
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KEYS = ("x_train", "y_train", "x_test", "y_test")
TEST_KEYS = ("x_test", "y_test")
DEFAULT_VALIDATION_SIZE = 5000

# Keras' own origin and checksum (keras/src/datasets/mnist.py); MNIST_URL and MNIST_SHA256
# override them for mirrors and tests.
MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
MAX_DOWNLOAD_BYTES = 20_000_000  # Keras' mnist.npz is 11,490,434 bytes
READ_TIMEOUT_SECONDS = 30  # per connection attempt and per read
DOWNLOAD_DEADLINE_SECONDS = 300  # a server trickling bytes cannot hold a page forever
OFFLINE_HINT = ("Set MNIST_PATH to a local copy of mnist.npz (Keras' layout), "
                "or MNIST_URL and MNIST_SHA256 to a mirror.")

BUNDLED_SAMPLE = Path(__file__).resolve().parent / "bundled" / "mnist_sample.npz"
SAMPLE_KEYS = ("images", "labels", "indices")

# Many sessions may open a page that needs the data at once: one downloads, the others wait
# and then find the cached file.
_download_lock = threading.Lock()


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


def check_digits(x: np.ndarray, y: np.ndarray, where: str, names=("x", "y")) -> None:
    """Raise DatasetError unless x is uint8 N x 28 x 28 and y holds N labels 0-9."""
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise DatasetError(f"{where}: {names[0]} has shape {x.shape}, expected (N, 28, 28)")
    if y.shape != (x.shape[0],):
        raise DatasetError(f"{where}: {names[1]} has shape {y.shape}, expected ({x.shape[0]},) to match {names[0]}")
    if x.dtype != np.uint8:
        raise DatasetError(f"{where}: {names[0]} has dtype {x.dtype}, expected uint8")
    if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() > 9)):
        raise DatasetError(f"{where}: {names[1]} holds labels outside 0-9")


def read_npz(path, keys, where: str | None = None) -> dict:
    """The arrays `keys` of an .npz (only those are decompressed), DatasetError on any defect.

    `where` names the file in messages instead of its path (no server paths for visitors).
    """
    path, where = Path(path), where or str(path)
    if not path.is_file():
        raise DatasetError(f"{where}: no such file (expected an .npz with keys {', '.join(keys)})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in keys if k not in npz.files]
            if missing:
                raise DatasetError(f"{where}: missing key(s) {', '.join(missing)}; "
                                   f"found {', '.join(npz.files) or 'none'}")
            return {k: npz[k] for k in keys}
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{where}: not a readable .npz file (truncated or corrupt?): {exc}") from exc


def load_npz(path, keys=KEYS, where: str | None = None) -> dict:
    """Read MNIST arrays in the layout of Keras' mnist.npz (all four, or only TEST_KEYS)."""
    arrays = read_npz(path, keys, where)
    for split in sorted({k[2:] for k in keys}):
        check_digits(arrays[f"x_{split}"], arrays[f"y_{split}"], where or str(path),
                     (f"x_{split}", f"y_{split}"))
    return arrays


def keras_cache_path() -> Path:
    """Where `keras.datasets.mnist.load_data()` keeps mnist.npz, by Keras' own rules.

    keras/src/backend/config.py: $KERAS_HOME if set, else ~/.keras, or /tmp/.keras when the
    home folder is not writable; Keras creates that folder on import. Then
    keras/src/utils/file_utils.get_file: if it is not writable, /tmp/.keras; then `datasets/`.
    """
    if "KERAS_HOME" in os.environ:
        home = os.environ["KERAS_HOME"]
    else:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    home = os.path.expanduser(home)
    try:
        os.makedirs(home, exist_ok=True)
    except OSError:
        pass  # then it is not writable either, and Keras falls back as below
    if not os.access(home, os.W_OK):
        home = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(), ".keras")
    return Path(home) / "datasets" / "mnist.npz"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _expected_sha256() -> str:
    expected = (os.environ.get("MNIST_SHA256") or MNIST_SHA256).strip().lower()
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise DatasetError(f"MNIST_SHA256 must be 64 hexadecimal digits, got {expected!r}")
    return expected


def _fetch(url: str, out) -> str:
    """Copy `url` into the open file `out`, bounded in size and time; its SHA-256."""
    if not url.lower().startswith(("http://", "https://")):
        raise DatasetError(f"MNIST_URL must be an http:// or https:// address, got {url!r}")
    deadline = time.monotonic() + DOWNLOAD_DEADLINE_SECONDS
    digest, size = hashlib.sha256(), 0
    request = urllib.request.Request(url, headers={"User-Agent": "mnist-studio"})
    try:
        with urllib.request.urlopen(request, timeout=READ_TIMEOUT_SECONDS) as response:
            announced = response.headers.get("Content-Length", "")
            if announced.isdigit() and int(announced) > MAX_DOWNLOAD_BYTES:
                raise DatasetError(f"{url} offers {int(announced):,} bytes; MNIST is about 11 MB "
                                   f"(limit {MAX_DOWNLOAD_BYTES:,}). Nothing was saved.")
            while chunk := response.read1(1 << 16):  # read1: a trickle still meets the deadline
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise DatasetError(f"{url} sent more than {MAX_DOWNLOAD_BYTES:,} bytes; "
                                       "MNIST is about 11 MB. Nothing was saved.")
                if time.monotonic() > deadline:
                    raise DatasetError(f"Downloading MNIST from {url} took longer than "
                                       f"{DOWNLOAD_DEADLINE_SECONDS} s. Nothing was saved. {OFFLINE_HINT}")
                digest.update(chunk)
                out.write(chunk)
            if announced.isdigit() and size != int(announced):
                raise DatasetError(f"The connection to {url} closed after {size:,} of {int(announced):,} "
                                   f"bytes. Nothing was saved. {OFFLINE_HINT}")
    except urllib.error.HTTPError as exc:
        raise DatasetError(f"Could not download MNIST: {url} answered HTTP {exc.code} {exc.reason}. "
                           f"{OFFLINE_HINT}") from exc
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise DatasetError(f"Could not download MNIST from {url} (is this machine offline?): {reason}. "
                           f"{OFFLINE_HINT}") from exc
    return digest.hexdigest()


def download_mnist() -> Path:
    """Keras' cached mnist.npz, downloaded first unless a copy with the right SHA-256 is there.

    The download goes to a temporary file beside the target, is checked against the
    checksum, and only then renamed into place: no reader ever sees a partial or wrong file.
    """
    url, expected = os.environ.get("MNIST_URL") or MNIST_URL, _expected_sha256()
    target = keras_cache_path()
    with _download_lock:
        if target.is_file() and _sha256(target) == expected:
            return target
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".mnist-", suffix=".part")
        except OSError as exc:
            raise DatasetError(f"Cannot write to Keras' cache folder: {exc.strerror}. "
                               f"Set KERAS_HOME to a writable folder. {OFFLINE_HINT}") from exc
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), 0o644)  # mkstemp's 0600 would hide it from Keras run by others
                got = _fetch(url, out)
                out.flush()
                os.fsync(out.fileno())
            if got != expected:
                raise DatasetError(f"The file downloaded from {url} has SHA-256 {got}, expected "
                                   f"{expected}; it was not saved. {OFFLINE_HINT}")
            os.replace(temporary, target)
        finally:
            Path(temporary).unlink(missing_ok=True)  # gone already when it was renamed
    return target


def load_arrays(path=None, keys=KEYS) -> tuple[dict, str]:
    """The raw arrays and where they came from, in the documented order."""
    if path is not None:
        return load_npz(path, keys), str(path)
    env_path = os.environ.get("MNIST_PATH")
    if env_path:
        return load_npz(env_path, keys, where="MNIST_PATH"), env_path
    return load_npz(download_mnist(), keys, where="the downloaded mnist.npz"), "Keras' mnist.npz"


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
    """Only the test images and labels (the training arrays are never decompressed)."""
    arrays, _ = load_arrays(path, TEST_KEYS)
    return arrays["x_test"], arrays["y_test"]


def local_test_set() -> tuple[np.ndarray, np.ndarray] | None:
    """The test set if this machine has MNIST ($MNIST_PATH, else Keras' cached copy), else None:
    it never downloads."""
    if os.environ.get("MNIST_PATH"):
        return load_test_set()
    cached = keras_cache_path()
    return load_test_set(cached) if cached.is_file() else None


def load_sample(path=BUNDLED_SAMPLE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bundled sample of MNIST test digits: (images, labels, test-set indices); no dataset.

    Made by bench/make_mnist_sample.py; its attribution is in bundled/MNIST_SAMPLE.md.
    """
    arrays = read_npz(path, SAMPLE_KEYS, where="the bundled MNIST sample")
    images, labels, indices = (arrays[k] for k in SAMPLE_KEYS)
    check_digits(images, labels, "the bundled MNIST sample", ("images", "labels"))
    if indices.shape != labels.shape or not np.issubdtype(indices.dtype, np.integer):
        raise DatasetError(f"the bundled MNIST sample: indices have shape {indices.shape} "
                           f"and dtype {indices.dtype}, expected {labels.shape} integers")
    return images, labels, indices
