"""One job at a time per server, a training, an import or a fine-tune, each in its own process; the others wait.

The app's pages rerun top to bottom on every click, and a person may close the tab; a training
must live outside all of that. It also must not live in the server's process: Keras' per-batch
Python work holds the interpreter lock, so a training thread would starve the people drawing.
So each job is a child process (process.py) with one core fewer and a lower priority, watchable
from any page or session.

One job runs at a time. The others wait in a queue, first come first served, and the next
starts when one ends, however it ends; so two people pressing Start together get one training
and one place in the queue, never two trainings. A job records the owner id of the session
that submitted it (access.py), and so does its run's card. A visitor's job is refused up front
when it asks for more than its access.Limits allow, when the queue is full, or when the visitor
(its session, or any session of its client: access.py) already has a job running or waiting.
Before a visitor's job starts and after it saves, the store's quota makes room (runs/quota.py),
here in the server's process. Whatever goes wrong after a job, the next one starts.
"""

import importlib.util
import io
import os
import sys
import threading
from pathlib import Path

from mnist_core.config import ConfigError, TrainConfig, validate
from mnist_core.jobs import protocol
from mnist_core.jobs.access import NO_LIMITS, Limits, check_import, check_training, client_for, import_seconds
from mnist_core.jobs.process import CANCELLED, FAILED, FINETUNE, IMPORT, Job
from mnist_core.personal import to_bytes
from mnist_core.runs import quota
from mnist_core.runs.network_file import check_network_file, declared_weight_bytes
from mnist_core.runs.store import IN_TRAINING, StoreError, check_new_name, store_dir

# A training leaves one core to the people drawing (on a one-core machine it takes the only
# one) and gives way to them: a lower CPU priority.
TRAINING_THREADS, TRAINING_NICE = max(1, (os.cpu_count() or 2) - 1), 10


TRAINING_PYTHONS = "3.11-3.13"  # the Pythons TensorFlow (requirements.txt) has a release for


def training_unavailable() -> str | None:
    """Why this server cannot train, import or fine-tune (no TensorFlow for its Python), or None.
    Looked up without importing TensorFlow: the server never does."""
    if importlib.util.find_spec("tensorflow") is not None:
        return None
    version = ".".join(map(str, sys.version_info[:2]))
    return (f"training needs TensorFlow, which is not installed here: it has no release for Python {version}, "
            f"which this server runs. Run the app on Python {TRAINING_PYTHONS} to train, import or fine-tune a "
            "network; drawing, Explore and Models work as they are")


def _check_training_available() -> None:
    if (reason := training_unavailable()) is not None:
        raise ConfigError(reason)


class JobBusyError(RuntimeError):
    """The job cannot wait its turn: the queue is full, or its session already has a job."""


_lock = threading.RLock()
_current: Job | None = None
_waiting: list[Job] = []


def current_job() -> Job | None:
    """The running job, or the last one to end (so its result can be shown)."""
    return _current


def waiting_jobs() -> list[Job]:
    """The queue, next first."""
    with _lock:
        return list(_waiting)


def place_in_queue(job: Job) -> tuple[int, list[Job], float] | None:
    """A waiting job's place (1 = next to start), the jobs ahead of it (the running one first) and
    the seconds until it is expected to start; None once it no longer waits."""
    with _lock:
        if job not in _waiting:
            return None
        running = [_current] if _current is not None and _current.active else []
        ahead = running + _waiting[:_waiting.index(job)]
    return len(ahead) + 1 - len(running), ahead, sum(j.seconds_left() for j in ahead)


def cancel(job: Job) -> bool:
    """Take a waiting job out of the queue; False when it no longer waits (stop it instead)."""
    with _lock:
        if job not in _waiting:
            return False
        _waiting.remove(job)
        job.status, job.upload = CANCELLED, None
    return True


def _ended(job: Job) -> None:
    """After a job: trim the store to its quota (sparing the run just saved), start the next job,
    whatever the trimming raised (a run deleted while it was measured, a full disk, a bug)."""
    try:
        if job.saved is not None:
            quota.make_room(job.store, job.limits, keep=frozenset({job.name}))
    except Exception:  # noqa: BLE001 - the store stays over its quota until the next job trims it
        pass
    finally:
        _start_next()


def _start(job: Job) -> None:
    """Start `job` now (the lock is held and no job is active); a job that cannot start fails."""
    global _current
    _current = job
    try:
        quota.make_room(job.store, job.limits, new_runs=1)
        job.launch(on_end=_ended)
    except (StoreError, OSError) as exc:
        job.status, job.error, job.upload = FAILED, f"not started: {exc}", None


def _start_next() -> None:
    with _lock:
        while _waiting and not (_current is not None and _current.active):
            _start(_waiting.pop(0))


