"""Networks trained as notebooks train MNIST: each shape, pixel scale and ending read as its notebook reads it."""

import functools
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from bench.harness.notebooks import NOTEBOOKS, notebook_network, train_notebook
from mnist_core import load_classifier
from mnist_core.data import load_arrays
from mnist_core.runs.store import StoreError, find_run
from mnist_core.keras_runs.adapter import adapted_network, find_reading
from mnist_core.keras_runs.export import export_onnx
from mnist_core.keras_runs.importing import load_network
from mnist_core.training.keras_reader import keras_reader
from tests.support.data import ROOT, mnist_file

pytestmark = [pytest.mark.mnist, pytest.mark.slow]  # trains each network for an epoch on MNIST


@functools.cache
def mnist() -> dict:
    return dict(load_arrays(mnist_file())[0])


@functools.cache
def trained(name: str):
    """(network, Keras' own test accuracy): an epoch on 20,000 training digits."""
    return train_notebook(name, mnist(), epochs=1, train_size=20_000)


def saved(name: str, tmp_path, suffix: str = ".keras"):
    path = tmp_path / f"{name}{suffix}"
    trained(name)[0].save(path)
    return path


@pytest.mark.parametrize("name", list(NOTEBOOKS))
def test_each_shape_and_scale_is_read_as_its_notebook_reads_it(name, mnist_path, tmp_path):
    import onnxruntime as ort

    _, keras_accuracy = trained(name)
    shape, scale, _, logits, _ = NOTEBOOKS[name]
    network, architecture, _ = load_network(saved(name, tmp_path), name)
    reading = find_reading(network, architecture.input_shape, mnist()["x_train"], mnist()["y_train"], name)
    assert (reading.input_shape, reading.scale, reading.softmax_added) == (shape, scale, logits)
    adapted = adapted_network(network, reading)
    x_test, y_test = mnist()["x_test"], mnist()["y_test"]
    probabilities = keras_reader(adapted).pixel_probabilities(x_test)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4) and probabilities.min() >= 0
    assert abs(float((probabilities.argmax(1) == y_test).mean()) - keras_accuracy) <= 0.003
    assert adapted.layers[-1].input.shape[-1] in (128, 256, 1600, 64)  # the last hidden layer, for map and detector
    export_onnx(adapted, tmp_path / "model.onnx")  # the adapter travels in the served network
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    served = session.run([session.get_outputs()[0].name],
                         {session.get_inputs()[0].name: (x_test[:300, ..., None] / np.float32(255))})[0]
    np.testing.assert_allclose(served, probabilities[:300], atol=1e-5)


def test_a_network_that_reads_nothing_at_any_scale_is_refused(mnist_path, tmp_path):
    network = notebook_network("mlp-28x28")  # untrained
    with pytest.raises(StoreError, match=r"^untrained: it reads \d+% of 5,000 MNIST training digits at the pixel scale "
                                         r"it reads best \(0-1: \d+%, 0-255: \d+%, MNIST mean/std: \d+%, -1 to 1: \d+%\); "
                                         r"a network must read 80% \(rule: reads MNIST at one pixel scale\)$"):
        find_reading(network, (28, 28), mnist()["x_train"], mnist()["y_train"], "untrained")


def import_command(path, name, store, *flags) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mnist_core", "import", str(path), "--name", name, "--store",
                           str(store), "--data", str(mnist_file()), *flags], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})


def test_the_seed_notebooks_network_imports_with_every_feature(mnist_path, tmp_path, store):
    """The classic notebook's Flatten MLP, saved as .h5 by an older notebook, through the command
    the app runs (under its memory limit): Keras' accuracy, the card, and what the pages read."""
    result = import_command(saved("mlp-28x28", tmp_path, ".h5"), "notebook", store, "--json")
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout)["test_accuracy"] == pytest.approx(trained("mlp-28x28")[1], abs=0.003)
    run = find_run("notebook", store)
    imported = run.card.imported
    assert imported["description"] == "Flatten → Dense(128, relu) → Dense(10, softmax)"
    assert (imported["input_shape"], imported["pixel_scale"], imported["softmax_added"]) == ([28, 28], "0-1", False)
    assert imported["file_format"] == "h5" and run.card.parameters == 101_770 and run.card.detector
    classifier = load_classifier("notebook", store)
    prediction = classifier.predict(mnist()["x_test"][0])
    assert prediction.digit == mnist()["y_test"][0] and prediction.digit_score is not None
    assert classifier.feature_maps(prediction.network_input) == []  # no convolutions: the Draw page says so
    assert classifier.final_features(prediction.network_input).shape == (128,)  # its place on the map
    assert run.digit_map().xy.shape == (10_000, 2) and len(run.gallery().labels) == 10_000


def test_an_import_over_its_memory_limit_is_refused_by_its_rule(mnist_path, tmp_path, store):
    result = import_command(saved("mlp-28x28", tmp_path), "too-big", store, "--memory-limit", "900")
    assert result.returncode == 2 and not (store / "too-big").exists()
    assert result.stderr.strip().splitlines()[-1] == ("error: mlp-28x28.keras: importing it takes more than the 900 MB "
                                                      "an import may use (rule: an import's memory)")


@pytest.mark.parametrize("name", ["flat-784-logits", "convnet-rescaling-0-255"])
def test_a_copy_of_an_adapted_network_is_fine_tuned_and_exported(name, mnist_path, tmp_path):
    """A copy with the adapter in front (a reshape, a rescaling) and the softmax added learns a
    person's digits like any run's, and is served the same way."""
    from mnist_core.training.finetune import finetune

    network, architecture, _ = load_network(saved(name, tmp_path), name)
    adapted = adapted_network(network, find_reading(network, architecture.input_shape, mnist()["x_train"],
                                                    mnist()["y_train"], name))
    x_test, y_test = mnist()["x_test"], mnist()["y_test"]
    mine_x, mine_y = x_test[:40], y_test[:40]  # a "person's" digits
    result = finetune(adapted, mine_x, mine_y, mnist()["x_train"], mnist()["y_train"], steps=20)
    before, after = (float((keras_reader(network).pixel_probabilities(x_test[1000:3000]).argmax(1)
                            == y_test[1000:3000]).mean()) for network in (adapted, result.model))
    assert abs(after - before) < 0.02  # MNIST read as before: a few steps on a person's digits
    export_onnx(result.model, tmp_path / "copy.onnx")
