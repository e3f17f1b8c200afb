"""A downloaded .keras file uploaded back: checked, evaluated and saved as a run, in a child process."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from mnist_core import jobs, load_classifier
from mnist_core.runs.store import MAX_FILE_BYTES
from mnist_core.keras_runs.importing import import_keras
from mnist_core.training.keras_reader import keras_reader
from mnist_core.runs.store import StoreError, find_run
from tests.support.data import ROOT, tiny_arrays
from tests.support.networks import keras_file


@pytest.fixture
def tiny_npz(tmp_path):
    """tiny_arrays with one training digit in ten drawn with a second bar, as MNIST has digits no
    network reads surely: a network right on every training digit is as right 255 times brighter,
    and its import could not tell which pixel scale it was trained at (adapter.find_reading)."""
    arrays = tiny_arrays()
    x = arrays["x_train"].copy()
    for i in range(0, len(x), 10):
        other = (int(arrays["y_train"][i]) + 5) % 10
        x[i, 4 + 2 * other: 6 + 2 * other, 4:24] = 255
    path = tmp_path / "tiny.npz"
    np.savez(path, **{**arrays, "x_train": x})
    return path


@pytest.mark.slow  # evaluates and exports to ONNX in a child process
def test_a_downloaded_keras_file_comes_back_as_a_run(tmp_path, store, tiny_npz):
    path, model = keras_file(tmp_path)
    result = subprocess.run([sys.executable, "-m", "mnist_core", "import", str(path), "--name", "back-again", "--json",
                             "--data", str(tiny_npz), "--owner", "c" * 32, "--temporary"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    x_test, y_test = tiny_arrays()["x_test"], tiny_arrays()["y_test"]
    expected = keras_reader(model).pixel_probabilities(x_test)
    accuracy = float((expected.argmax(1) == y_test).mean())
    assert json.loads(result.stdout) == {"name": "back-again", "test_accuracy": accuracy, "kind": "saved"}
    run = find_run("back-again", store)
    assert run.card.preset == run.card.ended == "imported" and run.card.test_accuracy == accuracy
    assert (run.card.owner, run.card.temporary) == ("c" * 32, True)
    assert run.card.three_widths is False  # a stranger's network is read as it is
    imported = run.card.imported
    assert (imported["input_shape"], imported["pixel_scale"], imported["softmax_added"]) == ([28, 28, 1], "0-1", False)
    assert imported["description"] == "Flatten → Dense(10, softmax)" and imported["file_format"] == "keras"
    assert np.allclose(run.gallery().probabilities, expected, atol=1e-6)
    assert run.digit_map().xy.shape == (len(y_test), 2)
    served = load_classifier("back-again", store).probabilities(x_test[:5] / 255.0)
    assert np.allclose(served, expected[:5], atol=1e-5)  # the ONNX export answers as the Keras network does
    assert sorted(p.name for p in store.iterdir()) == ["back-again"]


@pytest.mark.parametrize("make, message", [
    (lambda tmp: keras_file(tmp, input_shape=(32, 32, 1), trained=False)[0],
     r"^refused.keras: it takes input \(32, 32, 1\); the app reads 28x28 digits as .* \(rule: 28x28 digits in, ten "
     r"digits out\)$"),
    (lambda tmp: keras_file(tmp, outputs=5, trained=False)[0],
     r"it gives \(5,\) outputs, not ten digits \(rule: 28x28 digits in, ten digits out\)$"),
    (lambda tmp: keras_file(tmp, lambda_layer=True, trained=False)[0],
     r"layer 'doubled' is a Lambda, not one of the ordinary Keras layers .*\(rule: ordinary Keras layers only\)$"),
    (lambda tmp: keras_file(tmp, trained=False)[0],
     r"it reads \d+% of 600 MNIST training digits at the pixel scale it reads best \(0-1: .*\); a network must "
     r"read 80% \(rule: reads MNIST at one pixel scale\)$"),
])
def test_a_network_that_is_not_an_mnist_classifier_is_refused(tmp_path, store, tiny_npz, make, message):
    path = make(tmp_path)
    with pytest.raises(StoreError, match=message):
        import_keras(path.rename(path.with_name("refused.keras")), "refused", store, tiny_npz)
    assert not store.exists() or os.listdir(store) == []


def test_a_file_that_is_not_a_keras_archive_or_too_large_is_refused_before_keras_opens_it(tmp_path, store):
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a zip at all" * 100)
    with pytest.raises(StoreError, match=r"^garbage.keras is neither a .keras nor an .h5 file; save it from the "
                                         r'notebook with model.save\("mine.keras"\)$'):
        import_keras(garbage, "refused", store)
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.weights.h5", bytes(101_000_000))  # 100 kB on disk
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(StoreError, match=r"^bomb.keras unpacks to 101 MB; at most 100 MB$"):
        import_keras(bomb, "refused", store)
    large = tmp_path / "large.keras"
    large.write_bytes(os.urandom(MAX_FILE_BYTES + 1))
    with pytest.raises(StoreError, match=r"^large.keras is 10.0 MB; a network file may be at most 10 MB$"):
        import_keras(large, "refused", store)
    with pytest.raises(StoreError, match=r"^the file is 10.0 MB"):
        jobs.submit_import(large.read_bytes(), "refused")
    with pytest.raises(StoreError, match=r"^the file is neither a .keras nor an .h5 file"):
        jobs.submit_import(garbage.read_bytes(), "refused")
    assert jobs.current_job() is None or jobs.current_job().name != "refused"


def test_logits_get_a_softmax_and_an_h5_file_is_read_by_its_content(tmp_path, store, tiny_npz):
    path, model = keras_file(tmp_path, activation=None, suffix=".h5")
    upload = path.rename(tmp_path / "upload.keras")  # as the app writes an upload, whatever it was called
    run, accuracy = import_keras(upload, "logits", store, tiny_npz)
    x_test, y_test = tiny_arrays()["x_test"], tiny_arrays()["y_test"]
    logits = model.predict(x_test[..., None] / 255.0, verbose=0)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert accuracy == float((logits.argmax(1) == y_test).mean()) > 0.9
    assert (run.card.imported["softmax_added"], run.card.imported["file_format"]) == (True, "h5")
    served = load_classifier("logits", store).network_probabilities(x_test / 255.0)
    np.testing.assert_allclose(served, expected, atol=1e-5)


def test_an_oversized_network_is_refused_by_its_rule_before_keras_loads_it(tmp_path, store, monkeypatch):
    """Zero weights deflate to almost nothing: the file's sizes pass, its declared parameters do not."""
    import keras

    from mnist_core.keras_runs import importing

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(6000, kernel_initializer="zeros"),
                              keras.layers.Dense(10, activation="softmax")])
    model.save(tmp_path / "stored.keras")
    with zipfile.ZipFile(tmp_path / "stored.keras") as stored, \
            zipfile.ZipFile(tmp_path / "huge.keras", "w", zipfile.ZIP_DEFLATED) as deflated:
        for member in stored.namelist():
            deflated.writestr(member, stored.read(member))
    assert (tmp_path / "huge.keras").stat().st_size < 1_000_000 < model.count_params()
    monkeypatch.setattr(importing, "_keras_load", lambda *_: pytest.fail("Keras loaded a refused network"))
    with pytest.raises(StoreError, match=r"^huge.keras: it has 4,770,010 parameters \(rule: at most 3,000,000 "
                                         r"parameters\)$"):
        import_keras(tmp_path / "huge.keras", "huge", store)
