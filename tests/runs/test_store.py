import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from mnist_core import load_classifier
from mnist_core.config import ConfigError, make_config
from mnist_core.data import split_validation
from mnist_core.evaluate import evaluate_probabilities, model_probabilities
from mnist_core.runs.gallery import build_gallery
from mnist_core.reading.preprocess import SURE, thicken, thin
from mnist_core.training.checkpoint import abandoned_checkpoints, claim_checkpoint
from mnist_core.runs.store import (StoreError, check_new_name, delete_run, find_run, list_runs, load_keras_file,
                              load_keras_model, remove_stale_temporaries)
from mnist_core.runs.store import save_run as store_save_run
from mnist_core.training.train import train
from tests.support.data import ROOT, tiny_arrays


@pytest.fixture(scope="module")
def tiny():
    data = split_validation(tiny_arrays(), validation_size=100, seed=0)
    result = train(make_config("quick", epochs=1, batch_size=50), data)
    probabilities = model_probabilities(result.model, data.x_test)
    return data, result, probabilities, evaluate_probabilities(data.y_test, probabilities).accuracy


def save_run(tiny, name, **kwargs):
    """Save the tiny training with its test figures, as the train command does."""
    data, result, probabilities, accuracy = tiny
    return store_save_run(result, name, build_gallery(data.x_test, data.y_test, probabilities), accuracy, **kwargs)


def test_save_list_find_delete(tiny, store):
    data, result, probabilities, accuracy = tiny
    saved = save_run(tiny, "first", command="python -m mnist_core train x")
    assert sorted(p.name for p in saved.path.iterdir()) == ["card.json", "gallery.npz", "model.keras",
                                                            "model.onnx"]
    card = json.loads((saved.path / "card.json").read_text())
    assert card["preset"] == "quick" and card["hyperparameters"]["batch_size"] == 50
    assert card["ended"] == "finished" and card["epochs_done"] == 1 and card["command"].startswith("python -m")
    assert set(card["versions"]) == {"python", "tensorflow", "keras", "numpy"}
    # the store keeps the figures it is given; the caller computed them from the test set
    assert np.array_equal(saved.gallery().probabilities, probabilities) and probabilities.shape == (200, 10)
    assert card["test_accuracy"] == accuracy == float((probabilities.argmax(1) == data.y_test).mean())
    names = [r.name for r in list_runs(store)]
    assert "first" in names and names.index("default") < names.index("first")
    assert find_run("first").path == store / "first"
    clf = load_classifier("first")
    keras_out = result.model.predict(data.x_test[:5, ..., None] / 255.0, verbose=0)
    assert np.allclose(clf.probabilities(data.x_test[:5] / 255.0), keras_out, atol=1e-5)
    with pytest.raises(StoreError, match="could not save 'first': a model called 'first' already exists") as taken:
        save_run(tiny, "first")  # a name taken while it trained: the network is kept, not lost
    kept = taken.value.kept
    assert kept.name.startswith(".unsaved-first-") and f"kept in the model store as {kept.name}/model.keras" in str(
        taken.value)
    assert [r.name for r in list_runs() if not r.bundled] == ["first"]  # never listed, never swept
    np.testing.assert_allclose(load_keras_file(kept / "model.keras").predict(data.x_test[:5, ..., None] / 255.0,
                                                                             verbose=0), keras_out, atol=1e-6)
    delete_run("first")
    assert not (store / "first").exists() and "first" not in [r.name for r in list_runs()]


def test_a_run_whose_card_says_so_is_read_at_three_widths(tiny, store):
    data, result, probabilities, accuracy = tiny
    images = data.x_test[:5] / 255.0
    plain = result.model.predict(images[..., None], verbose=0)
    assert save_run(tiny, "plain").card["three_widths"] is False
    assert np.allclose(load_classifier("plain").probabilities(images), plain, atol=1e-5)
    saved = save_run(tiny, "widths", three_widths=True)
    assert saved.card["three_widths"] is True and find_run("widths").three_widths
    views = [result.model.predict(x[..., None], verbose=0) for x in (images, thicken(images), thin(images))]
    unsure = plain.max(axis=1) < SURE
    assert unsure.any()  # the tiny network is unsure of some: they are read at three widths
    served = load_classifier("widths").probabilities(images)
    assert np.allclose(served, np.where(unsure[:, None], np.mean(views, axis=0), plain), atol=1e-5)
    assert not np.allclose(served, plain, atol=1e-3)
    assert np.allclose(model_probabilities(result.model, data.x_test[:5], three_widths=True), served, atol=1e-5)


