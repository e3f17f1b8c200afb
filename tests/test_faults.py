"""Faults: a killed training, two people pressing Start at once."""

import os
import signal
import subprocess
import sys

from mnist_core import jobs, list_runs
from tests.conftest import ROOT, app_test


def test_kill_9_mid_epoch_leaves_the_store_intact(store, tiny_npz):
    env = {**os.environ, "MNIST_STORE_DIR": str(store), "TF_CPP_MIN_LOG_LEVEL": "2"}
    base = [sys.executable, "-m", "mnist_core", "train", "--preset", "seed-mlp", "--data", str(tiny_npz),
            "--validation-size", "100"]
    subprocess.run(base + ["--epochs", "1", "--name", "earlier"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    before = {p.name: sorted(x.name for x in p.iterdir()) for p in store.iterdir()}
    process = subprocess.Popen(base + ["--epochs", "400", "--batch-size", "10", "--name", "killed"], cwd=ROOT,
                               env=env, stderr=subprocess.PIPE, text=True)
    seen = ""
    while "epoch 2/400" not in seen:  # well into training
        seen += process.stderr.read(64)
        assert process.poll() is None, seen[-2000:]
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    after = {p.name: sorted(x.name for x in p.iterdir()) for p in store.iterdir()}
    assert after == before
    assert [r.name for r in list_runs() if not r.bundled] == ["earlier"]


def test_two_sessions_pressing_start_get_one_training(store, tiny_npz, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tiny_npz))
    sessions = []
    for name in ("first-press", "second-press"):
        at = app_test("train")
        next(n for n in at.number_input if n.label == "Validation images").set_value(100)
        next(n for n in at.number_input if n.label == "Epochs").set_value(30)
        at.text_input[0].set_value(name)
        sessions.append(at)
    for at in sessions:
        at.button[0].click()
    sessions[0].run()
    sessions[1].run()
    job = jobs.current_job()
    assert job.name == "first-press"
    warnings = [w.value for w in sessions[1].warning]
    assert any("'first-press') is already running" in w for w in warnings), warnings
    job.request_stop()
    job.thread.join(120)
    assert job.status == jobs.SAVED and not job.thread.is_alive()
    assert sorted(r.name for r in list_runs() if not r.bundled) == ["first-press"]
