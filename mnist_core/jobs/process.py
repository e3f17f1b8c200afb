"""One job, a training, an import or a fine-tune, in its own process: what the app shows of it, Stop, the watchdog.

A job runs `python -m mnist_core train --progress json` (or `import ... --json`, or
`finetune ... --progress json`) as a child
process, and a reader thread copies its progress (see protocol.py) onto the Job, which any
session can read; queue.py decides when a job starts.

Rule for orphans and faults (stated here once): a job runs to its last epoch (or early stop) and
saves, whether or not anyone is watching. Stop ends it within one batch and saves the partial
run; a training that does not stop in time is killed (STOP_TIMEOUT). If the server goes away
(restart, crash, kill -9), the child's stdin closes and it stops and saves the same way, and
SIGTERM (how a container is stopped) does the same, so no training keeps a core busy without a
server. Saves are atomic: a killed child leaves nothing half-written. A training checkpoints
every whole epoch, so one killed outright loses at most the epoch in progress: the next
training to start saves its checkpoint as a stopped run. A save that fails keeps the trained
network in the store and says where. A job with a wall-clock limit (a visitor's) is stopped the
same way when it runs past it, and killed if it has not ended its limits' kill_grace later.
"""

import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from mnist_core.jobs import protocol
from mnist_core.jobs.access import NO_LIMITS, START_SECONDS, Limits, cpu_seconds
from mnist_core.config import TrainConfig
from mnist_core.runs.store import CHECKPOINT_PREFIX, StoredRun, checkpoint_epochs, find_run, hidden_folder
from mnist_core.progress import BATCH, Progress, ThinnedList

# A job's status: it waits, runs, then saves; it ends saved or failed, or is cancelled while it
# waits. How a training itself ended (finished, early-stopped, stopped) is its `ended`, as on a
# saved run's card.
QUEUED, RUNNING, SAVING, SAVED, FAILED, CANCELLED = "queued", "running", "saving", "saved", "failed", "cancelled"
# After Stop, a training that has not begun saving within STOP_TIMEOUT seconds, or has not saved
# within SAVE_TIMEOUT more, is killed (its checkpoint is saved by the next training to start).
STOP_TIMEOUT, SAVE_TIMEOUT = 60.0, 600.0
TRAINING, IMPORT, FINETUNE = "training", "import", "fine-tune"  # what a job does
# What an import or a fine-tune is expected to take: TensorFlow's start, the data, the work, the
# test set, the export.
EXPECTED_SECONDS = {IMPORT: 40.0, FINETUNE: 45.0}
PACKAGE_PARENT = Path(__file__).resolve().parents[2]