def test_interrupted_save_leaves_store_as_it_was(tiny, store, monkeypatch):
    save_run(tiny, "kept")
    before = sorted(os.listdir(store))

    def crash(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "rename", crash)
    with pytest.raises(StoreError, match="No space left on device.*earlier runs are untouched"):
        save_run(tiny, "lost")
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
        save_run(tiny, "nope")


def test_bundled_cannot_be_deleted_or_shadowed(tiny, store):
    with pytest.raises(StoreError, match="bundled model and cannot be deleted"):
        delete_run("default")
    with pytest.raises(StoreError, match="a model called 'default' already exists.*network is kept"):
        save_run(tiny, "default")


def test_broken_runs_are_listed_with_the_problem_and_refused(tiny, store):
    saved = save_run(tiny, "good")
    for name, damage in [("nocard", lambda p: (p / "card.json").unlink()),
                         ("badcard", lambda p: (p / "card.json").write_text("{not json")),
                         ("noonnx", lambda p: (p / "model.onnx").unlink())]:
        import shutil
        shutil.copytree(saved.path, store / name)
        damage(store / name)
    problems = {r.name: r.problem for r in list_runs()}
    assert problems["good"] is None
    assert problems["nocard"] == "card.json is missing"
    assert problems["badcard"].startswith("card.json is unreadable")
    assert problems["noonnx"] == "model.onnx is missing"
    with pytest.raises(StoreError, match="cannot be used: card.json is missing"):
        load_classifier("nocard")


@pytest.mark.parametrize("content", [b"", b"\x00garbage" * 100, None])
def test_corrupt_model_files(tiny, store, content):
    saved = save_run(tiny, "corrupt")
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


def test_stale_temporaries_are_removed_and_nothing_else(store):
    names = [".tmp-old-1", ".deleted-old-2", ".tmp-fresh-3", "a-run", ".unrelated"]
    for name in names:
        (store / name).mkdir(parents=True)
    hour_ago = time.time() - 3601
    for name in (".tmp-old-1", ".deleted-old-2", "a-run", ".unrelated"):
        os.utime(store / name, (hour_ago, hour_ago))
    assert sorted(p.name for p in remove_stale_temporaries(store)) == [".deleted-old-2", ".tmp-old-1"]
    assert sorted(os.listdir(store)) == [".tmp-fresh-3", ".unrelated", "a-run"]  # a save may still be writing


def test_unknown_name():
    with pytest.raises(StoreError, match="no saved model called 'ghost'"):
        find_run("ghost")


def test_a_failed_export_keeps_the_trained_network(tiny, store, monkeypatch):
    data, result, _, _ = tiny

    def broken_export(*args, **kwargs):
        raise RuntimeError("tf2onnx cannot convert this op")

    monkeypatch.setattr("mnist_core.runs.store.export_onnx", broken_export)
    with pytest.raises(StoreError) as raised:
        save_run(tiny, "unexported")
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


def test_a_checkpoint_claims_its_name_until_its_process_is_gone(store):
    held = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from pathlib import Path
from mnist_core.training.checkpoint import claim_checkpoint
checkpoint = claim_checkpoint("held", Path({str(store)!r}))  # held while it lives
print("claimed", flush=True)
time.sleep(600)
"""], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert held.stdout.readline() == "claimed\n"
    with pytest.raises(ConfigError, match="a training called 'held' is running or awaits saving"):
        check_new_name("held", store)
    with pytest.raises(ConfigError, match="a training called 'held' is running or awaits saving"):
        claim_checkpoint("held", store)
    check_new_name("held", store, saving=True)  # its own training may save under it
    mine = claim_checkpoint("mine", store)
    assert abandoned_checkpoints(store) == []  # both trainings are alive
    held.kill()
    held.wait()
    (abandoned,) = abandoned_checkpoints(store)
    assert abandoned.name == "held" and abandoned_checkpoints(store) == []  # now locked by this caller
    abandoned.remove()
    mine.remove()
    assert sorted(os.listdir(store)) == []


def test_a_run_records_who_made_it_and_whether_it_is_temporary(tiny, store):
    card = save_run(tiny, "mine", owner="ab" * 16, temporary=True).card
    assert (card["owner"], card["temporary"]) == ("ab" * 16, True)
    card = save_run(tiny, "cli").card
    assert (card["owner"], card["temporary"]) == (None, False)  # the command line's: no owner, not temporary
