import os
import subprocess
import sys
import time

import numpy as np
import pytest

from mnist_core import load_classifier
from mnist_core.config import ConfigError
from mnist_core.card import read_card
from mnist_core.training.checkpoint import abandoned_checkpoints, claim_checkpoint
from mnist_core.runs.store import StoreError, check_new_name, delete_run, find_run, list_runs, remove_stale_temporaries
from mnist_core.keras_runs.importing import load_keras_file
from tests.support.data import ROOT
from tests.support.training import save_tiny, tiny_training


@pytest.fixture(scope="module")
def tiny():
    return tiny_training()


def test_save_list_find_delete(tiny, store):
    data, result, probabilities, accuracy = tiny
    saved = save_tiny("first", command="python -m mnist_core train x")
    assert sorted(p.name for p in saved.path.iterdir()) == ["card.json", "gallery.npz", "model.keras",
                                                            "model.onnx"]
    card = read_card(saved.path)  # as written on disk
    assert card.preset == "quick" and card.hyperparameters["batch_size"] == 50
    assert card.ended == "finished" and card.epochs_done == 1 and card.command.startswith("python -m")
    assert set(card.versions) == {"python", "tensorflow", "keras", "numpy"}
    # the store keeps the figures it is given; the caller computed them from the test set
    assert np.array_equal(saved.gallery().probabilities, probabilities) and probabilities.shape == (200, 10)
    assert card.test_accuracy == accuracy == float((probabilities.argmax(1) == data.y_test).mean())
    names = [r.name for r in list_runs(store)]
    assert "first" in names and names.index("default") < names.index("first")
    assert find_run("first").path == store / "first"
    clf = load_classifier("first")
    keras_out = result.model.predict(data.x_test[:5, ..., None] / 255.0, verbose=0)
    assert np.allclose(clf.probabilities(data.x_test[:5] / 255.0), keras_out, atol=1e-5)
    with pytest.raises(StoreError, match="could not save 'first': a model called 'first' already exists") as taken:
        save_tiny("first")  # a name taken while it trained: the network is kept, not lost
    kept = taken.value.kept
    assert kept.name.startswith(".unsaved-first-") and f"kept in the model store as {kept.name}/model.keras" in str(
        taken.value)
    assert [r.name for r in list_runs() if not r.bundled] == ["first"]  # never listed, never swept
    np.testing.assert_allclose(load_keras_file(kept / "model.keras").predict(data.x_test[:5, ..., None] / 255.0,
                                                                             verbose=0), keras_out, atol=1e-6)
    delete_run("first")
    assert not (store / "first").exists() and "first" not in [r.name for r in list_runs()]


def test_bundled_cannot_be_deleted_or_shadowed(tiny, store):
    with pytest.raises(StoreError, match="bundled model and cannot be deleted"):
        delete_run("default")
    with pytest.raises(StoreError, match="a model called 'default' already exists.*network is kept"):
        save_tiny("default")


def test_broken_runs_are_listed_with_the_problem_and_refused(tiny, store):
    saved = save_tiny("good")
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


