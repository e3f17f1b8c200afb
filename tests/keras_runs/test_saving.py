"""A network becomes a run: saved atomically, never lost when a save fails, loaded back safely."""

import json
import os
import time

import numpy as np
import pytest

from mnist_core import load_classifier
from mnist_core.reading.preprocess import thicken, thin
from mnist_core.reading.reader import SURE
from mnist_core.runs.store import StoreError, find_run, list_runs, remove_stale_temporaries
from mnist_core.keras_runs.importing import load_keras_model
from mnist_core.training.keras_reader import keras_reader
from tests.support.training import save_tiny, tiny_training


@pytest.fixture(scope="module")
def tiny():
    return tiny_training()


def test_a_run_whose_card_says_so_is_read_at_three_widths(tiny, store):
    data, result, probabilities, accuracy = tiny
    images = data.x_test[:5] / 255.0
    plain = result.model.predict(images[..., None], verbose=0)
    assert save_tiny("plain").card.three_widths is False
    assert np.allclose(load_classifier("plain").probabilities(images), plain, atol=1e-5)
    saved = save_tiny("widths", three_widths=True)
    assert saved.card.three_widths and find_run("widths").card.three_widths
    views = [result.model.predict(x[..., None], verbose=0) for x in (images, thicken(images), thin(images))]
    unsure = plain.max(axis=1) < SURE
    assert unsure.any()  # the tiny network is unsure of some: they are read at three widths
    served = load_classifier("widths").probabilities(images)
    assert np.allclose(served, np.where(unsure[:, None], np.mean(views, axis=0), plain), atol=1e-5)
    assert not np.allclose(served, plain, atol=1e-3)
    assert np.allclose(keras_reader(result.model, three_widths=True).pixel_probabilities(data.x_test[:5]), served,
                       atol=1e-5)


def test_interrupted_save_leaves_store_as_it_was(tiny, store, monkeypatch):
    save_tiny("kept")
    before = sorted(os.listdir(store))

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(StoreError, match="No space left on device.*earlier runs are untouched"):
        save_tiny("lost")
    assert sorted(os.listdir(store)) == before  # no temporary folder, no half run
    assert [r.name for r in list_runs() if not r.bundled] == ["kept"]


def test_read_only_store(tiny, tmp_path, monkeypatch):
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o500)
    monkeypatch.setenv("MNIST_STORE_DIR", str(read_only))
    if os.access(read_only, os.W_OK):  # root ignores permissions: make the folder a file instead
        read_only.chmod(0o700)
        read_only.rmdir()
        read_only.write_text("not a folder")
    with pytest.raises(StoreError, match="cannot write to the model store"):
        save_tiny("nope")


@pytest.mark.parametrize("content", [b"", b"\x00garbage" * 100, None])
def test_corrupt_model_files(tiny, store, content):
    saved = save_tiny("corrupt")
    for file in ("model.onnx", "model.keras"):
        path = saved.path / file
        path.write_bytes(path.read_bytes()[:2000] if content is None else content)
    with pytest.raises(StoreError, match="not a usable ONNX model"):
        load_classifier("corrupt")
    with pytest.raises(StoreError, match="not a loadable Keras model"):
        load_keras_model(find_run("corrupt"))


def _save_foreign(model, store, name):
    import keras

    model(np.zeros((1,) + tuple(model.inputs[0].shape[1:]), np.float32))
    folder = store / name
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    model.export(str(folder / "model.onnx"), format="onnx", verbose=False)
    (folder / "card.json").write_text(json.dumps({"name": name}))
    return keras


@pytest.mark.parametrize("shape, outputs, message", [((32, 32, 1), 10, "not a 28x28 image"),
                                                     ((28, 28, 1), 5, "not 10 digit probabilities")])
def test_foreign_architecture_is_refused(store, shape, outputs, message):
    import keras

    model = keras.Sequential([keras.Input(shape), keras.layers.Flatten(), keras.layers.Dense(outputs)])
    _save_foreign(model, store, "foreign")
    with pytest.raises(StoreError, match=message):
        load_classifier("foreign")
    with pytest.raises(StoreError, match=message):
        load_keras_model(find_run("foreign"))


def test_lambda_layer_is_refused_in_safe_mode(store):
    import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10)(keras.layers.Flatten()(keras.layers.Lambda(lambda x: x * 2)(inputs)))
    folder = store / "lambda"
    folder.mkdir(parents=True)
    keras.Model(inputs, outputs).save(folder / "model.keras")
    (folder / "card.json").write_text("{}")
    (folder / "model.onnx").write_bytes(b"")
    with pytest.raises(StoreError, match="not a loadable Keras model.*(unsafe|safe_mode|Lambda)"):
        load_keras_model(find_run("lambda"))


def test_a_failed_export_keeps_the_trained_network(tiny, store, monkeypatch):
    data, result, _, _ = tiny

    def broken_export(*args, **kwargs):
        raise RuntimeError("tf2onnx cannot convert this op")

    monkeypatch.setattr("mnist_core.keras_runs.saving.export_onnx", broken_export)
    with pytest.raises(StoreError) as raised:
        save_tiny("unexported")
    (kept,) = [p for p in store.iterdir() if p.name.startswith(".unsaved-unexported-")]
    assert str(raised.value) == ("could not save 'unexported' (exporting it to ONNX failed: RuntimeError: tf2onnx "
                                 f"cannot convert this op); the trained network is kept in the model store as "
                                 f"{kept.name}/model.keras")
    assert raised.value.kept == kept and [r.name for r in list_runs() if not r.bundled] == []
    import keras

    recovered = keras.saving.load_model(kept / "model.keras", compile=False)
    assert np.allclose(recovered.predict(data.x_test[:5, ..., None] / 255.0, verbose=0),
                       result.model.predict(data.x_test[:5, ..., None] / 255.0, verbose=0), atol=1e-6)
    old = time.time() - 7200
    os.utime(kept, (old, old))
    assert remove_stale_temporaries(store) == [] and kept.is_dir()  # never swept: a person recovers it


def test_a_run_records_who_made_it_and_whether_it_is_temporary(tiny, store):
    card = save_tiny("mine", owner="ab" * 16, temporary=True).card
    assert (card.owner, card.temporary) == ("ab" * 16, True)
    card = save_tiny("cli").card
    assert (card.owner, card.temporary) == (None, False)  # the command line's: no owner, not temporary
