"""One background training per server, in its own process, watchable from any page or session.

The app's pages rerun top to bottom on every click, and a person may close the tab; the
training must live outside all of that. It also must not live in the server's process: Keras'
per-batch Python work holds the interpreter lock, so a training thread would starve the people
drawing. So `start_training` runs `python -m mnist_core train --progress json` as a child
process, with one core fewer and a lower priority, and a reader thread copies its progress
(see protocol.py) onto a TrainingJob that any session can read. Only one job runs at a time:
a second start while one is active raises JobBusyError, so two people pressing Start together
get exactly one training.

Rule for orphans: a job runs to its last epoch (or early stop) and saves, whether or not anyone
is watching; Stop ends it within one batch and saves the partial run. If the server goes away
(restart, crash, kill -9), the child's stdin closes and it stops and saves the same way, so no
training keeps a core busy without a server. Saves are atomic: a killed child leaves nothing.
"""

import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol
from .config import TrainConfig, validate
from .store import StoredRun, check_new_name, find_run, store_dir
from .train import BATCH, Progress

# A job's status: the training runs, then saves; it ends saved or failed. How the training
# itself ended (finished, early-stopped, stopped) is its `ended`, as on a saved run's card.
RUNNING, SAVING, SAVED, FAILED = "running", "saving", "saved", "failed"
# A training leaves one core to the people drawing (on a one-core machine it takes the only
# one) and gives way to them: a lower CPU priority.
TRAINING_THREADS, TRAINING_NICE = max(1, (os.cpu_count() or 2) - 1), 10
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class JobBusyError(RuntimeError):
    """A training is already running on this server."""


@dataclass
class TrainingJob:
    """A training process and what the app shows of it."""

    config: TrainConfig
    name: str
    store: Path
    process: subprocess.Popen | None = None
    stop: threading.Event = field(default_factory=threading.Event)  # set once Stop is pressed
    started: float = field(default_factory=time.time)
    status: str = RUNNING
    progress: Progress | None = None  # the latest one
    epoch_logs: list = field(default_factory=list)  # one dict per epoch: epoch, loss, accuracy, val_...
    batch_points: list = field(default_factory=list)  # (step, loss, accuracy) per batch
    error: str | None = None
    saved: StoredRun | None = None
    ended: str | None = None  # how the training ended, once it has
    thread: threading.Thread | None = None  # the reader; it ends when the child has ended

    @property
    def active(self) -> bool:
        return self.status in (RUNNING, SAVING)

    def record(self, progress: Progress) -> None:
        """Keep what the live charts draw."""
        self.progress = progress
        if progress.kind == BATCH:
            self.batch_points.append((progress.step, progress.logs.get("loss"), progress.logs.get("accuracy")))
        else:
            self.epoch_logs.append(dict(epoch=progress.epoch, **progress.logs))

    def request_stop(self) -> None:
        """Stop after the current batch and save the partial run; pressing twice changes nothing."""
        if self.stop.is_set():
            return
        self.stop.set()
        try:
            protocol.send_stop(self.process.stdin)
        except (OSError, ValueError):
            pass  # the child has already ended


_lock = threading.Lock()
_current: TrainingJob | None = None


def current_job() -> TrainingJob | None:
    """The running job, or the last one to end (so its result can be shown)."""
    return _current


def _failure(returncode: int, stderr: str) -> str:
    """What went wrong, in one line: the CLI's own message, an exception, or a signal."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("error: "):
            return line.removeprefix("error: ")
    if returncode < 0:
        return f"the training process was killed (signal {-returncode}); nothing was saved"
    return lines[-1] if lines else f"the training process exited with code {returncode}"


def _follow(job: TrainingJob, stderr) -> None:
    """Copy the child's progress onto the job until it ends, then settle the job's status."""
    for line in job.process.stdout:
        match protocol.decode(line):
            case Progress() as progress:
                job.record(progress)
            case protocol.Saving(ended=ended):
                job.status, job.ended = SAVING, ended
            case protocol.Saved():
                job.saved = find_run(job.name, job.store)
    returncode = job.process.wait()
    job.process.stdin.close()
    if job.saved is not None:
        job.status = SAVED
    else:
        stderr.seek(0)
        job.error, job.status = _failure(returncode, stderr.read().decode(errors="replace")), FAILED
    stderr.close()


def training_command(config: TrainConfig, name: str, data: str | None, store: Path, threads: int,
                     nice: int) -> list[str]:
    return [sys.executable, "-m", "mnist_core", *protocol.train_args(config, name, data),
            "--progress", "json", "--store", str(store), "--threads", str(threads), "--nice", str(nice)]


def start_training(config: TrainConfig, name: str, data: str | None = None, store: Path | None = None,
                   threads: int = TRAINING_THREADS, nice: int = TRAINING_NICE) -> TrainingJob:
    """Start `config` in a child process unless a training is already active (JobBusyError).

    `data` is an mnist.npz path (default: the child's $MNIST_PATH, then the download);
    `threads` caps TensorFlow's threads (0 = all cores), `nice` lowers the child's priority.
    """
    global _current
    validate(config)
    store = Path(store or store_dir()).resolve()
    check_new_name(name, store)
    command = training_command(config, name, data, store, threads, nice)
    path = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
    with _lock:
        if _current is not None and _current.active:
            raise JobBusyError(f"a training ({_current.name!r}) is already running; watch it or stop it first")
        stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child can never block on it
        job = TrainingJob(config=config, name=name, store=store)
        job.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                       text=True, bufsize=1, env=env)
        job.thread = threading.Thread(target=_follow, args=(job, stderr), name=f"follow-{name}", daemon=True)
        _current = job
        job.thread.start()
    return job
