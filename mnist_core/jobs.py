"""One background training per process, watchable from any page or session.

The app's pages rerun top to bottom on every click, and a person may close the tab; the
training must live outside all of that. `start_training` runs train → evaluate → save in a
thread and keeps the live state on a TrainingJob that any session can read. Only one job runs
at a time: a second start while one is running raises JobBusyError, so two people pressing
Start together get exactly one training.

Rule for orphans: a job always runs to its last epoch (or early stop) and saves, whether or not
anyone is watching; Stop ends it within one batch and saves the partial run. A server restart
kills the thread, and because saves are atomic nothing partial is left behind.
"""

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import TrainConfig, validate
from .store import check_new_name

RUNNING, SAVING, DONE, FAILED = "running", "saving", "done", "failed"


class JobBusyError(RuntimeError):
    """A training is already running in this process."""


@dataclass
class TrainingJob:
    config: TrainConfig
    name: str
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.time)
    state: str = RUNNING
    progress: object = None  # the latest train.Progress
    epochs: list = field(default_factory=list)  # per-epoch logs
    batches: list = field(default_factory=list)  # (global step, loss, accuracy)
    error: str | None = None
    saved: object = None  # store.StoredRun once saved
    ended: str | None = None  # finished / early-stopped / stopped
    thread: threading.Thread | None = None

    @property
    def active(self) -> bool:
        return self.state in (RUNNING, SAVING)

    def record(self, progress) -> None:
        """The progress callback: keeps what the live charts draw."""
        self.progress = progress
        if progress.kind == "batch":
            step = (progress.epoch - 1) * progress.batches + progress.batch
            self.batches.append((step, progress.logs.get("loss"), progress.logs.get("accuracy")))
        else:
            self.epochs.append(dict(epoch=progress.epoch, **progress.logs))


_lock = threading.Lock()
_current: TrainingJob | None = None


def current_job() -> TrainingJob | None:
    """The running job, or the last one to finish (so its result can be shown)."""
    return _current


def _work(job: TrainingJob, load_data, threads: int, store: Path | None) -> None:
    from .store import save_run
    from .train import STOPPED, limit_threads, train

    try:
        if threads:
            limit_threads(threads)
        data = load_data()
        run = train(job.config, data, on_progress=job.record, stop=job.stop)
        job.state, job.ended = SAVING, run.ended
        job.saved = save_run(run, job.name, data.x_test, data.y_test, store=store,
                             command=f"app: Train page ({'stopped' if run.ended == STOPPED else run.ended})")
        job.state = DONE
    except Exception as exc:  # reported on the page; the thread must never die silently
        job.error, job.state = f"{type(exc).__name__}: {exc}", FAILED


def start_training(config: TrainConfig, name: str, load_data, threads: int = 0,
                   store: Path | None = None) -> TrainingJob:
    """Start `config` in a background thread unless a training is already running.

    `load_data` is called in the thread (loading MNIST takes a moment) and returns a Mnist.
    `threads` caps TensorFlow's CPU threads (0 = TensorFlow's default).
    """
    global _current
    validate(config)
    check_new_name(name, store)
    with _lock:
        if _current is not None and _current.active:
            raise JobBusyError(f"a training ({_current.name!r}) is already running; watch it or stop it first")
        job = TrainingJob(config=config, name=name)
        job.thread = threading.Thread(target=_work, args=(job, load_data, threads, store),
                                      name=f"train-{name}", daemon=True)
        _current = job
        job.thread.start()
    return job
