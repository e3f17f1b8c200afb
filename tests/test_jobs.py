import time

import pytest

from mnist_core import jobs
from mnist_core.config import ConfigError, make_config
from mnist_core.data import split_validation
from tests.conftest import tiny_arrays


def tiny_data():
    return split_validation(tiny_arrays(), validation_size=100, seed=0)


def wait(job, timeout=120):
    job.thread.join(timeout)
    assert not job.thread.is_alive()


def test_one_training_at_a_time_then_saved(store):
    job = jobs.start_training(make_config("quick", epochs=2, batch_size=50), "job-a", tiny_data)
    with pytest.raises(jobs.JobBusyError, match=r"\('job-a'\) is already running"):
        jobs.start_training(make_config("quick", epochs=1), "job-b", tiny_data)
    wait(job)
    assert job.state == jobs.DONE, job.error
    assert job.ended == "finished" and len(job.epochs) == 2 and len(job.batches) == 20
    assert (store / "job-a" / "model.onnx").is_file() and jobs.current_job() is job
    with pytest.raises(ConfigError, match="already exists"):
        jobs.start_training(make_config("quick", epochs=1), "job-a", tiny_data)


def test_stop_saves_the_partial_run(store):
    job = jobs.start_training(make_config("quick", epochs=50, batch_size=10), "job-stop", tiny_data)
    while not job.batches:
        time.sleep(0.05)
    job.stop.set()
    job.stop.set()  # pressing Stop twice changes nothing
    wait(job)
    assert job.state == jobs.DONE and job.ended == "stopped"
    assert job.saved.card["ended"] == "stopped" and job.saved.card["epochs_done"] < 50


def test_failure_is_reported_not_raised(store):
    def broken():
        raise RuntimeError("disk on fire")

    job = jobs.start_training(make_config("quick", epochs=1), "job-fail", broken)
    wait(job)
    assert job.state == jobs.FAILED and job.error == "RuntimeError: disk on fire"
    assert not (store / "job-fail").exists()
