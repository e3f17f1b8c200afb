"""`python -m mnist_core finetune` and its job: a copy of a run taught a person's digits, saved as a run."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from mnist_core import jobs, personal

from mnist_core.training import finetune
from mnist_core.cli import main
from mnist_core.runs.store import find_run
from mnist_core.keras_runs.importing import import_keras, load_keras_model
from mnist_core.training.keras_reader import keras_reader
from tests.support.data import ROOT, tiny_arrays
from tests.support.networks import keras_file


def parent_run(tmp_path, store, tiny_npz) -> str:
    path, _ = keras_file(tmp_path, "parent")
    import_keras(path, "parent", store, tiny_npz)
    return "parent"


def digits_file(tmp_path, count: int = 20) -> tuple:
    arrays = tiny_arrays()
    mine = personal.from_arrays(arrays["x_test"][:count], arrays["y_test"][:count])
    return personal.save(mine, tmp_path / "mine.npz"), mine


@pytest.mark.slow  # a child process with TensorFlow, and an ONNX export
def test_finetune_prints_its_figures_as_json_and_saves_a_personal_run(tmp_path, store, tiny_npz):
    parent = parent_run(tmp_path, store, tiny_npz)
    card_file = store / parent / "card.json"  # as if trained with random stroke widths: read at three
    card_file.write_text(json.dumps({**json.loads(card_file.read_text()), "three_widths": True}))
    path, mine = digits_file(tmp_path)
    result = subprocess.run([sys.executable, "-m", "mnist_core", "finetune", "--model", parent, "--examples", str(path),
                             "--name", "mine", "--json", "--data", str(tiny_npz), "--store", str(store),
                             "--owner", "d" * 32, "--temporary"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)

    taught, held_out = finetune.split(mine)
    parent_model = load_keras_model(find_run(parent, store))
    read = keras_reader(parent_model, three_widths=True).drawing_probabilities(held_out.x / 255)
    before = float((read.argmax(1) == held_out.y).mean())
    run = find_run("mine", store)
    card = run.card
    assert printed == dict(name="mine", parent="parent", ended="finished", seconds=printed["seconds"],
                           mnist_after=round(card.test_accuracy, 6), taught=len(taught), held_out=len(held_out),
                           counts=mine.counts(), personal_before=round(before, 6),
                           personal_after=printed["personal_after"],
                           mnist_before=round(find_run(parent, store).card.test_accuracy, 6))
    assert len(taught) + len(held_out) == 20 and 0 < printed["seconds"] < 300
    assert 0 <= printed["personal_after"] <= 1
    assert card.preset == "personal" and card.parent == "parent" and card.epochs_done == 1
    assert card.personal == {k: printed[k] for k in ("taught", "held_out", "counts", "personal_before",
                                                        "personal_after", "mnist_before")}
    assert card.command == "python -m mnist_core finetune --model parent --examples mine.npz --name mine"
    assert (card.owner, card.temporary) == ("d" * 32, True)
    assert card.three_widths is True  # the copy is read as its parent is
    child = keras_reader(load_keras_model(run), three_widths=True).pixel_probabilities(tiny_arrays()["x_test"])
    assert card.test_accuracy == float((child.argmax(1) == tiny_arrays()["y_test"]).mean())
    np.testing.assert_array_equal(run.gallery().labels, tiny_arrays()["y_test"])
    assert run.digit_map().xy.shape == (200, 2)  # one point per test digit on Explore's map


@pytest.mark.slow
def test_a_finetune_job_runs_in_its_own_process_and_saves_the_run(tmp_path, store, tiny_npz, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tiny_npz))
    parent = parent_run(tmp_path, store, tiny_npz)
    _, mine = digits_file(tmp_path, 12)
    (store / parent / "gallery.npz").unlink()  # a parent without a gallery: its test figures are recomputed
    job = jobs.submit_finetune(mine, parent, "taught", owner="e" * 32)
    assert job.what == jobs.FINETUNE and job.config is None
    job.thread.join(300)
    assert job.status == jobs.SAVED, job.error
    assert job.saved.card.parent == "parent" and job.saved.card.personal["counts"] == mine.counts()
    assert job.progress.fraction == 1.0 and job.progress.batches_per_epoch == finetune.STEPS
    assert sorted(p.name for p in store.iterdir()) == ["parent", "taught"]  # the upload's folder is gone


@pytest.mark.parametrize("arguments, message", [
    (["--model", "nope", "--examples", "{file}", "--name", "x"], "no saved model called 'nope'"),
    (["--examples", "{garbage}", "--name", "x"], "garbage.npz is not an .npz file"),
    (["--examples", "{file}", "--name", "default"], "a model called 'default' already exists"),
    (["--examples", "{file}", "--name", "bad name"], "run name"),
])
def test_finetune_refuses_bad_arguments_with_a_message(tmp_path, store, capsys, arguments, message):
    path, _ = digits_file(tmp_path)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    given = [a.format(file=path, garbage=garbage) for a in arguments]
    assert main(["finetune", *given]) == 2
    assert message in capsys.readouterr().err
    assert not store.exists() or not any(store.iterdir())
