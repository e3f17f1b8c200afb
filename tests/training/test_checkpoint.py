"""A training's last whole epoch on disk: written atomically, read back as a stopped run."""

import os

import numpy as np
import pytest

from mnist_core.config import make_config
from mnist_core.progress import STOPPED
from mnist_core.runs.store import checkpoint_epochs
from mnist_core.training.checkpoint import read_checkpoint, write_checkpoint
from mnist_core.training.train import train
from tests.support.training import tiny_split


@pytest.fixture(scope="module")
def tiny_data():
    return tiny_split()


def test_every_whole_epoch_is_checkpointed_and_reads_back_as_stopped(tiny_data, tmp_path):
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    written = []

    def checkpoint(result):
        write_checkpoint(folder, result, command="python -m mnist_core train x", data=None)
        written.append((result.epochs_done, sorted(os.listdir(folder))))

    assert read_checkpoint(folder) is None and checkpoint_epochs(folder) == 0  # nothing before the first epoch
    result = train(make_config("seed-mlp", epochs=3, batch_size=50), tiny_data, checkpoint=checkpoint)
    assert written == [(n, [f"epoch-{n}.keras", "state.json"]) for n in (1, 2, 3)]  # only the latest network
    recovered, recorded = read_checkpoint(folder)
    assert recorded == {"command": "python -m mnist_core train x", "data": None} and checkpoint_epochs(folder) == 3
    assert recovered.ended == STOPPED and recovered.config == result.config and recovered.epochs_done == 3
    assert recovered.history == result.history and recovered.batch_history == list(result.batch_history)
    images = tiny_data.x_test[:5, ..., None] / 255.0
    assert np.allclose(recovered.model.predict(images, verbose=0), result.model.predict(images, verbose=0), atol=1e-6)
