import subprocess
import sys

import numpy as np
import pytest

from mnist_core import data
from mnist_core.data import DatasetError, load_arrays, load_mnist, load_npz, load_test_set
from tests.support.data import ROOT, tiny_arrays


def test_explicit_path_beats_environment(tiny_npz, tmp_path, monkeypatch):
    other = tmp_path / "other.npz"
    np.savez(other, **tiny_arrays(n_train=300, seed=1))
    monkeypatch.setenv("MNIST_PATH", str(other))
    arrays, source = load_arrays(tiny_npz)
    assert source == str(tiny_npz) and arrays["x_train"].shape == (600, 28, 28)
    arrays, source = load_arrays()
    assert source == str(other) and arrays["x_train"].shape == (300, 28, 28)


def test_test_set_needs_only_the_test_arrays(tmp_path):
    arrays = tiny_arrays()
    path = tmp_path / "test-only.npz"
    np.savez(path, x_test=arrays["x_test"], y_test=arrays["y_test"])
    x_test, y_test = load_test_set(path)
    assert np.array_equal(x_test, arrays["x_test"]) and np.array_equal(y_test, arrays["y_test"])
    with pytest.raises(DatasetError, match="missing key.*x_train, y_train; found x_test, y_test"):
        load_mnist(path)


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match=r"missing\.npz: no such file"):
        load_npz(tmp_path / "missing.npz")


def test_truncated_file(tiny_npz, tmp_path):
    cut = tmp_path / "cut.npz"
    cut.write_bytes(tiny_npz.read_bytes()[:5000])
    with pytest.raises(DatasetError, match=r"cut\.npz: not a readable \.npz"):
        load_npz(cut)


def test_wrong_keys(tmp_path):
    path = tmp_path / "keys.npz"
    np.savez(path, images=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(DatasetError, match="missing key.*x_train.*found images"):
        load_npz(path)


def test_wrong_shapes(tmp_path):
    arrays = tiny_arrays()
    arrays["x_test"] = np.zeros((200, 32, 32), np.uint8)
    path = tmp_path / "shapes.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match=r"x_test has shape \(200, 32, 32\), expected \(N, 28, 28\)"):
        load_npz(path)
    arrays = tiny_arrays()
    arrays["y_train"] = arrays["y_train"][:10]
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match=r"y_train has shape \(10,\), expected \(600,\)"):
        load_npz(path)


def test_environment_pointing_at_missing_file_is_named_without_its_path(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "nope.npz"))
    with pytest.raises(DatasetError, match=r"^MNIST_PATH: no such file") as caught:
        load_mnist()
    assert str(tmp_path) not in str(caught.value)


def test_validation_split_is_seeded_and_disjoint(tiny_npz):
    a = load_mnist(tiny_npz, validation_size=100, seed=3)
    b = load_mnist(tiny_npz, validation_size=100, seed=3)
    c = load_mnist(tiny_npz, validation_size=100, seed=4)
    assert a.x_train.shape == (500, 28, 28) and a.x_val.shape == (100, 28, 28)
    assert np.array_equal(a.x_val, b.x_val) and not np.array_equal(a.x_val, c.x_val)
    train_rows = {row.tobytes() for row in a.x_train}
    assert not any(row.tobytes() in train_rows for row in a.x_val)
    assert a.x_test.shape == (200, 28, 28)


def test_validation_size_out_of_range(tiny_npz):
    with pytest.raises(DatasetError, match="validation size must be between 1 and 599"):
        load_mnist(tiny_npz, validation_size=600)


def test_bundled_sample_has_ten_digits_of_each_class(monkeypatch):
    monkeypatch.setenv("MNIST_PATH", "/nonexistent/mnist.npz")  # the sample needs no dataset
    images, labels, indices = data.load_sample()
    assert images.shape == (100, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(np.bincount(labels, minlength=10), [10] * 10)
    assert indices.dtype == np.int32 and (np.diff(indices) > 0).all() and indices[-1] < 10000
    assert (images[:, 0, 0] == 0).all() and (images.reshape(100, -1).max(axis=1) >= 250).all()  # ink on black


def test_corrupt_sample_is_reported(tmp_path):
    bad = tmp_path / "sample.npz"
    np.savez(bad, images=np.zeros((3, 28, 28), np.uint8), labels=np.zeros(3, np.uint8), indices=np.zeros(2, np.int32))
    with pytest.raises(DatasetError, match=r"the bundled MNIST sample: indices have shape \(2,\)"):
        data.load_sample(bad)


@pytest.mark.mnist
def test_full_mnist_layout(mnist_path):
    arrays = data.load_npz(mnist_path)
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    assert arrays["x_train"].dtype == np.uint8


@pytest.mark.mnist
def test_bundled_sample_is_what_the_script_makes(mnist_path, tmp_path):
    out = tmp_path / "sample.npz"
    subprocess.run([sys.executable, "-m", "bench.tools.make_mnist_sample", "--data", str(mnist_path),
                    "--out", str(out)], cwd=ROOT, check=True, capture_output=True, timeout=120)
    made, bundled = data.load_sample(out), data.load_sample()
    assert all(np.array_equal(a, b) for a, b in zip(made, bundled))
    x_test, y_test = load_test_set(mnist_path)
    images, labels, indices = bundled
    assert np.array_equal(images, x_test[indices]) and np.array_equal(labels, y_test[indices])
    assert all(np.array_equal(indices[labels == d], np.flatnonzero(y_test == d)[:10]) for d in range(10))
