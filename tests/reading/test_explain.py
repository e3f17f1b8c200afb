"""Why this answer: the occlusion saliency map, its faithfulness, its picture and its JSON."""

import json
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from mnist_core import load_classifier, read_image, to_model_input
from mnist_core.reading.explain import (INK, SEGMENTS, SUPPORTS_ANSWER, SUPPORTS_RUNNER_UP, Explanation, deletion_check,
                                explain, explain_file, explanation_text, runner_up, saliency_image,
                                stroke_segments)
from mnist_core.reading.preprocess import thicken
from mnist_core.reading.reader import SURE, Reader
from mnist_core.training.strokes import random_canvas_drawing
from bench.harness.drawings.pen_digits import DIGITS
from tests.support.data import draw_digit


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


def drawings(per_digit: int, seed: int = 0) -> list[tuple[int, np.ndarray]]:
    """(label, model input) for `per_digit` random canvas drawings of each digit, and conftest's 7."""
    rng = np.random.default_rng(seed)
    made = [(label, to_model_input(random_canvas_drawing(strokes, rng)))
            for label, strokes in DIGITS.items() for _ in range(per_digit)]
    return made + [(7, to_model_input(np.asarray(draw_digit())))]


def margin(clf, images: np.ndarray, digit: int, runner_up: int) -> np.ndarray:
    p = clf.network_probabilities(images).astype(np.float64)  # pieces are weighed at the drawing's width
    return np.log(p[:, digit]) - np.log(p[:, runner_up])


def test_the_drawings_read_as_their_digits(clf):
    labels, images = zip(*drawings(2))
    assert list(clf.probabilities(np.array(images)).argmax(axis=1)) == list(labels)


def test_explain_gives_the_answer_and_a_map_on_the_ink_only(clf):
    prediction = clf.predict(np.asarray(draw_digit()))
    explanation = explain(clf.reader, prediction.model_input)
    assert explanation.digit == prediction.digit == 7
    np.testing.assert_allclose(explanation.probabilities, prediction.probabilities, atol=1e-6)
    assert explanation.runner_up == int(np.argsort(prediction.probabilities)[-2])
    assert explanation.confidence == pytest.approx(float(prediction.probabilities[7]), abs=1e-6)
    assert explanation.saliency.shape == (28, 28) and explanation.saliency.dtype == np.float32
    on_ink = prediction.model_input > INK
    assert not explanation.saliency[~on_ink].any()
    assert np.count_nonzero(explanation.saliency[on_ink]) > on_ink.sum() // 2
    again = explain(clf.reader, prediction.model_input)
    np.testing.assert_array_equal(again.saliency, explanation.saliency)


def test_each_piece_of_stroke_is_worth_the_margin_lost_without_it(clf):
    image = drawings(1)[4][1]  # a 4
    explanation = explain(clf.reader, image)
    labels = stroke_segments(image)
    digit, runner_up = explanation.digit, explanation.runner_up
    for piece in range(SEGMENTS):
        blanked = np.where(labels == piece, 0.0, image).astype(np.float32)
        lost = np.diff(margin(clf, thicken(np.stack([blanked, image])), digit, runner_up))[0]  # read as drawings are
        assert explanation.saliency[labels == piece].sum() == pytest.approx(lost, rel=1e-3, abs=1e-4)
    # shared by ink: within a piece, a pixel's share is proportional to its ink
    piece = labels == 0
    np.testing.assert_allclose(explanation.saliency[piece] / image[piece],
                               explanation.saliency[piece][0] / image[piece][0], rtol=1e-4)


def test_explain_makes_one_batched_call_of_bounded_size(clf):
    """One call of the network on the drawing and its pieces; the Reader's two more widths only for
    an unsure drawing whose answer the caller did not pass."""
    batches = []

    def counting(images):
        batches.append(len(images))
        return clf.network_probabilities(images)

    reader = Reader(counting, three_widths=True)
    sure = drawings(1)[8][1]
    assert clf.predict(sure).confidence >= SURE
    explain(reader, sure)
    explain(reader, sure, segments=5)
    assert batches == [1 + SEGMENTS, 6]
    unsure = np.where(np.arange(28)[None, :] < 14, sure, 0.0)  # the left half of an 8
    answer = clf.reader.drawing_probabilities(unsure)[0]
    assert answer.max() < SURE
    batches.clear()
    explanation = explain(reader, unsure)
    assert batches == [1 + SEGMENTS, 2]
    np.testing.assert_allclose(explanation.probabilities, answer, atol=1e-6)
    batches.clear()
    given = explain(reader, unsure, probabilities=answer)
    assert batches == [1 + SEGMENTS]
    np.testing.assert_array_equal(given.saliency, explanation.saliency)
    assert given.digit == int(answer.argmax())


