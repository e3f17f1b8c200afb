"""Data the tests make for themselves, and the full MNIST for the tests marked mnist."""

import functools
import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def mnist_file() -> Path:
    """The full MNIST: $MNIST_PATH when it is set, else Keras' cached copy, downloaded as the app
    does. Offline with neither, the test fails with the download's message rather than skipping."""
    from mnist_core.data import download_mnist

    path = Path(os.environ.get("MNIST_PATH") or download_mnist())
    assert path.is_file(), f"MNIST_PATH={path} is not a file"
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
