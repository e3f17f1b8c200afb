"""Runs and trainings made by hand, for tests about many runs or about who may do what with a
training: a card and a stand-in model file, a stand-in training process; no TensorFlow."""

import json
import sys
from pathlib import Path

from mnist_core.jobs import queue


def fake_run(store: Path, name: str, created: str = "2026-01-01T00:00:00+00:00", temporary: bool = True,
             owner: str | None = None, size: int = 1000) -> Path:
    """A run folder as the store lists it: `card.json` and a `model.onnx` of `size` bytes."""
    folder = store / name
    folder.mkdir(parents=True)
    card = dict(name=name, preset="quick", test_accuracy=0.5, epochs_done=1, wall_time_seconds=1.0, ended="finished",
                history={}, created=created, owner=owner, temporary=temporary)
    (folder / "card.json").write_text(json.dumps(card))
    (folder / "model.onnx").write_bytes(b"\0" * size)
    return folder


# A training process that follows the protocol without TensorFlow: it reports one epoch, waits for
# Stop, then saves a made-up run recording the owner flags it was given.
STAND_IN_TRAINING = """
import sys
from pathlib import Path
from mnist_core.jobs import protocol
from mnist_core.progress import EPOCH, Progress
from tests.support.runs import fake_run

name, store, flags = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
print(protocol.encode(Progress(EPOCH, 1, 300, 1, 1, 0.5, {"loss": 1.0})), flush=True)
protocol.wait_for_stop(sys.stdin)
print(protocol.encode(protocol.Saving("stopped")), flush=True)
fake_run(store, name, owner=flags[flags.index("--owner") + 1] if "--owner" in flags else None,
         temporary="--temporary" in flags)
print(protocol.encode(protocol.Saved(name, 0.5)), flush=True)
"""


def stand_in_trainings(monkeypatch) -> None:
    """Trainings the app starts run STAND_IN_TRAINING (the owner flags follow the command)."""
    monkeypatch.setattr(queue, "training_command", lambda config, name, data, store, *rest:
                        [sys.executable, "-c", STAND_IN_TRAINING, name, str(store)])
