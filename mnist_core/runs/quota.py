"""The store's quota on a public deployment: visitors' runs are temporary, and the oldest go first.

A public deployment's disk is small and is wiped on every reboot anyway, so the runs its
visitors make (`temporary` on their cards) are kept only up to access.Limits' max_runs and
max_megabytes. To make room, the oldest go first, except a run some live session has active:
the server notes, for each session, the run its model picker shows and when it was last seen
(SESSION_TTL later it counts as gone). Runs made by a local user, the deployment's owner or at
the command line, and bundled runs, neither count nor go. Only the server's process calls this
(jobs/queue.py: before a visitor's job starts, and after it saves).
"""

import math
import threading
import time
from pathlib import Path

from mnist_core.jobs.access import Limits
from mnist_core.runs.store import StoredRun, StoreError, delete_run, list_runs

SESSION_TTL = 3600.0  # seconds without a rerun after which a session's active run is free to go

_active: dict[str, tuple[str, float]] = {}  # session's owner id → (its active run, last seen)
_lock = threading.Lock()


def note_active(session: str, run: str | None, clock=time.time) -> None:
    """Record that `session` (its owner id) has `run` active, as of now."""
    with _lock:
        if run is None:
            _active.pop(session, None)
        else:
            _active[session] = (run, clock())


def runs_in_use(clock=time.time) -> set[str]:
    """The runs some session seen within SESSION_TTL has active (forgetting the sessions gone)."""
    with _lock:
        now = clock()
        for session in [s for s, (_, seen) in _active.items() if now - seen > SESSION_TTL]:
            del _active[session]
        return {run for run, _ in _active.values()}


def run_bytes(run: StoredRun) -> int:
    return sum(path.stat().st_size for path in run.path.rglob("*") if path.is_file())


def temporary_runs(store: Path) -> list[StoredRun]:
    """Visitors' runs, oldest first."""
    runs = [run for run in list_runs(store) if not run.bundled and run.card.temporary]
    return sorted(runs, key=lambda run: run.card.created)


def make_room(store: Path, limits: Limits, new_runs: int = 0, keep: frozenset = frozenset()) -> list[str]:
    """Delete the oldest visitors' runs that no session has active (nor in `keep`) until `new_runs`
    more fit in `limits`; the names deleted. StoreError when the rest are all in use."""
    if limits.max_runs is None and limits.max_megabytes is None:
        return []
    max_runs = math.inf if limits.max_runs is None else limits.max_runs
    max_bytes = math.inf if limits.max_megabytes is None else limits.max_megabytes * 1e6
    runs = temporary_runs(store)
    sizes = {run.name: run_bytes(run) for run in runs}
    left, deleted = set(sizes), []

    def full() -> bool:
        return len(left) + new_runs > max_runs or sum(sizes[name] for name in left) > max_bytes

    spared = runs_in_use() | set(keep)
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
        raise StoreError(f"the model store is full: visitors' runs may number {limits.max_runs} and take "
                         f"{limits.max_megabytes:g} MB, and the ones left are in use; try again later")
    return deleted
