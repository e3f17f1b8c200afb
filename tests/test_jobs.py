"""Background trainings: one child process at a time, progress copied back, stop and failures."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mnist_core import jobs, list_runs
from mnist_core.config import ConfigError, make_config
from tests.conftest import ROOT


def wait(job, timeout=180):
    job.thread.join(timeout)
    assert not job.thread.is_alive()


def wait_for_batches(job, timeout=120):
    deadline = time.time() + timeout
    while not job.batch_points:
        assert time.time() < deadline and job.active, job.error
        time.sleep(0.05)


def test_the_server_side_imports_neither_the_cli_nor_tensorflow():
    code = "import sys, mnist_core.jobs; print(sorted({'mnist_core.cli', 'tensorflow'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_one_training_at_a_time_then_saved(store, tiny_npz):
    job = jobs.start_training(make_config("quick", epochs=2, batch_size=50, validation_size=100), "job-a",
                              data=tiny_npz, threads=1, nice=5)
    with pytest.raises(jobs.JobBusyError, match=r"\('job-a'\) is already running"):
        jobs.start_training(make_config("quick", epochs=1), "job-b", data=tiny_npz)
    assert job.process.pid != os.getpid()  # the training never runs in the server's process
    wait(job)
    assert job.status == jobs.SAVED, job.error
    assert job.ended == "finished" and [e["epoch"] for e in job.epoch_logs] == [1, 2]
    assert [p[0] for p in job.batch_points] == list(range(1, 21)) and job.progress.fraction == 1.0
    assert job.saved.card["test_accuracy"] > 0.5 and job.saved.card["epochs_done"] == 2
    command = job.saved.card["command"]  # reproducible anywhere: no server paths or run-time flags
    assert "--batch-size 50" in command and f"--data {tiny_npz}" in command
    assert not any(flag in command for flag in ("--store", "--progress", "--threads", "--nice", str(store)))
    assert (store / "job-a" / "model.onnx").is_file() and jobs.current_job() is job
    with pytest.raises(ConfigError, match="already exists"):
        jobs.start_training(make_config("quick", epochs=1), "job-a", data=tiny_npz)


def test_stop_saves_the_partial_run(store, tiny_npz):
    job = jobs.start_training(make_config("quick", epochs=50, batch_size=10, validation_size=100), "job-stop",
                              data=tiny_npz)
    # by default a training leaves one core to the people drawing and runs at a lower priority
    assert job.process.args[-4:] == ["--threads", str(max(1, os.cpu_count() - 1)), "--nice", "10"]
    wait_for_batches(job)
    job.request_stop()
    job.request_stop()  # pressing Stop twice changes nothing
    wait(job)
    assert job.status == jobs.SAVED and job.ended == "stopped", job.error
    assert job.saved.card["ended"] == "stopped" and job.saved.card["epochs_done"] < 50
    assert job.process.returncode == 0


def test_failure_is_reported_not_raised(store, tmp_path):
    job = jobs.start_training(make_config("quick", epochs=1), "job-fail", data=tmp_path / "gone.npz")
    wait(job)
    assert job.status == jobs.FAILED and job.error.endswith("gone.npz: no such file (expected an .npz with keys "
                                                            "x_train, y_train, x_test, y_test)")
    assert not (store / "job-fail").exists()


def test_killed_training_process_is_reported_and_leaves_nothing(store, tiny_npz):
    job = jobs.start_training(make_config("quick", epochs=200, batch_size=10, validation_size=100), "job-killed",
                              data=tiny_npz)
    wait_for_batches(job)
    os.kill(job.process.pid, signal.SIGKILL)
    wait(job)
    assert job.status == jobs.FAILED
    assert job.error == "the training process was killed (signal 9); nothing was saved"
    assert not store.exists() or [p.name for p in store.iterdir()] == []


def test_server_gone_means_the_training_stops_and_saves(store, tiny_npz):
    """A 'server' that starts a training and is then killed -9: the training must not run on."""
    server = subprocess.Popen([sys.executable, "-c", f"""
import json, time
from mnist_core import jobs
from mnist_core.config import make_config
job = jobs.start_training(make_config("quick", epochs=500, batch_size=10, validation_size=100), "orphan",
                          data={str(tiny_npz)!r}, store={str(store)!r})
while not job.batch_points:
    time.sleep(0.05)
print(json.dumps(job.process.pid), flush=True)
time.sleep(600)
"""], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    child = json.loads(server.stdout.readline())
    server.kill()
    server.wait()
    deadline = time.time() + 120
    while _alive(child):
        assert time.time() < deadline, "the training outlived its server"
        time.sleep(0.2)
    (orphan,) = [r for r in list_runs(store) if not r.bundled]
    assert orphan.name == "orphan" and orphan.card["ended"] == "stopped" and orphan.card["epochs_done"] < 500


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
