"""How the app and a training process talk: the command that starts it, the lines it writes, the line it reads.

The app (jobs/queue.py, child_command) starts `python -m mnist_core train ... --progress json`,
the hyperparameters spelt by `config_args`. The training (cli/training.py) writes one JSON object per line on stdout: a Progress after
batches (at most ten a second) and after every epoch, then `Saving` once training has ended,
then `Saved` once the run is in the store. A `stop` line on its stdin, or the end of its stdin,
stops it after the current batch (why the end counts as a stop: see jobs/process.py). Both sides use
only this module's definitions.
"""

import json
import math
import shlex
import time
from dataclasses import asdict, dataclass

from mnist_core.config import TrainConfig
from mnist_core.hyperparams import config_flags
from mnist_core.progress import BATCH, EPOCH, Progress

STOP = "stop"
BATCH_MESSAGE_INTERVAL = 0.1  # seconds: a live chart needs no more, and each message costs both sides


@dataclass(frozen=True)
class Saving:
    """Training has ended (`ended`: finished, early-stopped or stopped) and the run is being saved."""

    ended: str
    kind: str = "saving"


@dataclass(frozen=True)
class Saved:
    """The run is in the store under `name`."""

    name: str
    test_accuracy: float
    kind: str = "saved"


Message = Progress | Saving | Saved
MESSAGE_TYPES = {BATCH: Progress, EPOCH: Progress, "saving": Saving, "saved": Saved}


def encode(message: Message) -> str:
    """One line of JSON (without the newline)."""
    return json.dumps(asdict(message))


def decode(line: str) -> Message | None:
    """The message on `line`, or None for a line that is not one (a library printing to stdout)."""
    try:
        fields = json.loads(line)
        return MESSAGE_TYPES[fields["kind"]](**fields)
    except (ValueError, KeyError, TypeError):
        return None


def throttled(send, interval: float = BATCH_MESSAGE_INTERVAL, clock=time.monotonic):
    """`send` for every epoch's Progress, but for a batch's only once `interval` has passed since
    the last message, so a fast training sends at most a few messages a second."""
    last = -math.inf

    def send_progress(progress: Progress) -> None:
        nonlocal last
        now = clock()
        if progress.kind == BATCH and now - last < interval:
            return
        last = now
        send(progress)

    return send_progress


def send_stop(stream) -> None:
    stream.write(STOP + "\n")
    stream.flush()


def wait_for_stop(stream) -> None:
    """Return when a stop line arrives or the stream ends."""
    for line in stream:
        if line.strip() == STOP:
            return


def config_args(config: TrainConfig) -> list[str]:
    """The `train` flags that reproduce `config` exactly (config.config_from_args is the inverse)."""
    return ["--preset", config.preset, *config_flags(config)]


def train_args(config: TrainConfig, name: str, data: str | None, nondigits: str | None = None) -> list[str]:
    """`train` with what decides the run: its name, data and every hyperparameter."""
    return ["train", *config_args(config), "--name", name, *(["--data", str(data)] if data else []),
            *(["--nondigits", str(nondigits)] if nondigits else [])]


def reproduce_command(config: TrainConfig, name: str, data: str | None, nondigits: str | None = None) -> str:
    """The command a card records: every hyperparameter spelt out, and none of the flags that
    only say where and how a run ran (store folder, threads, priority, progress format), so it
    reproduces the run on any machine and shows no server paths."""
    return shlex.join(["python", "-m", "mnist_core", *train_args(config, name, data, nondigits)])
