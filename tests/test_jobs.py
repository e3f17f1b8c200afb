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
from mnist_core.train import Progress
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


def test_a_job_keeps_a_bounded_curve_of_a_long_run():
    job = jobs.TrainingJob(config=make_config("quick"), name="long", store=ROOT)
    for step in range(1, 100_001):  # 500 epochs of 200 batches, every batch received
        job.record(Progress("batch", (step - 1) // 200 + 1, 500, (step - 1) % 200 + 1, 200, step / 10, {"loss": 1.0}))
    steps = [point[0] for point in job.batch_points]
    assert 500 <= len(steps) <= 1000 and steps[0] == 1 and len({b - a for a, b in zip(steps, steps[1:])}) == 1


def test_one_training_at_a_time_then_saved(store, tiny_npz):
    job = jobs.start_training(make_config("quick", epochs=2, batch_size=50, validation_size=100), "job-a",
                              data=tiny_npz, threads=1, nice=5)
    with pytest.raises(jobs.JobBusyError, match=r"\('job-a'\) is already running"):
        jobs.start_training(make_config("quick", epochs=1), "job-b", data=tiny_npz)
    assert job.process.pid != os.getpid()  # the training never runs in the server's process
    wait(job)
    assert job.status == jobs.SAVED, job.error
    assert job.ended == "finished" and [e["epoch"] for e in job.epoch_logs] == [1, 2]
    steps = [p[0] for p in job.batch_points]  # batch messages are throttled; every epoch's arrives
    assert steps[0] == 1 and steps == sorted(set(steps)) and steps[-1] <= 20 and job.progress.fraction == 1.0
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


def sleeper_job(monkeypatch, store, name, code="import sys, time; print('not a message', flush=True); time.sleep(600)"):
    """A job whose 'training process' is `code`: one that ignores Stop, by default."""
    monkeypatch.setattr(jobs, "training_command", lambda *args: [sys.executable, "-c", code])
    return jobs.start_training(make_config("quick"), name, store=store)


def test_stop_escalates_to_a_kill(store, monkeypatch):
    monkeypatch.setattr(jobs, "STOP_TIMEOUT", 0.5)
    job = sleeper_job(monkeypatch, store, "deaf")
    checkpoint = store / ".checkpoint-deaf"  # as a training that had done 3 epochs would have left
    checkpoint.mkdir(parents=True)
    (checkpoint / "state.json").write_text(json.dumps({"history": {"loss": [0.3, 0.2, 0.1]}}))
    started = time.time()
    job.request_stop()
    wait(job, timeout=30)
    assert job.process.returncode == -signal.SIGKILL and time.time() - started < 20
    assert job.status == jobs.FAILED and job.error == (
        "the training process was killed: it had not stopped 0.5 s after Stop; "
        "the next training to start saves its last whole epoch (3) as a stopped run")


def test_a_failing_reader_ends_the_job_and_frees_the_slot(store, monkeypatch):
    def broken(line):
        raise RuntimeError("unreadable progress")

    monkeypatch.setattr(jobs.protocol, "decode", broken)
    monkeypatch.setattr(jobs, "STOP_TIMEOUT", 0.5)
    job = sleeper_job(monkeypatch, store, "unread")
    wait(job, timeout=30)
    assert job.status == jobs.FAILED and job.process.returncode == -signal.SIGKILL  # it ignored the stop
    assert job.error == "the app lost track of the training (RuntimeError: unreadable progress) and stopped it"
    # a child that follows the protocol ends by itself once the reader closes its pipes
    job = sleeper_job(monkeypatch, store, "polite", code="import sys; print('x', flush=True); sys.stdin.read()")
    wait(job, timeout=30)
    assert job.status == jobs.FAILED and job.process.returncode == 0 and job.killed is None


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
