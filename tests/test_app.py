"""Each page through Streamlit's AppTest: renders, predicts, refuses, trains, explores."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from bench.hostile_clients import png_data_url
from mnist_core import jobs
from mnist_core.evaluate import evaluate_probabilities, suspicious_labels
from mnist_core.gallery import read_gallery
from mnist_core.store import BUNDLED_DIR
from tests.conftest import app_test as app, draw_digit

BUNDLED_GALLERY = read_gallery(BUNDLED_DIR / "default")  # the figures the pages must show for the bundled model
BUNDLED = evaluate_probabilities(BUNDLED_GALLERY.labels, BUNDLED_GALLERY.probabilities)


def canvas_value(picture) -> dict:
    """The canvas's value after one stroke; its image is `picture` (an array, or the PNG sent)."""
    if not isinstance(picture, bytes):
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, "PNG")
        picture = buffer.getvalue()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": png_data_url(picture)}}


def texts(at) -> str:
    return "\n".join([m.value for m in at.markdown] + [m.value for m in at.info] + [m.value for m in at.warning]
                     + [m.value for m in at.error] + [m.value for m in at.caption] + [m.value for m in at.success])


@pytest.mark.parametrize("page", [None, "draw", "train", "explore", "models"])
def test_every_page_renders(page, mnist_path, store):
    at = app(page)
    assert at.session_state["active_model"] == "default"
    assert at.title[0].value
    if page is None:  # (AppTest keeps the entry point's sidebar only before a page switch)
        assert at.sidebar.selectbox[0].label == "Active model"
        assert at.sidebar.selectbox[0].options == [f"default · {BUNDLED.accuracy:.2%}"]


def test_draw_shows_hint_on_blank_canvas(store):
    at = app("draw")
    assert "Draw a digit in the black box" in texts(at)
    at.session_state["canvas-0"] = canvas_value(np.zeros((280, 280, 4), np.uint8))
    at.run()
    assert "Draw a digit in the black box" in texts(at) and not at.exception


def test_draw_predicts_injected_canvas(store):
    at = app("draw")
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = np.asarray(draw_digit())
    rgba[..., :3] = 255
    at.session_state["canvas-0"] = canvas_value(rgba)
    at.run()
    assert not at.exception
    card = at.get("html")[0].proto.body
    assert "data-testid='predicted-digit'>7<" in card and "from the drawing (1 stroke)" in card
    confidence = float(re.search(r"data-testid='confidence'>([\d.]+)%<", card).group(1))
    assert 90 < confidence <= 100


def test_draw_single_dot_gets_a_message(store):
    at = app("draw")
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[140:146, 140:146] = 255
    at.session_state["canvas-0"] = canvas_value(rgba)
    at.run()
    assert "only a dot" in texts(at) and not at.exception


@pytest.mark.parametrize("field, value, message", [
    ("Epochs", 0, "epochs must be between 1 and 500, got 0"),
    ("Batch size", -5, "batch size must be between 1 and 8192, got -5"),
    ("Learning rate", 0.0, "learning rate must be in (0.0, 10.0], got 0.0"),
    ("Dropout", 1.5, "dropout must be in [0.0, 0.9], got 1.5"),
    ("Label smoothing", 0.75, "label smoothing must be in [0.0, 0.5], got 0.75"),
    ("Epochs", 10**9, "epochs must be between 1 and 500, got 1000000000"),
    ("Batch size", 10**7, "batch size must be between 1 and 8192, got 10000000"),
    ("Validation images", -1, "validation size must be between 100 and 30000, got -1"),
])
def test_train_form_refuses_bad_values(field, value, message, store):
    at = app("train")
    next(n for n in at.number_input if n.label == field).set_value(value)
    at.button[0].click().run()
    assert f"Not started: {message}" in texts(at)
    assert jobs.current_job() is None or jobs.current_job().name != at.text_input[0].value


@pytest.mark.parametrize("name, message", [("../evil", "may not contain"), ("a/b", "may not contain"),
                                           ("nul\x00byte", "may not contain"), ("default", "already exists")])