@dataclass(eq=False)  # a job is itself: the queue finds it by identity
class Job:
    """A training, an import or a fine-tune, its process, and what the app shows of it."""

    name: str
    store: Path
    command: list[str]  # with an upload, it ends before the upload's path: the file is written when it starts
    config: TrainConfig | None = None  # a training's; None for the others
    what: str = TRAINING
    owner: str | None = None  # the owner id of the session that submitted it (access.py)
    client: str | None = None  # and its client (access.Session.client_key): per-client limits count it
    estimate: float | None = None  # the seconds it is expected to take, when known before it starts (an import)
    limits: Limits = NO_LIMITS
    upload: bytes | None = None  # an import's .keras file or a fine-tune's personal set, until it starts
    upload_name: str = "upload"  # the file name it is written under (its suffix tells the child what it is)
    status: str = QUEUED
    submitted: float = field(default_factory=time.time)
    started: float | None = None
    process: subprocess.Popen | None = None
    stop: threading.Event = field(default_factory=threading.Event)  # set once Stop is pressed
    progress: Progress | None = None  # the latest one
    epoch_logs: list = field(default_factory=list)  # one dict per epoch: epoch, loss, accuracy, val_...
    batch_points: list = field(default_factory=ThinnedList)  # (step, loss, accuracy), evenly thinned
    error: str | None = None
    saved: StoredRun | None = None
    ended: str | None = None  # how the training ended, once it has
    thread: threading.Thread | None = None  # the reader; it ends when the child has ended
    killed: str | None = None  # why the app killed the process, if it did
    timed_out: bool = False  # the watchdog stopped it

    @property
    def active(self) -> bool:
        return self.status in (RUNNING, SAVING)

    @property
    def waiting(self) -> bool:
        return self.status == QUEUED

    def seconds_left(self, now: float | None = None) -> float:
        """How long until it is expected to end: its own ETA once it reports one, else its estimate."""
        expected = (cpu_seconds(self.config) + START_SECONDS if self.config is not None
                    else self.estimate if self.estimate is not None else EXPECTED_SECONDS[self.what])
        if self.waiting:
            return expected
        if self.progress is not None and self.progress.fraction > 0:
            return self.progress.eta
        return max(0.0, expected - ((now or time.time()) - (self.started or self.submitted)))

    def record(self, progress: Progress) -> None:
        """Keep what the live charts draw."""
        self.progress = progress
        if progress.kind == BATCH:
            self.batch_points.append((progress.step, progress.logs.get("loss"), progress.logs.get("accuracy")))
        else:
            self.epoch_logs.append(dict(epoch=progress.epoch, **progress.logs))

    def request_stop(self, kill_after: float | None = None) -> None:
        """Stop after the current batch and save the partial run; pressing twice changes nothing. A
        process that does not end in time is killed: after `kill_after` seconds, or when it has
        not begun saving within STOP_TIMEOUT or saved within SAVE_TIMEOUT more."""
        if self.stop.is_set():
            return
        self.stop.set()
        try:
            protocol.send_stop(self.process.stdin)
        except (OSError, ValueError):
            pass  # the child has already ended
        threading.Thread(target=self.end_within_timeouts, args=(kill_after,), name=f"stop-{self.name}",
                         daemon=True).start()

    def end_within_timeouts(self, kill_after: float | None = None) -> None:
        """Wait for the stopped process to end; kill it if it takes longer than the timeouts allow."""
        try:
            self.process.wait(STOP_TIMEOUT if kill_after is None else kill_after)
            return
        except subprocess.TimeoutExpired:
            reason = (f"it had not stopped {STOP_TIMEOUT:g} s after Stop" if kill_after is None
                      else f"it had not ended {kill_after:g} s after its time limit stopped it")
        if self.status == SAVING and kill_after is None:
            try:
                self.process.wait(SAVE_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                reason = f"it had not saved {STOP_TIMEOUT + SAVE_TIMEOUT:g} s after Stop"
        self.killed = reason
        self.process.kill()
        self.process.wait()

    def time_out(self) -> None:
        """The watchdog: stop a job that has run past its wall-clock limit; kill it after the grace."""
        if self.active and not self.stop.is_set():
            self.timed_out = True
            self.request_stop(kill_after=self.limits.kill_grace)

    def launch(self, on_end: Callable[["Job"], None]) -> None:
        """Start the process, its reader and its watchdog; `on_end(job)` runs once it has ended and
        its status is settled. OSError or StoreError (nothing started) when it cannot start."""
        command, upload = self.command, None
        if self.upload is not None:
            upload = hidden_folder(self.store, f".tmp-upload-{self.name}-")
            command = [*command, str(upload / self.upload_name)]
        path = os.pathsep.join(filter(None, [str(PACKAGE_PARENT), os.environ.get("PYTHONPATH")]))
        env = {**os.environ, "PYTHONPATH": path,
               "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        stderr = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child can never block on it
        try:
            if upload is not None:
                (upload / self.upload_name).write_bytes(self.upload)
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                            text=True, errors="replace", bufsize=1, env=env)
        except BaseException:
            stderr.close()
            if upload is not None:
                shutil.rmtree(upload, ignore_errors=True)
            raise
        self.status, self.started, self.upload = RUNNING, time.time(), None
        watchdog = None
        if self.limits.wall_seconds is not None:
            watchdog = threading.Timer(self.limits.wall_seconds, self.time_out)
            watchdog.daemon = True
            watchdog.start()
        self.thread = threading.Thread(target=_follow, args=(self, stderr, upload, watchdog, on_end),
                                       name=f"follow-{self.name}", daemon=True)
        self.thread.start()


def _failure(job: Job, returncode: int, stderr: str) -> str:
    """What went wrong, in one line (the CLI's own message, an exception, or a kill), and what
    became of the training's last whole epoch."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    if errors:
        message = errors[-1]
    elif job.killed:
        message = f"the {job.what} process was killed: {job.killed}"
    elif returncode < 0:
        message = f"the {job.what} process was killed (signal {-returncode})"
    else:
        message = lines[-1] if lines else f"the {job.what} process exited with code {returncode}"
    epochs = checkpoint_epochs(job.store / f"{CHECKPOINT_PREFIX}{job.name}")
    if epochs:
        return f"{message}; the next training to start saves its last whole epoch ({epochs}) as a stopped run"
    return message if errors else f"{message}; nothing was saved"


def _follow(job: Job, stderr, upload: Path | None, watchdog: threading.Timer | None, on_end) -> None:
    """Copy the child's progress onto the job until it ends, then settle the job's status.

    Whatever fails here ends the job as failed, with its process stopped (and killed if it does
    not stop in time): a broken reader never holds the one job slot.
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
        job.error = f"the app lost track of the {job.what} ({type(exc).__name__}: {exc}) and stopped it"
        _close(job.process.stdin, job.process.stdout)  # the child stops when either closes
        job.stop.set()
        job.end_within_timeouts()
        if (job.store / job.name).is_dir():
            job.error += "; its run was saved"
    finally:
        _close(job.process.stdin, job.process.stdout, stderr)
        if watchdog is not None:
            watchdog.cancel()
        checkpoint = job.store / f"{CHECKPOINT_PREFIX}{job.name}"
        if job.process.poll() is not None and not checkpoint_epochs(checkpoint):
            shutil.rmtree(checkpoint, ignore_errors=True)  # its process is gone and it holds no epoch
        if upload is not None:
            shutil.rmtree(upload, ignore_errors=True)
        job.status = SAVED if job.error is None else FAILED
        on_end(job)


def _close(*streams) -> None:
    for stream in streams:
        try:
            stream.close()
        except (OSError, ValueError):
            pass  # already closed, or the child is gone
