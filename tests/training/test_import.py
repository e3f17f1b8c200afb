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
from mnist_core.training.importing import import_keras
from mnist_core.training.keras_reader import keras_reader
from mnist_core.runs.store import StoreError, find_run
from tests.support.data import ROOT, tiny_arrays
from tests.support.networks import keras_file


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
    assert np.allclose(run.gallery().probabilities, expected, atol=1e-6)
    assert run.digit_map().xy.shape == (len(y_test), 2)
    served = load_classifier("back-again", store).probabilities(x_test[:5] / 255.0)
    assert np.allclose(served, expected[:5], atol=1e-5)  # the ONNX export answers as the Keras network does
    assert sorted(p.name for p in store.iterdir()) == ["back-again"]


@pytest.mark.parametrize("make, message", [
    (lambda tmp: keras_file(tmp, input_shape=(32, 32, 1))[0], r"expects input \(32, 32, 1\), not a 28x28 image"),
    (lambda tmp: keras_file(tmp, input_shape=(28, 28))[0], r"takes input \(28, 28\); a run takes 28x28x1 images"),
    (lambda tmp: keras_file(tmp, outputs=5)[0], r"gives \(5,\) outputs, not 10 digit probabilities"),
    (lambda tmp: keras_file(tmp, activation=None)[0], r"its outputs are not probabilities \(end the network with a "
                                                      r"softmax\)"),
    (lambda tmp: keras_file(tmp, lambda_layer=True)[0], r"not a loadable Keras model.*(unsafe|safe_mode|Lambda)"),
])
def test_a_network_that_is_not_an_mnist_classifier_is_refused(tmp_path, store, tiny_npz, make, message):
    with pytest.raises(StoreError, match=message):
        import_keras(make(tmp_path), "refused", store, tiny_npz)
    assert not store.exists() or os.listdir(store) == []


def test_a_file_that_is_not_a_keras_archive_or_too_large_is_refused_before_keras_opens_it(tmp_path, store):
    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(b"not a zip at all" * 100)
    with pytest.raises(StoreError, match=r"^garbage.keras is not a .keras file \(not a zip archive"):
        import_keras(garbage, "refused", store)
    bomb = tmp_path / "bomb.keras"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.weights.h5", bytes(101_000_000))  # 100 kB on disk
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(StoreError, match=r"^bomb.keras unpacks to 101 MB; at most 100 MB$"):
        import_keras(bomb, "refused", store)
    large = tmp_path / "large.keras"
    large.write_bytes(os.urandom(MAX_FILE_BYTES + 1))
    with pytest.raises(StoreError, match=r"^large.keras is 10.0 MB; a .keras file may be at most 10 MB$"):
        import_keras(large, "refused", store)
    with pytest.raises(StoreError, match=r"^the file is 10.0 MB"):
        jobs.submit_import(large.read_bytes(), "refused")
    with pytest.raises(StoreError, match=r"^the file is not a .keras file"):
        jobs.submit_import(garbage.read_bytes(), "refused")
    assert jobs.current_job() is None or jobs.current_job().name != "refused"
