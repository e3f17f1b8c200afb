"""One background training per server, in its own process, watchable from any page or session.

The app's pages rerun top to bottom on every click, and a person may close the tab; the
training must live outside all of that. It also must not live in the server's process: Keras'
per-batch Python work holds the interpreter lock, and with a training thread in the server,
20 people drawing got no answers at all. So `start_training` runs the CLI's
`train --progress json` as a child process (lower priority, one core fewer) and a reader thread
copies its JSON progress lines onto a TrainingJob that any session can read. Only one job runs
at a time: a second start while one is running raises JobBusyError, so two people pressing
Start together get exactly one training.

Rule for orphans: a job runs to its last epoch (or early stop) and saves, whether or not anyone
is watching; Stop ends it within one batch and saves the partial run. If the server goes away
(restart, crash, kill -9), the child's stdin closes and it stops and saves the same way, so no
training keeps a core busy without a server. Saves are atomic: a killed child leaves nothing.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from .cli import train_args
from .config import TrainConfig, validate
from .store import StoredRun, check_new_name, find_run, store_dir
from .train import Progress

RUNNING, SAVING, DONE, FAILED = "running", "saving", "done", "failed"
PACKAGE_PARENT = Path(__file__).resolve().parent.parent


class JobBusyError(RuntimeError):
    """A training is already running on this server."""


@dataclass
class TrainingJob:
    config: TrainConfig
    name: str
    store: Path
    process: subprocess.Popen | None = None
    stop: threading.Event = field(default_factory=threading.Event)  # set once Stop is pressed
    started: float = field(default_factory=time.time)
    state: str = RUNNING
    progress: Progress | None = None  # the latest one
    epochs: list = field(default_factory=list)  # per-epoch logs
    batches: list = field(default_factory=list)  # (global step, loss, accuracy)
    error: str | None = None
    saved: StoredRun | None = None
    ended: str | None = None  # finished / early-stopped / stopped
    thread: threading.Thread | None = None  # the reader; it ends when the child has ended

    @property
    def active(self) -> bool:
        return self.state in (RUNNING, SAVING)

    def record(self, progress: Progress) -> None:
        """Keep what the live charts draw."""
        self.progress = progress
        if progress.kind == "batch":
            step = (progress.epoch - 1) * progress.batches + progress.batch
            self.batches.append((step, progress.logs.get("loss"), progress.logs.get("accuracy")))
        else:
            self.epochs.append(dict(epoch=progress.epoch, **progress.logs))

    def request_stop(self) -> None:
        """Stop after the current batch and save the partial run; pressing twice changes nothing."""
        if self.stop.is_set():
            return
        self.stop.set()
        try:
            self.process.stdin.write("stop\n")
            self.process.stdin.flush()
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
    """Copy the child's progress onto the job until it ends, then settle the job's state."""
    for line in job.process.stdout:
        try:
            message = json.loads(line)
            kind = message.pop("kind")
        except (ValueError, KeyError, AttributeError):
            continue  # not one of ours (a library printing to stdout)
        if kind in ("batch", "epoch"):
            job.record(Progress(kind=kind, **message))
        elif kind == "saving":
            job.state, job.ended = SAVING, message["ended"]
        elif kind == "saved":
            job.saved = find_run(job.name, job.store)
    returncode = job.process.wait()
    job.process.stdin.close()
    if job.saved is not None:
        job.state = DONE
    else:
        stderr.seek(0)
        job.error, job.state = _failure(returncode, stderr.read().decode(errors="replace")), FAILED
    stderr.close()


def start_training(config: TrainConfig, name: str, data: str | None = None, threads: int = 0, nice: int = 0,
                   store: Path | None = None) -> TrainingJob:
    """Start `config` in a child process unless a training is already running.

    `data` is an mnist.npz path (default: the child's $MNIST_PATH, then the download),
    `threads` caps TensorFlow's threads (0 = all cores), `nice` lowers the child's priority.
    """
    global _current
    validate(config)
    store = Path(store or store_dir()).resolve()
    check_new_name(name, store)
    command = [sys.executable, "-m", "mnist_core", *train_args(config, name, data),
               "--progress", "json", "--store", str(store), "--threads", str(threads), "--nice", str(nice)]
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
