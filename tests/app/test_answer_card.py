"""The Draw page's answer card (ui/charts.answer_card) for a digit and for a drawing that is none."""

import numpy as np

from mnist_core.reading.predict import Prediction
from ui import charts


def prediction(probabilities, is_digit: bool) -> Prediction:
    probabilities = np.asarray(probabilities, np.float32)
    image = np.zeros((28, 28), np.float32)
    return Prediction(int(probabilities.argmax()), probabilities, image, image, is_digit, 0.0 if is_digit else -9.0)


def test_a_digit_is_the_big_answer():
    card = charts.answer_card(prediction([0.01] * 7 + [0.91] + [0.01] * 2, True), "Model m")
    assert "data-testid='predicted-digit'>7</div>" in card and "data-testid='confidence'>91.0%<" in card
    assert "not-a-digit" not in card


def test_no_digit_is_said_first_on_its_own_line_and_the_closest_digit_stays_small():
    card = charts.answer_card(prediction([0.02] * 3 + [0.82] + [0.02] * 6, False), "Model m")
    heading, rest = card.split("display:flex", 1)
    assert "data-testid='not-a-digit'>That doesn't look like a digit</div>" in heading
    assert "Closest digit:" in rest and "data-testid='predicted-digit'>3</div>" in rest and ">82.0%<" in rest
    assert "no digit much closer" not in card


def test_a_flat_answer_says_no_digit_is_much_closer():
    card = charts.answer_card(prediction([0.101] + [0.0999] * 9, False), "Model m")
    assert "data-testid='predicted-digit'>0</div>" in card and "no digit much closer than another" in card
