"""A network file as it arrives: a `.keras` archive, or an `.h5` file from an older notebook.

The two are told apart by their content, never their name (an upload is written under any
name). Both are bounded before anything is unpacked: an archive as store.check_keras_file says,
an HDF5 file by its size here (and by what its datasets declare, in the import process). A
`.keras` archive's configuration is plain JSON, read here (bounded too) so that the server can
check an upload's architecture (architecture.py) before queueing it; an `.h5` file's is checked
in the import process alone, which runs with a memory limit, so that the server never parses a
stranger's HDF5.
"""

import io
import json
import zipfile
from pathlib import Path

from mnist_core.runs.architecture import Architecture, check_architecture
from mnist_core.runs.store import MAX_FILE_BYTES, StoreError, check_keras_file

KERAS, H5 = "keras", "h5"
HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_CONFIG_BYTES = 2_000_000  # a network's JSON; the `best` preset's is 30 kB
SAVE_HINT = 'save it from the notebook with model.save("mine.keras")'


def _head(file) -> bytes:
    """The first bytes of `file` (a path or a binary file object, left at its start)."""
    if isinstance(file, Path):
        with open(file, "rb") as handle:
            return handle.read(len(HDF5_SIGNATURE))
    file.seek(0)
    head = file.read(len(HDF5_SIGNATURE))
    file.seek(0)
    return head


def file_format(file, label: str) -> str:
    """KERAS (a zip archive) or H5 (an HDF5 file), by content; StoreError for anything else."""
    head = _head(file)
    if head.startswith(b"PK"):
        return KERAS
    if head == HDF5_SIGNATURE:
        return H5
    raise StoreError(f"{label} is neither a .keras nor an .h5 file; {SAVE_HINT}")


def check_network_file(file, label: str) -> str:
    """The format of `file` (a path or a binary file object, called `label` in messages) once its
    sizes are checked, before anything in it is unpacked."""
    size = file.stat().st_size if isinstance(file, Path) else file.seek(0, 2)
    if size > MAX_FILE_BYTES:
        raise StoreError(f"{label} is {size / 1e6:.1f} MB; a network file may be at most {MAX_FILE_BYTES / 1e6:g} MB")
    kind = file_format(file, label)
    if kind == KERAS:
        check_keras_file(file, label)
    return kind


def check_config_size(size: int, label: str) -> None:
    if size > MAX_CONFIG_BYTES:
        raise StoreError(f"{label} declares its network in {size / 1e6:.1f} MB of JSON; at most "
                         f"{MAX_CONFIG_BYTES / 1e6:g} MB")


def parse_config(text, label: str) -> dict:
    """A network's configuration from its JSON text (bounded), or StoreError."""
    check_config_size(len(text), label)
    try:
        config = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{label}: its network's configuration is not JSON ({exc})"[:300]) from exc
    if not isinstance(config, dict):
        raise StoreError(f"{label}: its network's configuration is not one Keras writes")
    return config


def keras_config(file, label: str) -> dict:
    """The configuration a checked `.keras` archive declares (its config.json)."""
    with zipfile.ZipFile(file) as archive:
        try:
            info = archive.getinfo("config.json")
        except KeyError:
            raise StoreError(f"{label} holds no config.json, so no network saved by Keras; {SAVE_HINT}") from None
        check_config_size(info.file_size, label)  # a member never reads longer than it declares
        return parse_config(archive.read(info), label)


def check_upload(data: bytes, label: str) -> Architecture | None:
    """What the server checks of an uploaded network before queueing its import: its sizes and,
    for a `.keras` archive, its architecture (None for an `.h5` file: see the module's doc)."""
    file = io.BytesIO(data)
    if check_network_file(file, label) == H5:
        return None
    return check_architecture(keras_config(file, label), label)


def declared_weight_bytes(data: bytes) -> int:
    """The bytes of weights a checked network file declares: its archive's `.h5` members, or the
    whole of an `.h5` file (what an import's cost is estimated from)."""
    file = io.BytesIO(data)
    if file_format(file, "the file") == H5:
        return len(data)
    with zipfile.ZipFile(file) as archive:
        return sum(member.file_size for member in archive.infolist() if member.filename.endswith(".h5"))
