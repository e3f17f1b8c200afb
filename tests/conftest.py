"""Shared fixtures: small synthetic data made here, and the full MNIST only for tests marked mnist."""

import functools
import gc
import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent


def app_test(page: str | None = None, timeout: float = 60):
    """An AppTest of the app, run once, switched to `page` (e.g. "draw") and run again.

    The app is started through a one-line entry script outside the repo: AppTest resets
    Streamlit's legacy `pages/`-folder mode before every run, which a real server does only
    until st.navigation first runs, so it would otherwise run each page without the entry point.
    """
    from streamlit.testing.v1 import AppTest

    # Streamlit collects all garbage after every script run; once an earlier test has loaded
    # TensorFlow, each collection scans its millions of objects. Leave it what the app makes.
    gc.freeze()
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]  # one entry per checkout: clones may test at once
    entry = Path(tempfile.gettempdir()) / f"mnist_studio_apptest_{tag}.py"
    entry.write_text(f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                     f"runpy.run_path({str(ROOT / 'streamlit_app.py')!r}, run_name='__main__')\n")
    at = AppTest.from_file(str(entry), default_timeout=timeout).run()
    if page:
        at.switch_page(str(ROOT / "pages" / f"{page}.py")).run()
    assert not at.exception, at.exception
    return at


@functools.cache
def mnist_file() -> Path:
    """The full MNIST: $MNIST_PATH when it is set, else Keras' cached copy, downloaded as the app
    does. Offline with neither, the test fails with the download's message rather than skipping."""
    from mnist_core.data import download_mnist

    path = Path(os.environ.get("MNIST_PATH") or download_mnist())
    assert path.is_file(), f"MNIST_PATH={path} is not a file"
    return path


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


def tiny_arrays(n_train: int = 600, n_test: int = 200, seed: int = 0) -> dict:
    """Random 'digits': each class a bright bar at its own row, plus noise, so a net can learn it."""
    rng = np.random.default_rng(seed)

    def make(n):
        y = rng.integers(0, 10, n).astype(np.uint8)
        x = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(y):
            x[i, 4 + 2 * label: 6 + 2 * label, 4:24] = 255
        return x, y

    (x_train, y_train), (x_test, y_test) = make(n_train), make(n_test)
    return dict(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)


@pytest.fixture
def tiny_npz(tmp_path) -> Path:
    path = tmp_path / "tiny.npz"
    np.savez(path, **tiny_arrays())
    return path


def draw_digit(size=(280, 280), box=(100, 60, 180, 220), width=18, ink=255, background=0, mode="L") -> Image.Image:
    """A '7' with a crossbar drawn with round strokes inside `box`, like a canvas drawing."""
    img = Image.new(mode, size, background)
    draw = ImageDraw.Draw(img)
    left, top, right, bottom = box
    points = [(left, top), (right, top), (left + (right - left) * 0.35, bottom)]
    draw.line(points, fill=ink, width=width, joint="curve")
    mid = (top + bottom) / 2
    draw.line([(left + (right - left) * 0.3, mid), (right - (right - left) * 0.1, mid)], fill=ink, width=width)
    for x, y in points:
        draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=ink)
    return img
