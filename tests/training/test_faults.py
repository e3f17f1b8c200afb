"""Faults: a training process killed with SIGKILL or stopped with SIGTERM.

(What the app makes of a killed training process: test_jobs; two people pressing Start at once:
test_jobs, and what the second one sees: test_sharing.)
"""

import json
import os
import signal
import subprocess
import sys

import pytest

from mnist_core import list_runs
from tests.support.data import ROOT

pytestmark = pytest.mark.slow  # each trains for several epochs in a child process


def train_command(tiny_npz, *args):
    return [sys.executable, "-m", "mnist_core", "train", "--preset", "seed-mlp", "--data", str(tiny_npz),
            "--validation-size", "100", *args]


def start_until(command, store, text):
    """A training process, returned once `text` has appeared on its stderr."""
    env = {**os.environ, "MNIST_STORE_DIR": str(store), "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    seen = ""
    while text not in seen:
        seen += process.stderr.read(64)
        assert process.poll() is None, seen[-2000:]
    return process


def card(store, name):
    return json.loads((store / name / "card.json").read_text())


def test_kill_9_loses_at_most_the_epoch_in_progress(store, tiny_npz):
    env = {**os.environ, "MNIST_STORE_DIR": str(store), "TF_CPP_MIN_LOG_LEVEL": "2"}
    subprocess.run(train_command(tiny_npz, "--epochs", "1", "--name", "earlier"), cwd=ROOT, env=env, check=True,
                   capture_output=True)
    before = {p.name: sorted(x.name for x in p.iterdir()) for p in store.iterdir()}
    process = start_until(train_command(tiny_npz, "--epochs", "400", "--batch-size", "10", "--name", "killed"),
                          store, "epoch 3/400")  # two whole epochs done
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = {p.name: sorted(x.name for x in p.iterdir()) for p in store.iterdir() if p.name != ".checkpoint-killed"}
    assert after == before  # no half-written run
    assert [r.name for r in list_runs() if not r.bundled] == ["earlier"]
    state = json.loads((store / ".checkpoint-killed" / "state.json").read_text())
    done = len(state["history"]["loss"])
    assert done >= 2 and state["model"] == f"epoch-{done}.keras"
    assert (store / ".checkpoint-killed" / state["model"]).is_file()
    # the next training to start saves it (its name is held until then: test_store)
    result = subprocess.run(train_command(tiny_npz, "--epochs", "1", "--name", "next"), cwd=ROOT, env=env,
                            capture_output=True, text=True, check=True)
    assert f"saved the interrupted training 'killed' as a stopped run ({done} epochs)" in result.stderr
    assert sorted(os.listdir(store)) == ["earlier", "killed", "next"]
    recovered = card(store, "killed")
    assert recovered["ended"] == "stopped" and recovered["epochs_done"] == done
    assert recovered["history"]["loss"] == state["history"]["loss"] and 0 < recovered["test_accuracy"] <= 1
    assert "--epochs 400 --batch-size 10 " in recovered["command"] and "--name killed" in recovered["command"]


def test_sigterm_stops_after_the_batch_and_saves(store, tiny_npz):
    process = start_until(train_command(tiny_npz, "--epochs", "400", "--batch-size", "10", "--name", "terminated"),
                          store, "epoch 2/400")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-2000:]
    assert "stopped: saving the partial run" in err and "saved terminated" in out
    saved = card(store, "terminated")
    assert saved["ended"] == "stopped" and 1 <= saved["epochs_done"] < 400
    assert sorted(os.listdir(store)) == ["terminated"]  # its checkpoint is gone once it is saved
