"""The .npz files a run keeps beside its network (gallery.npz, map.npz): written atomically, read
back with a bound on what they may inflate to, since a store's files may be a stranger's upload
or a crash's leftovers."""

import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np


class NpzError(ValueError):
    """The file is missing, too large unpacked, lacks an array, or cannot be read; says which."""


def write_atomically(path: Path, arrays: dict) -> Path:
    """Write `arrays` as a compressed .npz at `path`: a temporary file beside it, then a rename."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)  # like any other file of the run, not mkstemp's 0600
            np.savez_compressed(out, **arrays)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)  # gone already when it was renamed
    return path


def read_bounded(path: Path, keys: tuple, max_unpacked_bytes: int, where: str) -> dict:
    """The arrays `keys` of the .npz at `path`, read only if its members declare at most
    `max_unpacked_bytes` in all (reading a member never yields more than it declares)."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
        if inflated > max_unpacked_bytes:
            raise NpzError(f"{where}: {path.name} would inflate to {inflated:,} bytes (limit {max_unpacked_bytes:,})")
        with np.load(path, allow_pickle=False) as npz:
            if missing := [k for k in keys if k not in npz.files]:
                raise NpzError(f"{where}: {path.name} lacks {', '.join(missing)}")
            return {k: npz[k] for k in keys}
    except NpzError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise NpzError(f"{where}: {path.name} is unreadable (truncated or corrupt?): {exc}") from exc
