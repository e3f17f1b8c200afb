"""A person's digits on disk: one file in the model store (`personal.npz`), changed under a lock,
read again only when it changed, and a file that cannot be read set aside rather than overwritten.

The person on their own machine keeps their digits here, so that they outlast the tab (a public
deployment keeps a stranger's digits in their session only, and never calls this). Every tab is
a session of one server process: the lock makes them change the file one at a time, so neither
loses the other's digit, and a lock on a file beside it does the same for other processes (a
second server, a script). The cache is shared by those sessions and checked against the file on
disk at every read, so another process's write is seen. A file that cannot be read is renamed,
never replaced, so that the digits in it can still be recovered.
"""

import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: only the sessions of one process are kept one at a time
    fcntl = None

from mnist_core import personal
from mnist_core.personal import PersonalSet
from mnist_core.runs.store import store_dir

PERSONAL_FILE = "personal.npz"

# Reentrant, since a change reads the file (perhaps setting it aside) before it writes it.
_lock = threading.RLock()
_seen: dict[Path, tuple[tuple | None, PersonalSet]] = {}  # a file -> its stamp when read, and its digits


def path_in(store: Path | None = None) -> Path:
    """The file the digits are kept in, in `store` (the model store by default)."""
    return Path(store or store_dir()) / PERSONAL_FILE


def _stamp(path: Path) -> tuple | None:
    """What tells one version of the file from another, None when there is no file. The inode
    and size with the modification time: a save is a new file renamed into place, so two saves
    within one tick of the file system's clock still differ."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_size, info.st_mtime_ns


def _set_aside(path: Path) -> Path:
    """Rename the file to `<name>-unreadable-<time>.npz` beside it, a name no earlier one holds."""
    base = f"{path.stem}-unreadable-{time.strftime('%Y%m%d-%H%M%S')}"
    kept, n = path.with_name(f"{base}{path.suffix}"), 1
    while kept.exists():
        n += 1
        kept = path.with_name(f"{base}-{n}{path.suffix}")
    path.rename(kept)
    return kept


def read(path: Path, *, on_set_aside: Callable[[str], None]) -> PersonalSet:
    """The digits in `path` (none when there is no file), read from disk only when it changed since
    this process last read or wrote it. A file that cannot be read is set aside and an empty set begins;
    `on_set_aside` gets the message that says so (naming the file, never its folder)."""
    path = Path(path)
    with _lock:
        stamp, cached = _stamp(path), _seen.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        digits = personal.empty()
        if stamp is not None:
            try:
                digits = personal.load(path, path.name)
            except personal.PersonalSetError as exc:
                kept = _set_aside(path)
                stamp = None
                on_set_aside(f"Your saved digits could not be read ({exc}); the file is kept in the model store "
                             f"as {kept.name} and a new set begins.")
        _seen[path] = (stamp, digits)
        return digits


@contextmanager
def _held_across_processes(path: Path):
    """An exclusive lock on `<file>.lock` beside `path`, held until the block ends (closing the
    file releases it, even when the process dies)."""
    if fcntl is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def change(path: Path, how: Callable[[PersonalSet], PersonalSet], *,
           on_set_aside: Callable[[str], None]) -> PersonalSet:
    """Replace the digits in `path` with `how(the digits in it)` and return them; nothing changes when
    `how` raises (PersonalSetError, say) or the file cannot be written (PersonalSetError, OSError).
    Reading, changing and writing are one step for every session and every process."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)  # a new machine's store may not exist yet
    with _lock, _held_across_processes(path):
        new = how(read(path, on_set_aside=on_set_aside))
        personal.save(new, path)
        _seen[path] = (_stamp(path), new)
        return new
