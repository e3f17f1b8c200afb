"""Waiting on a background job in tests: for it to end, or for its first batches."""

import time


def wait(job, timeout=180):
    job.thread.join(timeout)
    assert not job.thread.is_alive()


def wait_for_batches(job, timeout=120):
    deadline = time.time() + timeout
    while not job.batch_points:
        assert time.time() < deadline and job.active, job.error
        time.sleep(0.05)