def test_train_form_refuses_bad_names(name, message, store):
    at = app("train")
    at.text_input[0].set_value(name)
    at.button[0].click().run()
    assert message in texts(at)


def test_one_epoch_training_completes_and_is_stored(mnist_path, store):
    at = app("train")
    at.selectbox[0].set_value("quick").run()
    values = {"Epochs": 1, "Training images (0 = all)": 2000, "Validation images": 500}
    for field, value in values.items():
        next(n for n in at.number_input if n.label == field).set_value(value)
    at.text_input[0].set_value("apptest-run")
    at.button[0].click().run()
    job = jobs.current_job()
    assert job.name == "apptest-run"
    job.thread.join(300)
    assert job.status == jobs.SAVED, job.error
    at.run()
    assert "Saved **apptest-run** (finished)" in texts(at)
    assert (store / "apptest-run" / "model.onnx").is_file()
    models = app("models")
    assert "apptest-run" in models.dataframe[0].value["name"].tolist()


def test_explore_shows_matrix_and_gallery(mnist_path, store):
    at = app("explore")
    assert "Most frequent confusions" in texts(at)
    assert "read as" in texts(at)
    at.selectbox(key="cell_true").set_value(4)
    at.selectbox(key="cell_pred").set_value(4).run()
    assert "test images** of a **4** correctly read **4**" in texts(at)
    assert len(at.tabs[0].get("image")) == 24  # one full page of the gallery


def test_broken_runs_are_shown_not_offered(store):
    for name, card in (("malformed", "{oops"), ("no-model", "{}")):
        (store / name).mkdir(parents=True)
        (store / name / "card.json").write_text(card)
    (store / "malformed" / "model.onnx").write_bytes(b"\x00" * 100)
    at = app("models")
    table = at.dataframe[0].value.set_index("name")
    assert table.loc["malformed", "status"].startswith("card.json is unreadable")
    assert table.loc["no-model", "status"] == "model.onnx is missing"
    assert at.session_state["active_model"] == "default"
    home = app()
    assert home.sidebar.selectbox[0].options == [f"default · {BUNDLED.accuracy:.2%}"]


def test_explore_needs_no_dataset(tmp_path, monkeypatch, store):
    """No MNIST on the machine and no network: the matrix, the mistakes and the first page of each
    diagonal cell come from what the run stores."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("MNIST_URL", "http://127.0.0.1:9/mnist.npz")  # nothing listens: a download would fail
    at = app("explore")
    assert f"{BUNDLED.errors} mistakes in 10,000 test images" in texts(at)
    (true, predicted, count), = BUNDLED.top_confusions(1)
    at.selectbox(key="cell_true").set_value(true)
    at.selectbox(key="cell_pred").set_value(predicted).run()
    assert f"**{count} test images** of a **{true}** read as **{predicted}**" in texts(at)
    assert len(at.tabs[0].get("image")) == count
    at.selectbox(key="cell_pred").set_value(true).run()
    assert "the rest are not stored with the run" in texts(at) and len(at.tabs[0].get("image")) == 24
    disputed = [image.proto.imgs[0].caption for image in at.tabs[1].get("image")]
    first = suspicious_labels(BUNDLED_GALLERY.labels, BUNDLED_GALLERY.probabilities)[0]
    assert len(disputed) == len(suspicious_labels(BUNDLED_GALLERY.labels, BUNDLED_GALLERY.probabilities))
    assert disputed[0] == (f"#{first['index']}: labelled {first['given']}, read as {first['predicted']} "
                           f"({first['confidence']:.0%})")
    assert not at.exception and not (tmp_path / "keras" / "datasets" / "mnist.npz").exists()
    home = app()
    assert "100 test digits ship with the app" in texts(home) and len(home.get("image")) == 16


def test_an_unusable_mnist_copy_is_explained(tmp_path, monkeypatch, store):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "gone.npz"))
    explore = app("explore")
    assert "MNIST_PATH: no such file" in texts(explore) and "gone.npz" not in texts(explore)
    assert f"{BUNDLED.errors} mistakes" in texts(explore) and not explore.exception