def test_stroke_segments_split_the_ink_into_compact_pieces():
    image = drawings(1)[0][1]  # a 0: one long closed stroke
    labels = stroke_segments(image)
    assert ((labels >= 0) == (image > INK)).all()
    assert sorted(np.unique(labels[labels >= 0])) == list(range(SEGMENTS))
    for piece in range(SEGMENTS):
        rows, cols = np.nonzero(labels == piece)
        assert max(np.ptp(rows), np.ptp(cols)) <= 12  # a piece of the stroke, not a scatter over the digit
    dots = np.zeros((28, 28), np.float32)
    dots[5, 5] = dots[20, 20] = dots[5, 20] = 1.0
    assert sorted(stroke_segments(dots)[dots > 0]) == [0, 1, 2]
    assert (stroke_segments(np.zeros((28, 28))) == -1).all()


def test_faithful_blanking_the_top_ranked_ink_costs_more_than_random_ink(clf):
    """On most drawings, blanking the 20% of the ink the map ranks highest lowers p(answer) more
    than blanking as many random ink pixels; the map turned upside down almost never does."""
    results, reversed_results = [], []
    for _, image in drawings(4):
        explanation = explain(clf.reader, image)
        results.append(deletion_check(clf.reader, explanation))
        reversed_results.append(deletion_check(clf.reader, replace(explanation, saliency=-explanation.saliency)))
    top, random_ink = np.array(results).T
    assert (top < random_ink).mean() >= 0.85, results
    assert top.mean() < random_ink.mean() - 0.2, (top.mean(), random_ink.mean())
    reversed_top, reversed_random = np.array(reversed_results).T
    assert (reversed_top < reversed_random).mean() <= 0.15, reversed_results


@pytest.mark.mnist
def test_faithful_on_mnist_test_digits(clf, mnist_path):
    with np.load(mnist_path) as data:
        x_test = data["x_test"]
    chosen = np.random.default_rng(0).choice(len(x_test), 300, replace=False)
    results = np.array([deletion_check(clf.reader, explain(clf.reader, x_test[i] / 255.0)) for i in chosen])
    # "Most drawings", the issue asks; the default model: 90.3% (83.3% before drawings were read thickened); on canvas drawings 93.0% (bench/explain_cost.py)
    assert (results[:, 0] < results[:, 1]).mean() >= 0.8, results
    assert results[:, 0].mean() < results[:, 1].mean() - 0.2


def test_runner_up_is_the_next_most_probable_digit():
    assert runner_up([0.1, 0.6, 0.0, 0.3, 0, 0, 0, 0, 0, 0], 1) == 3
    assert runner_up([0.4, 0.4, 0.2, 0, 0, 0, 0, 0, 0, 0], 0) == 1  # a tie goes to the lower digit, as argmax
    assert runner_up(np.eye(10)[9], 9) == 0


def test_a_blank_input_has_an_empty_map(clf):
    explanation = explain(clf.reader, np.zeros((28, 28)))
    assert not explanation.saliency.any() and explanation.probabilities.shape == (10,)
    with pytest.raises(ValueError, match="no ink"):
        deletion_check(clf.reader, explanation)


@pytest.mark.parametrize("bad, message", [
    (np.zeros((280, 280)), r"28x28 model input .* shape \(280, 280\)"),
    (np.full((28, 28), np.nan), "finite values in"),
    (np.full((28, 28), 1.5), r"in \[0, 1\]"),
    (np.full((28, 28), -0.1), r"in \[0, 1\]"),
])
def test_explain_refuses_what_is_not_a_model_input(clf, bad, message):
    with pytest.raises(ValueError, match=message):
        explain(clf.reader, bad)


@pytest.mark.parametrize("segments", [0, 65, 2.5, "12"])
def test_explain_refuses_a_silly_number_of_pieces(clf, segments):
    with pytest.raises(ValueError, match="segments must be a whole number from 1 to 64"):
        explain(clf.reader, np.zeros((28, 28)), segments=segments)