def _submit(job: Job) -> Job:
    """Start `job` now if no job is active, else queue it; JobBusyError when it cannot wait."""
    job.client = job.client or client_for(job.owner)
    with _lock:
        jobs = [j for j in [_current, *_waiting] if j is not None and (j.active or j.waiting)]
        if any(j.name == job.name and j.store == job.store for j in jobs):
            raise ConfigError(IN_TRAINING.format(job.name))
        check_new_name(job.name, job.store)
        if job.limits.max_waiting is not None:
            if job.owner is not None and any(j.owner == job.owner for j in jobs):
                raise JobBusyError("you already have a job running or waiting; wait for it to end, or cancel it, "
                                   "before you start another")
            per_client = job.limits.max_jobs_per_client
            if job.client is not None and per_client is not None and \
                    sum(j.client == job.client for j in jobs) >= per_client:
                raise JobBusyError(f"your address already has {per_client} job{'s' if per_client != 1 else ''} "
                                   "running or waiting (from another tab or browser); wait for it to end, or cancel "
                                   "it, before you start another")
            if jobs and len(_waiting) >= job.limits.max_waiting:
                raise JobBusyError(f"the queue is full: {len(_waiting)} jobs are waiting behind {jobs[0].name!r}; "
                                   "try again when one has ended")
        if jobs:
            _waiting.append(job)
        else:
            _start(job)
    return job


def child_command(subcommand: list[str], name: str, store: Path, data: str | None, threads: int,
                  nice: int) -> list[str]:
    """The one way the server starts a job's process: `python -m mnist_core SUBCOMMAND ...` with
    the flags every job takes (the run's name, the store, the threads and priority, the data)."""
    return [sys.executable, "-m", "mnist_core", *subcommand, "--name", name, "--store", str(store),
            "--threads", str(threads), "--nice", str(nice), *(["--data", str(data)] if data else [])]


def training_command(config: TrainConfig, name: str, data: str | None, store: Path, threads: int,
                     nice: int) -> list[str]:
    return child_command(["train", *protocol.config_args(config), "--progress", "json"], name, store, data,
                         threads, nice)


def _owner_flags(owner: str | None, limits: Limits) -> list[str]:
    """What the run's card records of who made it: the owner id, and whether the quota counts it."""
    temporary = limits.max_runs is not None or limits.max_megabytes is not None
    return [*(["--owner", owner] if owner else []), *(["--temporary"] if temporary else [])]


def submit_training(config: TrainConfig, name: str, owner: str | None = None, limits: Limits = NO_LIMITS,
                    data: str | None = None, store: Path | None = None, threads: int = TRAINING_THREADS,
                    nice: int = TRAINING_NICE, client: str | None = None) -> Job:
    """Start `config` in a child process, or queue it while another job runs; the job either way.

    ConfigError for bad values, or values beyond `limits`, or on a Python without TensorFlow
    (training_unavailable); JobBusyError when it cannot wait.
    `owner` is the submitting session's owner id and `client` its access.Session.client_key;
    `data` an mnist.npz path (default: the
    child's $MNIST_PATH, then the download); `threads` caps TensorFlow's threads (0 = all
    cores), and `nice` lowers the child's priority.
    """
    check_training(validate(config), limits)
    _check_training_available()
    store = Path(store or store_dir()).resolve()
    command = training_command(config, name, data, store, threads, nice) + _owner_flags(owner, limits)
    return _submit(Job(name=name, store=store, command=command, config=config, owner=owner, limits=limits,
                       client=client))


def submit_import(keras_file: bytes, name: str, owner: str | None = None, limits: Limits = NO_LIMITS,
                  data: str | None = None, store: Path | None = None, threads: int = TRAINING_THREADS,
                  nice: int = TRAINING_NICE, client: str | None = None) -> Job:
    """Import a `.keras` or `.h5` file's bytes as the run `name` in a child process (keras_runs/importing.py),
    now or when its turn comes; as submit_training, and StoreError when the file is not one. Its
    cost is estimated from its weights (access.import_seconds): the queue's ETA, and a visitor's
    budget, which refuses a network too large to evaluate in it."""
    _check_training_available()
    check_network_file(io.BytesIO(keras_file), "the file")  # a .keras or an .h5 file (runs/network_file.py)
    weights = declared_weight_bytes(keras_file)
    check_import(weights, limits)
    store = Path(store or store_dir()).resolve()
    command = (child_command(["import", "--json"], name, store, data, threads, nice)
               + _owner_flags(owner, limits))  # job.launch appends the file
    return _submit(Job(name=name, store=store, command=command, what=IMPORT, owner=owner, limits=limits,
                       upload=keras_file, upload_name="upload.keras", client=client,
                       estimate=import_seconds(weights)))


def submit_finetune(personal, parent: str, name: str, owner: str | None = None, limits: Limits = NO_LIMITS,
                    data: str | None = None, store: Path | None = None, threads: int = TRAINING_THREADS,
                    nice: int = TRAINING_NICE, client: str | None = None) -> Job:
    """Teach a copy of the run `parent` the PersonalSet `personal`, saved as the run `name`, in a
    child process (`python -m mnist_core finetune`), now or when its turn comes; as submit_training.
    A fine-tune's cost is fixed and small (training/finetune.py), so a visitor's budget always allows it."""
    _check_training_available()
    store = Path(store or store_dir()).resolve()
    command = (child_command(["finetune", "--model", parent, "--progress", "json"], name, store, data, threads, nice)
               + _owner_flags(owner, limits) + ["--examples"])  # job.launch appends the file
    return _submit(Job(name=name, store=store, command=command, what=FINETUNE, owner=owner, limits=limits,
                       upload=to_bytes(personal), upload_name="personal.npz", client=client))
