"""The bundled default model: present, small, honest about its accuracy, and fast to load."""

import shlex

import numpy as np
import pytest

from mnist_core import evaluate_probabilities, find_run, load_classifier, load_test_set
from mnist_core.cli import parser
from mnist_core.cli.training import config_from_args
from mnist_core.config import TrainConfig
from mnist_core.reading.preprocess import NothingDrawnError, thicken, to_model_input
from mnist_core.runs.store import BUNDLED_DIR
from tests.support.data import draw_digit


def test_files_and_card():
    run = find_run()
    assert run.bundled and run.path == BUNDLED_DIR / "default" and run.problem is None
    size = sum(p.stat().st_size for p in run.path.iterdir())
    assert size < 20_000_000
    card = run.card
    assert card.command.startswith("python -m mnist_core train --preset ")
    args = parser().parse_args(shlex.split(card.command)[3:])  # the command retrains this very config
    assert config_from_args(args) == TrainConfig(**card.hyperparameters)
    assert card.test_accuracy >= 0.994
    assert card.three_widths is card.hyperparameters["augment"] is True  # trained with stroke widths
    assert card.ended in ("finished", "early-stopped")
    assert len(card.history["val_accuracy"]) == card.epochs_done


@pytest.mark.mnist
def test_test_accuracy_equals_card(mnist_path):
    clf = load_classifier()
    x_test, y_test = load_test_set(mnist_path)
    probabilities = clf.probabilities(x_test / 255.0)
    result = evaluate_probabilities(y_test, probabilities)
    assert result.accuracy == pytest.approx(clf.card.test_accuracy, abs=1e-4)
    assert np.allclose(probabilities, clf.run.gallery().probabilities, atol=1e-4)


def test_predicts_a_drawing_and_refuses_a_blank():
    clf = load_classifier()
    prediction = clf.predict(np.asarray(draw_digit()))
    assert prediction.digit == 7 and prediction.confidence > 0.9
    assert prediction.probabilities.shape == (10,) and prediction.model_input.shape == (28, 28)
    assert prediction.probabilities.sum() == pytest.approx(1, abs=1e-5)
    with pytest.raises(NothingDrawnError):
        clf.predict(np.zeros((280, 280, 4), np.uint8))


def test_a_drawing_is_read_thickened_and_shown_as_drawn():
    clf = load_classifier()
    image = np.asarray(draw_digit(width=6))
    prediction = clf.predict(image)
    np.testing.assert_array_equal(prediction.model_input, to_model_input(image))
    np.testing.assert_array_equal(prediction.network_input, thicken(to_model_input(image)))
    np.testing.assert_allclose(prediction.probabilities, clf.probabilities(thicken(to_model_input(image)))[0], atol=1e-6)
    as_drawn = clf.probabilities(to_model_input(image))[0]  # compared as log-odds: a sure answer moves little in probability
    assert np.abs(np.log(prediction.probabilities) - np.log(as_drawn)).max() > 0.1


def test_import_does_not_load_tensorflow():
    import subprocess
    import sys

    code = ("import sys, numpy as np; from mnist_core import load_classifier; "
            "c = load_classifier(); c.predict(np.eye(28)); print('tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def w_strokes() -> np.ndarray:
    """A W drawn with a round pen on a 280x280 canvas, white on black."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(img).line([(40, 50), (135, 221), (179, 113), (221, 221), (262, 59)], fill=255, width=18,
                             joint="curve")
    return np.asarray(img)


def test_it_says_when_a_drawing_is_no_digit_and_keeps_the_digits():
    clf = load_classifier()
    assert clf.detector is not None and clf.detector.threshold == pytest.approx(clf.card.detector["threshold"], abs=1e-4)
    seven = clf.predict(np.asarray(draw_digit()))
    letter = clf.predict(w_strokes())
    assert seven.is_digit and seven.digit == 7 and seven.digit_score >= clf.detector.threshold
    assert not letter.is_digit and letter.digit_score < clf.detector.threshold
    assert letter.probabilities.shape == (10,)  # the closest digit is still there to show


@pytest.mark.mnist
def test_its_detector_keeps_mnist_test_digits(mnist_path):
    clf = load_classifier()
    x_test, _ = load_test_set(mnist_path)
    scores = np.concatenate([clf.digit_scores(x_test[i:i + 1000] / 255.0) for i in range(0, len(x_test), 1000)])
    assert (scores >= clf.detector.threshold).mean() >= 0.995  # the goal; 99.70% when it was bundled
