"""Reading a whole number: hand-drawn numbers on the wide canvas, with the canvas's strokes and without."""

import time

import numpy as np
import pytest

from mnist_core import load_classifier
from mnist_core.reading.number import MAX_DIGITS, read_number, stroke_paths
from mnist_core.reading.preprocess import DrawingError, NothingDrawnError, ink_map
from mnist_core.reading.reader import SURE
from mnist_core.training.strokes import as_canvas_image, draw_strokes, ellipse

HEIGHT, WIDTH, PEN = 280, 840, 14


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


def zero(cx):
    return [ellipse(cx, 140, 50, 90, n=40)]


def one(x):
    return [[(x + 12, 50), (x, 230)]]


def open_four(x):  # the bent stroke and the upright, apart: two pieces that do not touch
    return [[(x + 40, 50), (x, 170), (x + 62, 170)], [(x + 85, 70), (x + 85, 235)]]


def seven(x):
    return [[(x, 55), (x + 100, 55), (x + 35, 230)]]


def picture(*digits, polarity="transparent"):
    return as_canvas_image(draw_strokes([s for d in digits for s in d], PEN, HEIGHT, WIDTH), polarity)


def canvas_objects(*digits):
    """The strokes as streamlit-drawable-canvas returns them: fabric.js paths of quadratic curves."""
    objects = []
    for stroke in (s for d in digits for s in d):
        path = [["M", *stroke[0]]] + [["Q", *a, *b] for a, b in zip(stroke[1:-1], stroke[2:])] + [["L", *stroke[-1]]]
        objects.append({"type": "Path", "path": path, "strokeWidth": PEN, "left": 0, "top": 0, "stroke": "#FFFFFF"})  # fabric 6
    return objects


def ink_box(*digits):
    ink = draw_strokes([s for d in digits for s in d], PEN, HEIGHT, WIDTH) > 255 * 0.1
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


