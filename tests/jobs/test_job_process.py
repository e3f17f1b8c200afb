"""A job's child process: the watchdog, stop and its escalation to a kill, a broken or killed
child, a server that goes away: each ends the job, frees the slot and saves what can be saved."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mnist_core import jobs, list_runs
from mnist_core.jobs import process as job_module
from mnist_core.jobs import queue
from mnist_core.jobs.access import VISITOR_LIMITS, Limits
from mnist_core.config import make_config
from tests.support.data import ROOT
from tests.support.jobs import wait, wait_for_batches


@pytest.mark.slow
def test_the_watchdog_stops_a_visitors_training_and_it_is_saved(store, tiny_npz):
    limits = dataclasses.replace(VISITOR_LIMITS, wall_seconds=1.0)
    job = jobs.submit_training(make_config("quick", epochs=200, batch_size=10, validation_size=100, train_size=500),
                               "watched", data=tiny_npz, owner="b" * 32, limits=limits)
    wait(job)
    assert job.timed_out and job.status == jobs.SAVED and job.ended == "stopped", job.error
    assert job.saved.card.ended == "stopped" and job.saved.card.epochs_done < 200
    assert job.saved.card.owner == "b" * 32 and job.saved.card.temporary is True


def test_the_watchdog_kills_a_job_that_does_not_stop(store, monkeypatch):
    limits = Limits(wall_seconds=0.5, kill_grace=0.5)
    monkeypatch.setattr(queue, "training_command", lambda *args: [sys.executable, "-c", "import time; time.sleep(600)"])
    job = jobs.submit_training(make_config("quick"), "deaf", limits=limits)
    started = time.time()
    wait(job, timeout=30)
    assert job.timed_out and job.process.returncode == -signal.SIGKILL and time.time() - started < 20
    assert job.status == jobs.FAILED and job.error == ("the training process was killed: it had not ended 0.5 s "
                                                       "after its time limit stopped it; nothing was saved")


@pytest.mark.slow
def test_stop_saves_the_partial_run(store, tiny_npz):
    job = jobs.submit_training(make_config("quick", epochs=50, batch_size=10, validation_size=100), "job-stop",
                               data=tiny_npz)
    # by default a training leaves one core to the people drawing and runs at a lower priority
    args = job.process.args
    assert args[args.index("--threads"):args.index("--threads") + 4] == ["--threads", str(max(1, os.cpu_count() - 1)),
                                                                        "--nice", "10"]
    wait_for_batches(job)
    job.request_stop()
    job.request_stop()  # pressing Stop twice changes nothing
    wait(job)
    assert job.status == jobs.SAVED and job.ended == "stopped", job.error
    assert job.saved.card.ended == "stopped" and job.saved.card.epochs_done < 50
    assert job.process.returncode == 0


def sleeper_job(monkeypatch, store, name, code="import sys, time; print('not a message', flush=True); time.sleep(600)"):
    """A job whose 'training process' is `code`: one that ignores Stop, by default."""
    monkeypatch.setattr(queue, "training_command", lambda *args: [sys.executable, "-c", code])
    return jobs.submit_training(make_config("quick"), name, store=store)


def test_stop_escalates_to_a_kill(store, monkeypatch):
    monkeypatch.setattr(job_module, "STOP_TIMEOUT", 0.5)
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

    monkeypatch.setattr(queue.protocol, "decode", broken)
    monkeypatch.setattr(job_module, "STOP_TIMEOUT", 0.5)
    job = sleeper_job(monkeypatch, store, "unread")
    wait(job, timeout=30)
    assert job.status == jobs.FAILED and job.process.returncode == -signal.SIGKILL  # it ignored the stop
    assert job.error == "the app lost track of the training (RuntimeError: unreadable progress) and stopped it"
    # a child that follows the protocol ends by itself once the reader closes its pipes
    job = sleeper_job(monkeypatch, store, "polite", code="import sys; print('x', flush=True); sys.stdin.read()")
    wait(job, timeout=30)
    assert job.status == jobs.FAILED and job.process.returncode == 0 and job.killed is None


def test_failure_is_reported_not_raised(store, tmp_path):
    job = jobs.submit_training(make_config("quick", epochs=1), "job-fail", data=tmp_path / "gone.npz",
                               threads=0)  # no thread cap to set: the child fails before it loads TensorFlow
    wait(job)
    assert job.status == jobs.FAILED and job.error.endswith("gone.npz: no such file (expected an .npz with keys "
                                                            "x_train, y_train, x_test, y_test)")
    assert not (store / "job-fail").exists()


def test_a_killed_training_process_is_reported_and_its_empty_checkpoint_removed(store, monkeypatch):
    """What the app makes of a kill -9 (what the training keeps of it: test_faults)."""
    job = sleeper_job(monkeypatch, store, "killed")
    (store / ".checkpoint-killed").mkdir(parents=True)  # claimed, as a training killed before its first whole epoch leaves it
    os.kill(job.process.pid, signal.SIGKILL)
    wait(job, timeout=30)
    assert job.status == jobs.FAILED
    assert job.error == "the training process was killed (signal 9); nothing was saved"
    assert os.listdir(store) == []


@pytest.mark.slow
def test_server_gone_means_the_training_stops_and_saves(store, tiny_npz):
    """A 'server' that starts a training and is then killed -9: the training must not run on."""
    server = subprocess.Popen([sys.executable, "-c", f"""
import json, time
from mnist_core import jobs
from mnist_core.jobs import process as job_module
from mnist_core.jobs import queue
from mnist_core.config import make_config
job = jobs.submit_training(make_config("quick", epochs=500, batch_size=10, validation_size=100), "orphan",
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
    assert orphan.name == "orphan" and orphan.card.ended == "stopped" and orphan.card.epochs_done < 500


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