def _known_explanation() -> Explanation:
    image = np.zeros((28, 28), np.float32)
    image[3, 3] = image[4, 4] = 1.0
    image[5, 5] = 0.5
    saliency = np.zeros((28, 28), np.float32)
    saliency[3, 3], saliency[4, 4] = 2.0, -1.0
    return Explanation(7, 1, np.eye(10)[7], saliency, image)


def test_saliency_image_colours_the_ink_by_what_it_supports():
    picture = saliency_image(_known_explanation())
    assert picture.shape == (280, 280, 3) and picture.dtype == np.uint8
    assert (picture[30:40, 30:40] == SUPPORTS_ANSWER).all()  # the strongest: the full red
    half_blue = np.round(0.5 * 145 + 0.5 * SUPPORTS_RUNNER_UP)  # half as strong, over ink 1.0 (gray 145)
    assert (picture[40:50, 40:50] == half_blue).all()
    assert (picture[50:60, 50:60] == 200).all()  # ink 0.5 that did not matter: gray
    assert (picture[0:30, 0:30] == 255).all() and (picture[60:, :] == 255).all()  # background: white
    plain = saliency_image(_known_explanation(), scale=3, over_drawing=False)
    assert plain.shape == (84, 84, 3)
    assert (plain[12:15, 12:15] == np.round(0.5 * 255 + 0.5 * SUPPORTS_RUNNER_UP)).all()
    assert (plain[15:18, 15:18] == 255).all()
    quiet = replace(_known_explanation(), saliency=np.zeros((28, 28), np.float32))
    assert (saliency_image(quiet, scale=1)[..., 0] == np.round(255 - 110 * quiet.model_input)).all()


@pytest.mark.parametrize("scale", [0, 41, 2.5, None])
def test_saliency_image_refuses_a_silly_scale(scale):
    with pytest.raises(ValueError, match="scale must be a whole number from 1 to 40"):
        saliency_image(_known_explanation(), scale=scale)


def test_explain_file_gives_the_json_the_cli_prints(clf, tmp_path):
    path = tmp_path / "seven.png"
    draw_digit().save(path)
    result = explain_file(clf, path)
    assert list(result) == ["file", "digit", "probabilities", "saliency"]
    assert result["file"] == str(path) and result["digit"] == clf.predict(read_image(path)).digit == 7
    assert len(result["probabilities"]) == 10 and sum(result["probabilities"]) == pytest.approx(1, abs=1e-4)
    saliency = result["saliency"]
    assert len(saliency) == 28 and all(len(row) == 28 for row in saliency)
    assert all(isinstance(s, float) and s == round(s, 4) for row in saliency for s in row)
    expected = explain(clf.reader, to_model_input(read_image(path))).saliency
    np.testing.assert_allclose(saliency, expected, atol=5e-5)
    assert json.loads(json.dumps([result])) == [result]


def test_explain_file_reports_unreadable_and_blank_files(clf, tmp_path):
    junk, blank = tmp_path / "junk.png", tmp_path / "blank.png"
    junk.write_bytes(b"not an image")
    Image.new("L", (280, 280), 255).save(blank)
    result = explain_file(clf, junk)
    assert set(result) == {"file", "error"} and result["file"] == str(junk)
    assert "not a readable image" in result["error"]
    assert "Nothing drawn" in explain_file(clf, blank)["error"]
    assert explain_file(clf, tmp_path / "missing.png")["error"].startswith("cannot open")


def test_explanation_text_draws_the_map_in_characters(clf, tmp_path):
    path = tmp_path / "seven.png"
    draw_digit().save(path)
    result = explain_file(clf, path)
    lines = explanation_text(result).split("\n")
    runner_up = int(np.argsort(-np.array(result["probabilities"]), kind="stable")[1])  # the lower digit on a tie
    assert lines[0].startswith(f"{path}: 7 (") and f"runner-up {runner_up} (" in lines[0]
    assert lines[0].endswith(f"# + pushed toward 7, = - toward {runner_up}")
    saliency = np.array(result["saliency"])
    drawn = np.flatnonzero(saliency.any(axis=1))
    assert len(lines) == 1 + drawn[-1] - drawn[0] + 1  # the rows from the digit's top to its bottom
    row, col = np.unravel_index(saliency.argmax(), saliency.shape)
    assert lines[1 + row - drawn[0]][2 * col:2 * col + 2] == "##"
    assert all(len(line) <= 56 for line in lines[1:])
    assert explanation_text({"file": "x.png", "error": "the file is empty"}) == "x.png: error: the file is empty"
