"""Background jobs: one child process at a time, a queue, progress copied back, stop, the watchdog, failures."""

import os
import subprocess
import sys
import threading

import pytest

from mnist_core import jobs
from mnist_core.jobs import queue

from mnist_core.jobs import process as job_module
from mnist_core.runs.network_file import declared_weight_bytes
from mnist_core.jobs.access import NO_LIMITS, VISITOR_LIMITS
from mnist_core.config import ConfigError, make_config
from mnist_core.runs.store import StoreError
from mnist_core.progress import Progress
from tests.support.data import ROOT
from tests.support.jobs import wait


def test_the_server_side_imports_neither_the_cli_nor_tensorflow():
    code = "import sys, mnist_core.jobs.queue; print(sorted({'mnist_core.cli', 'tensorflow'} & set(sys.modules)))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_a_job_keeps_a_bounded_curve_of_a_long_run():
    job = job_module.Job(name="long", store=ROOT, command=[], config=make_config("quick"))
    for step in range(1, 100_001):  # 500 epochs of 200 batches, every batch received
        job.record(Progress("batch", (step - 1) // 200 + 1, 500, (step - 1) % 200 + 1, 200, step / 10, {"loss": 1.0}))
    steps = [point[0] for point in job.batch_points]
    assert 500 <= len(steps) <= 1000 and steps[0] == 1 and len({b - a for a, b in zip(steps, steps[1:])}) == 1


@pytest.mark.slow
def test_one_job_at_a_time_the_next_starts_when_it_ends(store, tiny_npz):
    job = jobs.submit_training(make_config("quick", epochs=2, batch_size=50, validation_size=100), "job-a",
                               data=tiny_npz, threads=1, nice=5, owner="a" * 32)
    second = jobs.submit_training(make_config("quick", epochs=1, batch_size=50, validation_size=100), "job-b",
                                  data=tiny_npz, threads=1)
    assert job.status == jobs.RUNNING and second.status == jobs.QUEUED and second.process is None
    place, ahead, seconds = jobs.place_in_queue(second)
    assert place == 1 and ahead == [job] and seconds == pytest.approx(job.seconds_left(), abs=1) and seconds > 0
    with pytest.raises(ConfigError, match="a training called 'job-b' is running or awaits saving"):
        jobs.submit_training(make_config("quick", epochs=1), "job-b", data=tiny_npz)  # its name is taken
    assert job.process.pid != os.getpid()  # the training never runs in the server's process
    wait(job)
    assert job.status == jobs.SAVED, job.error
    assert job.ended == "finished" and [e["epoch"] for e in job.epoch_logs] == [1, 2]
    steps = [p[0] for p in job.batch_points]  # batch messages are throttled; every epoch's arrives
    assert steps[0] == 1 and steps == sorted(set(steps)) and steps[-1] <= 20 and job.progress.fraction == 1.0
    assert job.saved.card.test_accuracy > 0.5 and job.saved.card.epochs_done == 2
    assert job.saved.card.owner == "a" * 32 and job.saved.card.temporary is False  # no quota: not a visitor's
    command = job.saved.card.command  # reproducible anywhere: no server paths or run-time flags
    assert "--batch-size 50" in command and f"--data {tiny_npz}" in command
    assert not any(flag in command for flag in ("--store", "--progress", "--threads", "--nice", "--owner", str(store)))
    assert (store / "job-a" / "model.onnx").is_file()
    assert jobs.current_job() is second and second.status in (jobs.RUNNING, jobs.SAVING, jobs.SAVED)  # its turn
    assert jobs.place_in_queue(second) is None and jobs.waiting_jobs() == []
    wait(second)
    assert second.status == jobs.SAVED and second.saved.card.owner is None
    with pytest.raises(ConfigError, match="already exists"):
        jobs.submit_training(make_config("quick", epochs=1), "job-a", data=tiny_npz)


@pytest.fixture
def sleepers(monkeypatch, store):
    """Jobs whose 'training process' waits for a stop line (or its stdin's end), then exits: the
    queue's rules without TensorFlow."""
    code = "import sys\nfor line in sys.stdin:\n    break"
    monkeypatch.setattr(queue, "training_command", lambda *args: [sys.executable, "-c", code])
    # conftest's no_training_left_running empties the queue and stops the job afterwards

def test_the_queue_refuses_when_full_and_a_visitor_waits_once(sleepers, store):
    submit = lambda name, owner, limits=VISITOR_LIMITS: jobs.submit_training(  # noqa: E731
        make_config("quick", train_size=1000), name, owner=owner, limits=limits)
    running = submit("first", "owner-1")
    assert running.status == jobs.RUNNING and running.command[-1] == "--temporary"  # a visitor's run is temporary
    with pytest.raises(jobs.JobBusyError, match="you already have a job running or waiting"):
        submit("again", "owner-1")
    queued = [submit(f"next-{n}", f"owner-{n}") for n in (2, 3, 4)]
    assert [jobs.place_in_queue(job)[0] for job in queued] == [1, 2, 3]
    place, ahead, seconds = jobs.place_in_queue(queued[2])
    assert ahead == [running, *queued[:2]] and seconds == pytest.approx(sum(job.seconds_left() for job in ahead))
    with pytest.raises(jobs.JobBusyError, match=r"^the queue is full: 3 jobs are waiting behind 'first'; try again "
                                                r"when one has ended$"):
        submit("too-many", "owner-5")
    local = submit("local", "owner-6", limits=NO_LIMITS)  # a local user or the owner always gets a place
    assert jobs.place_in_queue(local)[0] == 4
    assert jobs.cancel(queued[1]) and queued[1].status == jobs.CANCELLED and not jobs.cancel(queued[1])
    assert [job.name for job in jobs.waiting_jobs()] == ["next-2", "next-4", "local"]
    assert not jobs.cancel(running)  # a running job is stopped, not cancelled
    running.request_stop()
    wait(running, timeout=30)
    assert jobs.current_job() is queued[0] and queued[0].active  # the next one started
    assert [jobs.place_in_queue(job)[0] for job in (queued[2], local)] == [1, 2]


def test_two_people_pressing_start_at_once_start_one_job(sleepers, store):
    barrier, results = threading.Barrier(8), []

    def press(n):
        barrier.wait()
        try:
            results.append(jobs.submit_training(make_config("quick", train_size=1000), f"press-{n}",
                                                owner=f"owner-{n}", limits=VISITOR_LIMITS).status)
        except jobs.JobBusyError:
            results.append("refused")

    threads = [threading.Thread(target=press, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == ["queued"] * 3 + ["refused"] * 4 + ["running"]


def test_a_job_that_cannot_start_fails_and_the_next_one_starts(sleepers, store, monkeypatch):
    first = jobs.submit_training(make_config("quick"), "first")
    doomed = jobs.submit_training(make_config("quick"), "doomed", limits=VISITOR_LIMITS)
    after = jobs.submit_training(make_config("quick"), "after")

    def full(store, limits, new_runs=0, keep=frozenset()):
        if limits.max_runs is not None and new_runs:
            raise StoreError("the model store is full")
        return []

    monkeypatch.setattr(queue.quota, "make_room", full)
    first.request_stop()
    wait(first, timeout=30)
    assert doomed.status == jobs.FAILED and doomed.error == "not started: the model store is full"
    assert doomed.process is None and jobs.current_job() is after and after.active


def test_one_client_holds_one_place_however_many_tabs_it_opens(sleepers, store):
    """The owner id is per browser session: four tabs of one client held the running slot and
    every waiting place. Now a client (what its proxy reports) has one job at a time."""
    submit = lambda name, owner, client, limits=VISITOR_LIMITS: jobs.submit_training(  # noqa: E731
        make_config("quick", train_size=1000), name, owner=owner, limits=limits, client=client)
    running = submit("tab-1", "owner-1", "client:203.0.113.7")
    for n in (2, 3, 4):
        with pytest.raises(jobs.JobBusyError, match=r"^your address already has 1 job running or waiting \(from "
                                                    r"another tab or browser\); wait for it to end"):
            submit(f"tab-{n}", f"owner-{n}", "client:203.0.113.7")
    other = submit("someone-else", "owner-5", "client:198.51.100.4")
    assert running.active and other.waiting and [job.name for job in jobs.waiting_jobs()] == ["someone-else"]
    local = submit("local", "owner-6", "client:203.0.113.7", limits=NO_LIMITS)  # no limits, no per-client count
    assert local.waiting


def test_the_next_job_starts_whatever_goes_wrong_after_one(store, monkeypatch):
    """quota.run_bytes raised FileNotFoundError when a run was deleted while it was measured (a
    visitor's Delete, an eviction), _ended let it through, and the queue was wedged until a reboot."""
    import pathlib
    import shutil

    from tests.support.runs import fake_run, stand_in_trainings

    stand_in_trainings(monkeypatch)
    fake_run(store, "victim", size=50_000)
    (store / "victim" / "gallery.npz").write_bytes(b"\0" * 1000)
    is_file = pathlib.Path.is_file

    def deleted_while_measured(self):
        found = is_file(self)
        if self.name == "gallery.npz" and self.parent.name == "victim" and self.parent.exists():
            shutil.rmtree(self.parent)  # deleted right after it was seen, before its size was read
        return found

    monkeypatch.setattr(pathlib.Path, "is_file", deleted_while_measured)
    first = jobs.submit_training(make_config("quick"), "first", owner="a" * 32, limits=VISITOR_LIMITS)
    second = jobs.submit_training(make_config("quick"), "second", owner="b" * 32, limits=VISITOR_LIMITS)
    first.request_stop()
    wait(first, timeout=60)
    assert first.status == jobs.SAVED and not (store / "victim").exists()
    assert jobs.current_job() is second and second.active, second.error

    def broken(*args, **kwargs):
        raise RuntimeError("anything at all")

    third = jobs.submit_training(make_config("quick"), "third", owner="c" * 32, limits=VISITOR_LIMITS)
    monkeypatch.setattr(queue.quota, "make_room", lambda *args, keep=None, **kwargs: broken() if keep else [])
    second.request_stop()
    wait(second, timeout=60)
    assert second.status == jobs.SAVED and jobs.current_job() is third and third.active, third.error


def test_a_job_submitted_with_its_owner_id_alone_counts_against_the_client_noted_for_it(sleepers, store):
    from mnist_core.jobs import access

    for owner in ("tab-a", "tab-b"):
        access.note_client(access.Session(access.VISITOR, owner * 4, "203.0.113.9"))
    jobs.submit_training(make_config("quick", train_size=1000), "from-a", owner="tab-a" * 4, limits=VISITOR_LIMITS)
    with pytest.raises(jobs.JobBusyError, match="your address already has 1 job running or waiting"):
        jobs.submit_training(make_config("quick", train_size=1000), "from-b", owner="tab-b" * 4, limits=VISITOR_LIMITS)


def test_an_import_is_estimated_from_its_weights_and_refused_when_too_large_for_a_visitor(store):
    import io
    import zipfile

    def keras_archive(weights: int) -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("config.json", "{}")
            archive.writestr("model.weights.h5", b"\0" * weights)  # declared unpacked size: what is counted
        return buffer.getvalue()

    large = keras_archive(40_000_000)
    assert len(large) < 100_000 and declared_weight_bytes(large) == 40_000_000
    with pytest.raises(ConfigError, match=r"^this network has about 10.0 million weights: importing it"):
        jobs.submit_import(large, "too-large", owner="a" * 32, limits=VISITOR_LIMITS)
    assert jobs.current_job() is None or jobs.current_job().name != "too-large"
    waiting = job_module.Job(name="w", store=store, command=[], what=jobs.IMPORT, estimate=75.0)
    assert waiting.seconds_left() == 75.0  # the queue's ETA for it
    assert job_module.Job(name="v", store=store, command=[], what=jobs.IMPORT).seconds_left() == 40.0
