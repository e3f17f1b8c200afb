"""A person's own digits, the "personal set": what they drew and what it is, to teach a model with.

Each example is the 28x28 input the network saw (`Prediction.model_input`) and the digit it
really is. The set is kept as MNIST keeps its digits, uint8 with 0 = background and 255 = ink:
a quarter of the memory of floats, it mixes with MNIST's own arrays as it is, and a set saved
and loaded again is exactly the same set. It travels as an `.npz` with `x` (N x 28 x 28) and
`y` (N,): files come from strangers, so a file is read only after its size, its declared array
shapes and types have been checked, never with pickles, and every defect is a PersonalSetError
that says what is wrong. No TensorFlow and no Streamlit here.
"""

import io
import os
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.reading.preprocess import IMAGE_SUFFIXES, DrawingError, read_image, to_model_input

MAX_EXAMPLES = 500  # enough to teach a model anyone's hand; a few seconds of fine-tuning either way
MIN_TO_FINETUNE = 10  # fewer teach too little to be worth a fine-tune; half are held out to measure it
MAX_FILE_BYTES = 4_000_000  # MAX_EXAMPLES images even stored uncompressed as float64 (3.1 MB)
FLOAT_TYPES = (np.float16, np.float32, np.float64)


class PersonalSetError(ValueError):
    """An example or a file cannot be used; the message says which and why."""


