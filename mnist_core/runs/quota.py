"""The store's quota on a public deployment: visitors' runs are temporary, and the oldest go first.

A public deployment's disk is small and is wiped on every reboot anyway, so the runs its
visitors make (`temporary` on their cards) are kept only up to access.Limits' max_runs and
max_megabytes. The trained networks whose save failed (`.unsaved-*`, store.py) count towards the
megabytes and go first. Then the oldest runs go, except a run some live session has active: the
server notes, for each session, the run its model picker shows, its client and when it was last
seen. A pin ends when its session ends (the server's liveness check, set_liveness) or SESSION_TTL
after it was last seen, and one client's sessions spare at most Limits.max_pins_per_client runs
(their latest), so a stranger's many tabs cannot hold the store full. Runs made by a local user,
the deployment's owner or at the command line, and bundled runs, neither count nor go. Only the
server's process calls this (jobs/queue.py: before a visitor's job starts, and after it saves).
"""

import math
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

from mnist_core.jobs.access import Limits
from mnist_core.runs.store import UNSAVED_PREFIX, StoredRun, StoreError, delete_run, list_runs

SESSION_TTL = 3600.0  # seconds without a rerun after which a session's active run is free to go

_active: dict[str, tuple[str, float, str]] = {}  # session id → (its active run, last seen, its client)
_lock = threading.Lock()
_alive: Callable[[str], bool] | None = None  # whether a session is still connected; None: not known


def set_liveness(alive: Callable[[str], bool] | None) -> None:
    """Tell the quota how to ask whether a session (as note_active names it) is still connected."""
    global _alive
    _alive = alive


def note_active(session: str, run: str | None, client: str | None = None, clock=time.time) -> None:
    """Record that `session` (from `client`, access.Session.client_key) has `run` active, as of now."""
    with _lock:
        if run is None:
            _active.pop(session, None)
        else:
            _active[session] = (run, clock(), client or session)


def runs_in_use(max_per_client: int | None = None, clock=time.time) -> set[str]:
    """The runs some live session seen within SESSION_TTL has active (forgetting the sessions
    gone), at most `max_per_client` for one client: those of its sessions seen last."""
    alive = _alive
    with _lock:
        now = clock()
        sessions = list(_active.items())
    gone = {s for s, (_, seen, _) in sessions if now - seen > SESSION_TTL or (alive is not None and not alive(s))}
    pinned: dict[str, list[str]] = {}
    for session, (run, _, client) in sorted(sessions, key=lambda item: -item[1][1]):
        runs = pinned.setdefault(client, [])
        if session not in gone and run not in runs and (max_per_client is None or len(runs) < max_per_client):
            runs.append(run)
    with _lock:
        for session in gone:
            if session in _active and _active[session][1] == dict(sessions)[session][1]:
                del _active[session]  # unless it was seen again meanwhile
    return {run for runs in pinned.values() for run in runs}


def folder_bytes(folder: Path) -> int:
    """What `folder` takes on disk; files deleted while it is measured (a visitor's Delete, an
    eviction) count as gone, and a folder gone altogether as 0."""
    total = 0
    for root, _, files in os.walk(folder):  # a folder that vanishes mid-walk is skipped, not raised
        for name in files:
            path = Path(root) / name
            try:
                if path.is_file():
                    total += path.stat().st_size
            except OSError:
                pass
    return total


def run_bytes(run: StoredRun) -> int:
    return folder_bytes(run.path)


def temporary_runs(store: Path) -> list[StoredRun]:
    """Visitors' runs, oldest first."""
    runs = [run for run in list_runs(store) if not run.bundled and run.card.temporary]
    return sorted(runs, key=lambda run: run.card.created)


def unsaved_folders(store: Path) -> list[Path]:
    """The trained networks whose save failed (store.py), oldest first."""
    def age(path: Path) -> float:
        try:
            return path.stat().st_mtime
        except OSError:
            return 0.0
    found = [path for path in (store.iterdir() if store.is_dir() else []) if path.name.startswith(UNSAVED_PREFIX)]
    return sorted(found, key=age)


def make_room(store: Path, limits: Limits, new_runs: int = 0, keep: frozenset = frozenset()) -> list[str]:
    """Delete the `.unsaved-*` folders, then the oldest visitors' runs that no session has active
    (nor in `keep`), until `new_runs` more fit in `limits`; the names deleted. StoreError when the
    rest are all in use."""
    if limits.max_runs is None and limits.max_megabytes is None:
        return []
    max_runs = math.inf if limits.max_runs is None else limits.max_runs
    max_bytes = math.inf if limits.max_megabytes is None else limits.max_megabytes * 1e6
    runs, unsaved = temporary_runs(store), unsaved_folders(store)
    sizes = {run.name: run_bytes(run) for run in runs}
    unsaved_bytes = {path.name: folder_bytes(path) for path in unsaved}
    left, deleted = set(sizes), []

    def full() -> bool:
        taken = sum(sizes[name] for name in left) + sum(unsaved_bytes.values())
        return len(left) + new_runs > max_runs or taken > max_bytes

    for path in unsaved:
        if not full():
            break
        shutil.rmtree(path, ignore_errors=True)
        deleted.append(path.name)
        del unsaved_bytes[path.name]
    spared = runs_in_use(limits.max_pins_per_client) | set(keep)
    for run in runs:
        if not full():
            break
        if run.name in spared:
            continue
        try:
            delete_run(run.name, store)
            deleted.append(run.name)
        except (StoreError, OSError):
            pass  # deleted meanwhile by its owner: gone all the same
        left.discard(run.name)
    if full():
        bounds = [*([f"number {limits.max_runs}"] if limits.max_runs is not None else []),
                  *([f"take {limits.max_megabytes:g} MB"] if limits.max_megabytes is not None else [])]
        raise StoreError(f"the model store is full: visitors' runs may {' and '.join(bounds)}, and the ones left "
                         "are in use; try again later")
    return deleted
