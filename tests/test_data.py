import numpy as np
import pytest

from mnist_core import data
from mnist_core.data import DatasetError, load_arrays, load_mnist, load_npz
from tests.conftest import tiny_arrays


def test_explicit_path_beats_environment(tiny_npz, tmp_path, monkeypatch):
    other = tmp_path / "other.npz"
    np.savez(other, **tiny_arrays(n_train=300, seed=1))
    monkeypatch.setenv("MNIST_PATH", str(other))
    arrays, source = load_arrays(tiny_npz)
    assert source == str(tiny_npz) and arrays["x_train"].shape == (600, 28, 28)
    arrays, source = load_arrays()
    assert source == str(other) and arrays["x_train"].shape == (300, 28, 28)


def test_download_is_last_and_offline_error_says_what_to_do(monkeypatch):
    monkeypatch.delenv("MNIST_PATH", raising=False)
    import keras

    def offline():
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DatasetError, match="offline.*MNIST_PATH"):
        load_arrays()


def test_download_used_when_nothing_else(monkeypatch):
    monkeypatch.delenv("MNIST_PATH", raising=False)
    import keras

    arrays = tiny_arrays()
    monkeypatch.setattr(keras.datasets.mnist, "load_data",
                        lambda: ((arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])))
    loaded, source = load_arrays()
    assert source == "keras.datasets.mnist"
    assert np.array_equal(loaded["x_test"], arrays["x_test"])


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


def test_environment_pointing_at_missing_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "nope.npz"))
    with pytest.raises(DatasetError, match="nope.npz: no such file"):
        load_mnist()


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


def test_full_mnist_layout(mnist_path):
    arrays = data.load_npz(mnist_path)
    assert arrays["x_train"].shape == (60000, 28, 28) and arrays["x_test"].shape == (10000, 28, 28)
    assert arrays["x_train"].dtype == np.uint8