CASES = {  # name: the digits' strokes, the number, the pieces read as digits (the rest is dropped)
    "a two-stroke 4 whose pieces do not touch, then a 7": ([open_four(100), seven(300)], "47", [0, 1]),
    "a 1 beside a 0 with little space": ([one(150), zero(250)], "10", [0, 1]),
    "a dot after a 1 and a 0": ([one(150), zero(260), [[(380, 220), (381, 221)]]], "10", [0, 1]),
    "a stray tick between a 7 and a 1": ([seven(100), [[(300, 200), (312, 185)]], one(400)], "71", [0, 2]),
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("with_strokes", [True, False])
def test_hand_drawn_numbers(clf, name, with_strokes):
    digits, number, kept = CASES[name]
    reading = read_number(clf, picture(*digits), canvas_objects(*digits) if with_strokes else None)
    assert reading.number == number
    assert [d.box for d in reading.digits] == [ink_box(digits[k]) for k in kept]
    for k, digit in zip(kept, reading.digits):  # each read as the one-digit canvas reads it alone
        alone = clf.predict(picture(digits[k]))
        np.testing.assert_array_equal(digit.prediction.model_input, alone.model_input)
        np.testing.assert_allclose(digit.prediction.probabilities, alone.probabilities, atol=1e-6)
        assert digit.prediction.is_digit and digit.unsure == (digit.prediction.confidence < SURE)


def test_a_touching_pair_is_cut_with_strokes_or_without(clf):
    digits = [zero(200), zero(200 + 100 + PEN - 4)]  # the two 0s' ink touches: one connected part
    image = picture(*digits, polarity="black-on-white")
    for strokes in (canvas_objects(*digits), None):
        reading = read_number(clf, image, strokes)
        assert reading.number == "00"
        assert all(d.prediction.confidence > 0.99 for d in reading.digits)
    left, right = (d.box for d in read_number(clf, image).digits)
    assert left[0] == ink_box(digits[0])[0] and right[2] == ink_box(digits[1])[2] and left[2] == right[0] == 255


def test_one_digit_and_a_blank(clf):
    image = picture(seven(300))
    reading = read_number(clf, image)
    assert reading.number == "7" and len(reading.digits) == 1
    assert np.array_equal(reading.ink, ink_map(image))  # the whole picture's, which the answer draws
    with pytest.raises(NothingDrawnError):
        read_number(clf, np.zeros((HEIGHT, WIDTH, 4), np.uint8))
    with pytest.raises(DrawingError, match="only a dot"):
        read_number(clf, picture([[(400, 140), (401, 141)]]))


def test_predict_many_reads_as_predict_and_a_first_look_finished_by_the_rule_too(clf):
    images = [picture(seven(300)), picture(one(150), polarity="white-on-black"), picture(open_four(100)[:1])]
    many = clf.predict_many(images)
    once = clf.read_inputs(np.stack([m.model_input for m in many]), rule=False)
    assert clf.card.three_widths and [m.confidence < SURE for m in many] == [False, False, True]  # the rule matters
    for many, once, finished, image in zip(many, once, clf.by_rule(once), images):
        one_by_one = clf.predict(image)
        np.testing.assert_array_equal(many.network_input, one_by_one.network_input)
        for reading in (many, finished):
            np.testing.assert_allclose(reading.probabilities, one_by_one.probabilities, atol=1e-6)
            assert (reading.digit, reading.is_digit) == (one_by_one.digit, one_by_one.is_digit)
        np.testing.assert_allclose(once.probabilities, clf.network_probabilities(once.network_input[None])[0], atol=1e-6)


def test_sure_digits_set_apart_cost_their_readings_alone(clf, monkeypatch):
    """A join is tried only beside a doubtful digit, or where boxes overlap: here the 1 and the 0
    are 5 px apart, each sure, so the two are read once each and nothing more."""
    read, counts = clf.read_inputs, []
    monkeypatch.setattr(clf, "read_inputs", lambda inputs, rule=True: counts.append(len(inputs)) or read(inputs, rule))
    for gap, expected in ((5, [2]), (-1, [2, 1])):  # -1: the boxes overlap by a pixel, and the join is read
        counts.clear()
        digits = [one(150), zero(150 + 12 + PEN + gap + 50)]
        reading = read_number(clf, picture(*digits), canvas_objects(*digits))
        assert reading.number == "10" and counts == expected


def test_canvas_paths_are_read_and_malformed_ones_skipped():
    objects = canvas_objects(seven(100)) + [
        {"type": "rect"}, "junk", {"type": "path", "path": "M 1 2"}, {"type": "path", "path": [["M", "x", None]]},
        {"type": "path", "path": [["M", 1.0, float("nan")], ["L", 3, 4], 7]},
        {"type": "path", "path": [["M", 10**20, float("inf")], ["L", -1e300, 2]]}]  # JSON's 1e20 is an int to Python
    paths = stroke_paths(objects)
    assert len(paths) == 2 and paths[0][1] == PEN and paths[1][1] == 0.0
    np.testing.assert_array_equal(paths[0][0], [[100, 55], [200, 55], [135, 230], [135, 230]])
    np.testing.assert_array_equal(paths[1][0], [[1.0, 3.0]])  # the NaN dropped: its pairs shift, still finite
    assert stroke_paths(None) == [] and stroke_paths({"objects": []}) == []


def test_hostile_inputs_are_bounded(clf):
    with pytest.raises(DrawingError, match="too large"):
        read_number(clf, np.zeros((3000, 3000), np.uint8))
    bars = [[[(x, 60), (x, 220)]] for x in range(20, 820, 40)]  # twenty tall bars: twenty 1s
    start = time.perf_counter()
    with pytest.raises(DrawingError, match=f"more than {MAX_DIGITS} digits"):
        read_number(clf, picture(*bars), canvas_objects(*bars))
    noise = (np.random.default_rng(0).random((HEIGHT, WIDTH)) > 0.97).astype(np.uint8) * 255
    with pytest.raises(DrawingError, match="only a dot"):
        read_number(clf, noise)  # thousands of specks: the largest pieces only, each a dot
    many_strokes = [{"type": "path", "path": [["M", 5, 5], ["L", 6, 6]]}] * 5000
    reading = read_number(clf, picture(seven(300)), many_strokes)  # more strokes than a person draws: ignored
    assert reading.number == "7"
    assert time.perf_counter() - start < 5