@dataclass(frozen=True)
class PersonalSet:
    x: np.ndarray  # (N, 28, 28) uint8, 0 = background, 255 = ink
    y: np.ndarray  # (N,) uint8 digits

    def __len__(self) -> int:
        return len(self.y)

    def counts(self) -> list[int]:
        """How many examples of each digit, 0 to 9."""
        return np.bincount(self.y, minlength=10).tolist()

    def model_inputs(self) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1], what the network takes."""
        return self.x.astype(np.float32) / 255.0


def empty() -> PersonalSet:
    return PersonalSet(np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))


def _as_pixels(image, where: str) -> np.ndarray:
    """A 28x28 model input (floats in [0, 1], or uint8) as uint8, PersonalSetError if it is not one."""
    image = np.asarray(image)
    if image.shape == (28, 28, 1):
        image = image[..., 0]
    if image.shape != (28, 28):
        raise PersonalSetError(f"{where} has shape {image.shape}, expected a 28x28 model input")
    if image.dtype == np.uint8:
        pixels = image
    elif image.dtype in FLOAT_TYPES:
        if not np.isfinite(image).all():
            raise PersonalSetError(f"{where} holds NaN or infinite values")
        if image.min() < 0 or image.max() > 1:
            raise PersonalSetError(f"{where} has values from {image.min():.3g} to {image.max():.3g}, "
                                   "expected 0 (background) to 1 (ink)")
        pixels = np.round(image.astype(np.float64) * 255).astype(np.uint8)
    else:
        raise PersonalSetError(f"{where} has dtype {image.dtype}, expected floats in [0, 1] or uint8")
    if not pixels.any():
        raise PersonalSetError(f"{where} is blank: there is no digit in it")
    return pixels


def _as_label(label, where: str) -> int:
    if isinstance(label, (bool, np.bool_)) or not isinstance(label, (int, np.integer)) or not 0 <= label <= 9:
        raise PersonalSetError(f"{where}: the label must be a digit 0-9, got {label!r}")
    return int(label)


def add(personal: PersonalSet, image, label) -> PersonalSet:
    """`personal` with one more example: `image` a 28x28 model input, `label` its digit (a new set;
    the old one is unchanged, so a page can keep either)."""
    if len(personal) >= MAX_EXAMPLES:
        raise PersonalSetError(f"the personal set is full ({MAX_EXAMPLES} digits): fine-tune on it, "
                               "or download it and start a new one")
    pixels, digit = _as_pixels(image, "the drawing"), _as_label(label, "the drawing")
    return PersonalSet(np.concatenate([personal.x, pixels[None]]), np.append(personal.y, np.uint8(digit)))


def without_last(personal: PersonalSet) -> PersonalSet:
    """`personal` without its newest example (an undo); the empty set stays empty."""
    return PersonalSet(personal.x[:-1], personal.y[:-1])


def merge(personal: PersonalSet, more: PersonalSet) -> PersonalSet:
    """`personal` then the examples of `more` it does not hold yet (the same picture with the same
    label), so a file uploaded twice adds nothing the second time; PersonalSetError when the two
    together hold more than MAX_EXAMPLES."""
    seen = {(image.tobytes(), label) for image, label in zip(personal.x, personal.y.tolist())}
    new = []
    for i, (image, label) in enumerate(zip(more.x, more.y.tolist())):
        if (key := (image.tobytes(), label)) not in seen:
            seen.add(key)
            new.append(i)
    if len(personal) + len(new) > MAX_EXAMPLES:
        raise PersonalSetError(f"together that is {len(personal) + len(new)} digits, more than the {MAX_EXAMPLES} "
                               "a personal set holds: fine-tune on what you have, or start a new set")
    return PersonalSet(np.concatenate([personal.x, more.x[new]]), np.concatenate([personal.y, more.y[new]]))


def from_arrays(x, y, where: str = "the examples") -> PersonalSet:
    """A set from N model inputs (N x 28 x 28, uint8 or floats in [0, 1]) and their N labels."""
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 3 or x.shape[1:] != (28, 28):
        raise PersonalSetError(f"{where}: x has shape {x.shape}, expected (N, 28, 28)")
    if y.shape != (len(x),):
        raise PersonalSetError(f"{where}: y has shape {y.shape}, expected ({len(x)},) to match x")
    if len(x) > MAX_EXAMPLES:
        raise PersonalSetError(f"{where}: {len(x)} examples, more than the {MAX_EXAMPLES} a personal set holds")
    if not np.issubdtype(y.dtype, np.integer) or (len(y) and (y.min() < 0 or y.max() > 9)):
        raise PersonalSetError(f"{where}: y must hold digits 0-9 (integers), got dtype {y.dtype}")
    pixels = np.stack([_as_pixels(image, f"{where}: example {i}") for i, image in enumerate(x)]) if len(x) else x
    return PersonalSet(np.asarray(pixels, np.uint8).reshape(-1, 28, 28), y.astype(np.uint8))


def to_bytes(personal: PersonalSet) -> bytes:
    """The set as a compressed .npz: `x` (N, 28, 28) uint8 and `y` (N,) uint8."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, x=personal.x, y=personal.y)
    return buffer.getvalue()


def save(personal: PersonalSet, path) -> Path:
    """Write the set to `path` atomically: a temporary file beside it, then a rename."""
    path = Path(path)
    data = to_bytes(personal)
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out:
                os.fchmod(out.fileno(), 0o644)
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)  # gone already when it was renamed
    except OSError as exc:
        raise PersonalSetError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def _declared(archive: zipfile.ZipFile, key: str, where: str) -> tuple[tuple, np.dtype]:
    """The shape and dtype the .npy header of `key` declares, read before any array data."""
    try:
        with archive.open(f"{key}.npy") as member:
            version = np.lib.format.read_magic(member)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise PersonalSetError(f"{where}: {key} is stored in .npy version {version}, expected 1.0 or 2.0")
            shape, _, dtype = read_header(member)
    except KeyError:
        raise PersonalSetError(f"{where}: not a personal set: it has no {key!r} array "
                               f"(found {', '.join(n.removesuffix('.npy') for n in archive.namelist()) or 'none'}); "
                               "expected x (N x 28 x 28 digits) and y (N labels)") from None
    return shape, dtype


