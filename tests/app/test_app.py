"""Each page through Streamlit's AppTest: renders, predicts, refuses, trains, explores."""

import re
from dataclasses import replace

import numpy as np
import pytest

from mnist_core import jobs, personal
from mnist_core.card import RunCard
from mnist_core.evaluate import suspicious_labels
from mnist_core.runs.store import BUNDLED_DIR
from ui.model_card import hyperparameter_line, training_time
from tests.support.data import draw_digit
from tests.support.apptest import (BUNDLED, BUNDLED_GALLERY, answer_card, app_test as app, as_local_user, canvas_value,
                                   image_captions, page_text)

def drawn_seven() -> np.ndarray:
    """The canvas's RGBA pixels with a 7 drawn in white."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = np.asarray(draw_digit())
    rgba[..., :3] = 255
    return rgba


@pytest.fixture
def no_dataset(tmp_path, monkeypatch):
    """No MNIST on the machine and no network: a download would fail, and leave no file."""
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("MNIST_URL", "http://127.0.0.1:9/mnist.npz")  # nothing listens there
    yield
    assert not (tmp_path / "keras" / "datasets" / "mnist.npz").exists()


# What each page shows from the bundled model and its stored figures alone.
PAGE_SHOWS = {
    None: "100 test digits ship with the app",
    "draw": "Draw a digit in the black box: the prediction appears as you draw.",
    "train": "This server is shared, so a training here may use about 5 CPU-minutes",
    "explore": f"Model **default**: {BUNDLED.accuracy:.2%} test accuracy, {BUNDLED.errors} mistakes in 10,000 "
               "test images.",
    "models": "Select a row to make it active, download it or delete it.",
}


@pytest.mark.parametrize("page", list(PAGE_SHOWS))
def test_every_page_renders_without_the_dataset(page, store, no_dataset):
    at = app(page)
    assert PAGE_SHOWS[page] in page_text(at)
    assert at.session_state["active_model"] == "default"
    assert at.sidebar.selectbox[0].label == "Active model"
    assert at.sidebar.selectbox[0].options == [f"default · {BUNDLED.accuracy:.2%}"]
    buttons = {None: ["New sample"], "draw": ["Clear", "Undo the last", "Forget them", "Fine-tune default on my digits"],
               "train": ["Start training"], "explore": [],
               "models": ["Import"]}
    assert [button.label for button in at.main.button] == buttons[page]


def test_draw_shows_hint_on_blank_canvas(store):
    at = app("draw")
    assert "Draw a digit in the black box" in page_text(at)
    at.session_state["canvas-0"] = canvas_value(np.zeros((280, 280, 4), np.uint8))
    at.run()
    assert "Draw a digit in the black box" in page_text(at) and not at.exception


def test_draw_predicts_injected_canvas(store):
    at = app("draw")
    at.session_state["canvas-0"] = canvas_value(drawn_seven())
    at.run()
    assert not at.exception
    card = answer_card(at)
    assert "data-testid='predicted-digit'>7<" in card and "from the drawing (1 stroke)" in card
    confidence = float(re.search(r"data-testid='confidence'>([\d.]+)%<", card).group(1))
    assert 90 < confidence <= 100


def test_draw_reads_a_number_on_the_wide_canvas(store):
    at = app("draw")
    at.segmented_control[0].set_value("A number").run()
    assert "Write a number in the black box" in page_text(at) and not at.exception
    wide = np.zeros((280, 840, 4), np.uint8)
    wide[:, 40:320] = drawn_seven()
    wide[:, 420:700] = drawn_seven()
    at.session_state["number-0"] = canvas_value(wide)
    at.run()
    card = next(h.proto.body for h in at.get("html") if "data-testid='number'" in h.proto.body)
    digits = re.search(r"data-testid='number'[^>]*>(.*?)</div>", card).group(1)
    assert re.sub(r"<[^>]+>", "", digits) == "77" and card.count("data-testid='number-box'") == 2
    assert "from the drawing (1 stroke)" in card and not at.exception
    at.session_state["number-0"] = canvas_value(drawn_seven())  # a square PNG where the wide canvas's belongs
    at.run()
    assert "the canvas sent a 280x280 image, not its 840x280 drawing" in page_text(at) and not at.exception


def test_draw_single_dot_gets_a_message(store):
    at = app("draw")
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[140:146, 140:146] = 255
    at.session_state["canvas-0"] = canvas_value(rgba)
    at.run()
    assert "only a dot" in page_text(at) and not at.exception


def test_train_form_refuses_a_bad_value_and_a_bad_name(store):
    """The form shows config's refusals (test_config checks every range and name) and starts nothing."""
    at = app("train")
    next(n for n in at.number_input if n.label == "Epochs").set_value(10**9)
    at.button[0].click().run()
    assert "Not started: epochs must be between 1 and 500, got 1000000000" in page_text(at)
    next(n for n in at.number_input if n.label == "Epochs").set_value(1)
    next(n for n in at.number_input if n.label == "Handwriting-style images").set_value(40000)
    at.button[0].click().run()
    assert "Not started: style images must be between 0 and 30000, got 40000" in page_text(at)
    next(n for n in at.number_input if n.label == "Handwriting-style images").set_value(0)
    for name, message in (("../evil", "run name '../evil' may not contain"),
                          ("default", "a model called 'default' already exists")):
        at.text_input[0].set_value(name)
        at.button[0].click().run()
        assert f"Not started: {message}" in page_text(at)
    assert jobs.current_job() is None and not store.exists()


