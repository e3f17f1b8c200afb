"""Shared fixtures: small synthetic data made here, and the full MNIST only for tests marked mnist.
What the fixtures are made of, and what tests share besides, is in tests/support/."""

import os
from pathlib import Path

import numpy as np
import pytest

from tests.support.data import mnist_file, tiny_arrays

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@pytest.fixture
def mnist_path(request, monkeypatch) -> Path:
    """The full MNIST (see mnist_file), also as $MNIST_PATH for the app and processes a test starts."""
    assert request.node.get_closest_marker("mnist"), "a test that uses the full MNIST is marked mnist"
    monkeypatch.setenv("MNIST_PATH", str(mnist_file()))
    return mnist_file()


@pytest.fixture(autouse=True)
def no_training_left_running():
    """A test that starts a background training must not leave it running for the next one."""
    yield
    from mnist_core import jobs

    for waiting in jobs.waiting_jobs():
        jobs.cancel(waiting)
    job = jobs.current_job()
    if job is not None and job.active:
        job.request_stop()
        job.thread.join(120)


@pytest.fixture
def store(tmp_path, monkeypatch) -> Path:
    """An empty model store for the test; the real one is never touched."""
    path = tmp_path / "store"
    monkeypatch.setenv("MNIST_STORE_DIR", str(path))
    return path


@pytest.fixture
def tiny_npz(tmp_path) -> Path:
    path = tmp_path / "tiny.npz"
    np.savez(path, **tiny_arrays())
    return path


