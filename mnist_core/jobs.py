"""One background training per server, in its own process, watchable from any page or session.

The app's pages rerun top to bottom on every click, and a person may close the tab; the
training must live outside all of that. It also must not live in the server's process: Keras'
per-batch Python work holds the interpreter lock, so a training thread would starve the people
drawing. So `start_training` runs `python -m mnist_core train --progress json` as a child
process, with one core fewer and a lower priority, and a reader thread copies its progress
(see protocol.py) onto a TrainingJob that any session can read. Only one job runs at a time:
a second start while one is active raises JobBusyError, so two people pressing Start together
get exactly one training.

Rule for orphans and faults (stated here once): a job runs to its last epoch (or early stop) and
saves, whether or not anyone is watching. Stop ends it within one batch and saves the partial
run; a training that does not stop in time is killed (STOP_TIMEOUT). If the server goes away
(restart, crash, kill -9), the child's stdin closes and it stops and saves the same way, and
SIGTERM (how a container is stopped) does the same, so no training keeps a core busy without a
server. Saves are atomic: a killed child leaves nothing half-written. A training checkpoints
every whole epoch, so one killed outright loses at most the epoch in progress: the next
training to start saves its checkpoint as a stopped run. A save that fails keeps the trained
network in the store and says where.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import protocol
from .checkpoint import checkpoint_epochs
from .config import TrainConfig, validate
from .store import CHECKPOINT_PREFIX, StoredRun, check_new_name, find_run, store_dir
from .train import BATCH, Progress, ThinnedList

# A job's status: the training runs, then saves; it ends saved or failed. How the training
# itself ended (finished, early-stopped, stopped) is its `ended`, as on a saved run's card.
RUNNING, SAVING, SAVED, FAILED = "running", "saving", "saved", "failed"
# A training leaves one core to the people drawing (on a one-core machine it takes the only
# one) and gives way to them: a lower CPU priority.
TRAINING_THREADS, TRAINING_NICE = max(1, (os.cpu_count() or 2) - 1), 10
# After Stop, a training that has not begun saving within STOP_TIMEOUT seconds, or has not saved
# within SAVE_TIMEOUT more, is killed (its checkpoint is saved by the next training to start).
STOP_TIMEOUT, SAVE_TIMEOUT = 60.0, 600.0
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
    batch_points: list = field(default_factory=ThinnedList)  # (step, loss, accuracy), evenly thinned
    error: str | None = None
    saved: StoredRun | None = None
    ended: str | None = None  # how the training ended, once it has
    thread: threading.Thread | None = None  # the reader; it ends when the child has ended
    killed: str | None = None  # why the app killed the training process, if it did

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
        threading.Thread(target=self.end_within_timeouts, name=f"stop-{self.name}", daemon=True).start()

    def end_within_timeouts(self) -> None:
        """Wait for the stopped process to end; kill it if it takes longer than the timeouts allow."""
        try:
            self.process.wait(STOP_TIMEOUT)
            return
        except subprocess.TimeoutExpired:
            reason = f"it had not stopped {STOP_TIMEOUT:g} s after Stop"
        if self.status == SAVING:
            try:
                self.process.wait(SAVE_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                reason = f"it had not saved {STOP_TIMEOUT + SAVE_TIMEOUT:g} s after Stop"
        self.killed = reason
        self.process.kill()
        self.process.wait()


_lock = threading.Lock()
_current: TrainingJob | None = None


def current_job() -> TrainingJob | None:
    """The running job, or the last one to end (so its result can be shown)."""
    return _current


def _failure(job: TrainingJob, returncode: int, stderr: str) -> str:
    """What went wrong, in one line (the CLI's own message, an exception, or a kill), and what
    became of the training's last whole epoch."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    if errors:
        message = errors[-1]
    elif job.killed:
        message = f"the training process was killed: {job.killed}"
    elif returncode < 0:
        message = f"the training process was killed (signal {-returncode})"
    else:
        message = lines[-1] if lines else f"the training process exited with code {returncode}"
    epochs = checkpoint_epochs(job.store / f"{CHECKPOINT_PREFIX}{job.name}")
    if epochs:
        return f"{message}; the next training to start saves its last whole epoch ({epochs}) as a stopped run"
    return message if errors else f"{message}; nothing was saved"


def _follow(job: TrainingJob, stderr) -> None:
    """Copy the child's progress onto the job until it ends, then settle the job's status.

    Whatever fails here ends the job as failed, with its process stopped (and killed if it does
    not stop in time): a broken reader never holds the one training slot.
    """
    try:
        for line in job.process.stdout:
            match protocol.decode(line):
                case Progress() as progress:
                    job.record(progress)
                case protocol.Saving(ended=ended):
                    job.status, job.ended = SAVING, ended
                case protocol.Saved():
                    job.saved = find_run(job.name, job.store)
        returncode = job.process.wait()
        if job.saved is None:
            stderr.seek(0)
            job.error = _failure(job, returncode, stderr.read().decode(errors="replace"))
    except Exception as exc:
        job.error = f"the app lost track of the training ({type(exc).__name__}: {exc}) and stopped it"
        _close(job.process.stdin, job.process.stdout)  # the child stops when either closes
        job.stop.set()
        job.end_within_timeouts()
        if (job.store / job.name).is_dir():
            job.error += "; its run was saved"
    finally:
        _close(job.process.stdin, job.process.stdout, stderr)
        checkpoint = job.store / f"{CHECKPOINT_PREFIX}{job.name}"
        if job.process.poll() is not None and not checkpoint_epochs(checkpoint):
            shutil.rmtree(checkpoint, ignore_errors=True)  # its process is gone and it holds no epoch
        job.status = SAVED if job.error is None else FAILED


def _close(*streams) -> None:
    for stream in streams:
        try:
            stream.close()
        except (OSError, ValueError):
            pass  # already closed, or the child is gone


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
                                       text=True, errors="replace", bufsize=1, env=env)
        job.thread = threading.Thread(target=_follow, args=(job, stderr), name=f"follow-{name}", daemon=True)
        _current = job
        job.thread.start()
    return job
