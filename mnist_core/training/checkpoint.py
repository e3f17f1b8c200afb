"""A training's checkpoint: its last whole epoch on disk, and its claim on its run's name.

A training writes `.checkpoint-NAME` in the model store after every whole epoch, so a process
killed outright loses at most the epoch in progress. While the training lives it holds an
exclusive lock on the folder's lock file; the system drops that lock when the process dies,
however it dies, so a checkpoint whose lock can be taken is abandoned, and the next training
to start saves it as a stopped run (saving.recover_abandoned).
"""

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from mnist_core.config import ConfigError, TrainConfig
from mnist_core.runs.store import CHECKPOINT_PREFIX, CHECKPOINT_STATE, IN_TRAINING, hidden_folder
from mnist_core.progress import STOPPED
from mnist_core.training.train import TrainingResult

LOCK_FILE = "lock"


def write_checkpoint(folder: Path, result: TrainingResult, **recorded) -> None:
    """Keep `result` so far in `folder`, with `recorded` (JSON values); a process killed at any
    moment leaves the previous checkpoint or this one, whole: the network goes to a new file, and
    one atomic rename of the state that names it switches to it."""
    model_file = f"epoch-{result.epochs_done}.keras"
    result.model.save(folder / model_file)
    state = dict(recorded, config=result.config.to_dict(), history=result.history, wall_time=result.wall_time,
                 batch_history=list(result.batch_history), model=model_file)
    (folder / f"{CHECKPOINT_STATE}.tmp").write_text(json.dumps(state), encoding="utf-8")
    for path in (folder / model_file, folder / f"{CHECKPOINT_STATE}.tmp"):
        with open(path, "rb") as handle:
            os.fsync(handle.fileno())
    os.replace(folder / f"{CHECKPOINT_STATE}.tmp", folder / CHECKPOINT_STATE)
    for old in folder.glob("epoch-*.keras"):
        if old.name != model_file:
            old.unlink()


def read_checkpoint(folder: Path) -> tuple[TrainingResult, dict] | None:
    """The checkpoint in `folder` as a stopped TrainingResult, and what was recorded with it; None
    when it holds no whole epoch yet."""
    if not (folder / CHECKPOINT_STATE).is_file():
        return None
    import keras

    state = json.loads((folder / CHECKPOINT_STATE).read_text(encoding="utf-8"))
    model = keras.saving.load_model(folder / state.pop("model"), compile=False, safe_mode=True)
    result = TrainingResult(model, TrainConfig(**state.pop("config")), state.pop("history"), state.pop("batch_history"),
                            state.pop("wall_time"), STOPPED)
    return result, state


@dataclass
class Checkpoint:
    """A checkpoint folder and the open lock file by which its holder claims it."""

    path: Path
    lock: object  # the open, locked lock file

    @property
    def name(self) -> str:
        return self.path.name.removeprefix(CHECKPOINT_PREFIX)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        self.lock.close()


def _try_lock(path: Path):
    """`path` opened and exclusively locked, or None if a live process holds its lock."""
    import fcntl

    handle = None
    try:
        handle = open(path, "a")
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return handle
    except OSError:
        if handle is not None:
            handle.close()
        return None


def claim_checkpoint(name: str, store: Path) -> Checkpoint:
    """A new, empty checkpoint for a training called `name`, locked before it is visible."""
    path, temp = store / f"{CHECKPOINT_PREFIX}{name}", hidden_folder(store, f".tmp-checkpoint-{name}-")
    lock = _try_lock(temp / LOCK_FILE)
    try:
        os.rename(temp, path)  # refused when `path` exists, as it always holds a lock file
    except OSError:
        lock.close()
        shutil.rmtree(temp, ignore_errors=True)
        raise ConfigError(IN_TRAINING.format(name)) from None
    return Checkpoint(path, lock)


def abandoned_checkpoints(store: Path) -> list[Checkpoint]:
    """The checkpoints whose training process is gone, each now locked by the caller."""
    paths = sorted(store.glob(f"{CHECKPOINT_PREFIX}*")) if store.is_dir() else []
    return [Checkpoint(path, lock) for path in paths if (lock := _try_lock(path / LOCK_FILE))]