@pytest.mark.mnist
def test_explore_pages_through_a_whole_cell_with_the_dataset(mnist_path, store):
    """With MNIST at hand every image of a cell is shown, not only those the run stores."""
    at = app("explore")
    at.selectbox(key="cell_true").set_value(4)
    at.selectbox(key="cell_pred").set_value(4).run()
    correct = BUNDLED.confusion[4, 4]
    assert f"**{correct:,} test images** of a **4** correctly read **4**" in page_text(at)
    assert len(image_captions(at.tabs[0])) == 24  # one full page of the gallery
    assert "not stored with the run" not in page_text(at)


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


def test_explore_needs_no_dataset(store, no_dataset):
    """The matrix, the mistakes and the first page of each diagonal cell come from what the run stores."""
    at = app("explore")
    assert f"{BUNDLED.errors} mistakes in 10,000 test images" in page_text(at)
    (true, predicted, count), = BUNDLED.top_confusions(1)
    at.selectbox(key="cell_true").set_value(true)
    at.selectbox(key="cell_pred").set_value(predicted).run()
    assert f"**{count} test images** of a **{true}** read as **{predicted}**" in page_text(at)
    assert len(image_captions(at.tabs[0])) == count
    at.selectbox(key="cell_pred").set_value(true).run()
    assert "the rest are not stored with the run" in page_text(at) and len(image_captions(at.tabs[0])) == 24
    disputed = image_captions(at.tabs[1])
    first = suspicious_labels(BUNDLED_GALLERY.labels, BUNDLED_GALLERY.probabilities)[0]
    assert len(disputed) == len(suspicious_labels(BUNDLED_GALLERY.labels, BUNDLED_GALLERY.probabilities))
    assert disputed[0] == (f"#{first['index']}: labelled {first['given']}, read as {first['predicted']} "
                           f"({first['confidence']:.0%})")
    assert not at.exception
    home = app()
    assert "100 test digits ship with the app" in page_text(home) and len(image_captions(home)) == 16


def test_an_unusable_mnist_copy_is_explained(tmp_path, monkeypatch, store):
    monkeypatch.setenv("MNIST_PATH", str(tmp_path / "gone.npz"))
    explore = app("explore")
    assert "MNIST_PATH: no such file" in page_text(explore) and "gone.npz" not in page_text(explore)
    assert f"{BUNDLED.errors} mistakes" in page_text(explore) and not explore.exception




def test_right_keeps_the_drawing_once_in_the_stores_personal_set(store, monkeypatch):
    as_local_user(monkeypatch)  # the README's start command: this machine's own person
    at = app("draw")
    at.session_state["canvas-0"] = canvas_value(drawn_seven())
    at.run()
    right = next(b for b in at.button if b.label == "Right, it's a 7")
    right.click().run()
    assert not at.exception and at.session_state["canvas_round"] == 1  # a clean canvas for the next digit
    kept = personal.load(store / "personal.npz")  # this machine's own: the store keeps them
    assert kept.y.tolist() == [7] and kept.counts()[7] == 1
    assert "1 digit (at most 500). They are kept in the model store on this machine." in page_text(at)
    assert not any(b.label.startswith("Right") for b in at.button)  # nothing drawn on the new canvas
    undo = next(b for b in at.button if b.label == "Undo the last")
    undo.click().run()
    assert len(personal.load(store / "personal.npz")) == 0


@pytest.mark.parametrize("seconds, shown", [(2772.57, "46 min 13 s"), (59.6, "1 min 00 s"), (52.4, "52 s"),
                                            (None, "—")])
def test_training_times_read_as_minutes_and_seconds(seconds, shown):
    assert training_time(seconds) == shown


def test_the_card_says_when_a_network_is_read_at_three_widths():
    card = RunCard("a-run", hyperparameters=dict(epochs=40, batch_size=128, optimizer="adam", learning_rate=0.003,
                                                 lr_schedule="one-cycle", dropout=0.4, augment=True))
    line = "40 epochs · batch 128 · adam lr 0.003 (one-cycle) · dropout 0.4 · augmentation on"
    assert hyperparameter_line(card) == line
    assert hyperparameter_line(replace(card, three_widths=True)) == (
        line + " · reads a digit it is unsure of at three stroke widths")


def test_explore_maps_a_run_with_a_map_and_says_when_a_run_has_none(store, no_dataset):
    import shutil

    from mnist_core.runs.digit_map import MAP_FILE, DigitMap, write_map

    for name in ("mapped", "unmapped"):
        shutil.copytree(BUNDLED_DIR / "default", store / name)
        (store / name / MAP_FILE).unlink(missing_ok=True)
    rng = np.random.default_rng(0)
    write_map(DigitMap(rng.random((10_000, 2), np.float32), rng.random((10_000, 30)).astype(np.float16),
                       rng.random(128, np.float32), rng.random((30, 128), np.float32)), store / "mapped")
    at = app("explore")
    at.session_state["active_model"] = "mapped"
    at.run()
    assert "Each test digit is a point, near the digits **mapped** sees alike" in page_text(at)
    figure = at.tabs[2].get("plotly_chart")[0].proto.spec
    assert figure.count('"name":"mistake"') == 1 and not at.exception
    at.session_state["active_model"] = "unmapped"
    at.run()
    assert "run 'unmapped' has no map of the test set (its training could not make one)" in page_text(at)

    draw = app("draw")
    draw.session_state["active_model"] = "mapped"
    draw.session_state["canvas-0"] = canvas_value(drawn_seven())
    draw.run()
    next(t for t in draw.toggle if t.label == "Where is it on the map").set_value(True).run()
    assert "Its nearest test digits (of those stored with the model):" in page_text(draw) and not draw.exception
    nearest = image_captions(draw)[-8:]
    assert len(nearest) == 8 and all(re.fullmatch(r"a \d", caption) for caption in nearest)