def from_bytes(data: bytes, where: str = "the file") -> PersonalSet:
    """A set from the bytes of an .npz (an upload, say); PersonalSetError for anything else.

    `where` names the file in messages (never a server path)."""
    if len(data) > MAX_FILE_BYTES:
        raise PersonalSetError(f"{where} is {len(data):,} bytes; a personal set is at most {MAX_FILE_BYTES:,}")
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise PersonalSetError(f"{where} is not an .npz file (a personal set saved by this app has x and y arrays)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            (x_shape, x_dtype), (y_shape, y_dtype) = (_declared(archive, key, where) for key in ("x", "y"))
            if len(x_shape) != 3 or x_shape[1:] != (28, 28) or x_shape[0] > MAX_EXAMPLES:
                raise PersonalSetError(f"{where}: x has shape {x_shape}, expected (N, 28, 28) with N at most "
                                       f"{MAX_EXAMPLES}")
            if y_shape != x_shape[:1]:
                raise PersonalSetError(f"{where}: y has shape {y_shape}, expected ({x_shape[0]},) to match x")
            if x_dtype != np.uint8 and x_dtype not in FLOAT_TYPES:
                raise PersonalSetError(f"{where}: x has dtype {x_dtype}, expected uint8 or floats in [0, 1]")
            if not np.issubdtype(y_dtype, np.integer):
                raise PersonalSetError(f"{where}: y has dtype {y_dtype}, expected integer digits 0-9")
            arrays = {}
            for key in ("x", "y"):
                with archive.open(f"{key}.npy") as member:
                    arrays[key] = np.lib.format.read_array(member, allow_pickle=False)
    except PersonalSetError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError) as exc:
        raise PersonalSetError(f"{where} is damaged or truncated ({exc})"[:400]) from exc  # RuntimeError: encrypted
    return from_arrays(arrays["x"], arrays["y"], where)


def load(path, where: str | None = None) -> PersonalSet:
    """A set from an .npz file (see from_bytes)."""
    path = Path(path)
    where = where or str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise PersonalSetError(f"{where} is {path.stat().st_size:,} bytes; a personal set is at most "
                                   f"{MAX_FILE_BYTES:,}")
        data = path.read_bytes()
    except OSError as exc:
        raise PersonalSetError(f"cannot read {where}: {exc.strerror or exc}") from exc
    return from_bytes(data, where)


def load_folder(folder, limit: int = MAX_EXAMPLES) -> PersonalSet:
    """A set from a folder with one subfolder per digit (`0` ... `9`) of images (PNG, JPEG, ...), each
    made into a model input exactly as the app makes a drawing into one."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PersonalSetError(f"{folder} is not a folder")
    try:
        subfolders = [p for p in sorted(folder.iterdir()) if p.is_dir() and not p.name.startswith(".")]
        strangers = [p.name for p in subfolders if p.name not in set("0123456789")]
        if strangers or not subfolders:
            raise PersonalSetError(f"{folder}: expected only subfolders named 0 to 9, one per digit"
                                   + (f"; found {', '.join(map(repr, strangers[:5]))}" if strangers else ""))
        files = [(int(sub.name), f) for sub in subfolders for f in sorted(sub.iterdir())
                 if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES]
    except OSError as exc:
        raise PersonalSetError(f"cannot read {folder}: {exc.strerror or exc}") from exc
    if not files:
        raise PersonalSetError(f"{folder}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in its digit subfolders")
    if len(files) > limit:
        raise PersonalSetError(f"{folder}: {len(files)} images, more than the {limit} a personal set holds")
    images = []
    for _, path in files:
        try:
            images.append(to_model_input(read_image(path)))
        except DrawingError as exc:
            raise PersonalSetError(f"{path}: {exc}") from exc
    return from_arrays(np.stack(images), np.array([digit for digit, _ in files]), str(folder))


def read_examples(path) -> PersonalSet:
    """A set from a folder of digit subfolders, or from an .npz file (the `finetune --examples` argument)."""
    return load_folder(path) if Path(path).is_dir() else load(path)
