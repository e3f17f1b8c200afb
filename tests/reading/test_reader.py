"""The one reading rule: drawings thickened, unsure answers read again at two more widths when the card says so."""

import numpy as np

from mnist_core.reading.preprocess import thicken, thin, to_model_input
from mnist_core.reading.reader import Reader
from tests.support.data import draw_digit


def reference():
    return to_model_input(np.asarray(draw_digit()))


def test_only_an_unsure_answer_is_read_again_thickened_and_thinned():
    bar = np.zeros((28, 28), np.float32)
    bar[20:26, 16:26] = 1.0
    images = np.stack([reference(), np.zeros((28, 28), np.float32), bar])
    calls = []

    def probabilities_of(x):  # a stand-in network: sure of an image with ink at its top-left, unsure of others
        calls.append(x)
        sure = x[:, :14, :14].sum(axis=(1, 2)) > 1
        return np.where(sure[:, None], np.eye(10, dtype=np.float32)[3], np.full(10, 0.1, np.float32)) * (
            1 + np.arange(len(x))[:, None] / 100)

    read = Reader(probabilities_of, three_widths=True).probabilities(images)
    sure = images[:, :14, :14].sum(axis=(1, 2)) > 1
    assert sure.tolist() == [True, False, False] and len(calls) == 2
    assert np.array_equal(calls[0], images)
    assert np.array_equal(calls[1], np.concatenate([thicken(images[1:]), thin(images[1:])]))
    assert np.array_equal(read[0], probabilities_of(images)[0])  # sure: read once
    assert np.allclose(read[1], 0.1 * (1.01 + 1.00 + 1.02) / 3) and np.allclose(read[2], 0.1 * (1.02 + 1.01 + 1.03) / 3)
    assert read.shape == (3, 10) and read.dtype == np.float32


def test_a_network_not_trained_on_widths_reads_everything_once():
    calls = []

    def probabilities_of(x):
        calls.append(x)
        return np.full((len(x), 10), 0.1, np.float32)  # unsure of everything

    images = np.stack([reference(), reference()])
    assert np.array_equal(Reader(probabilities_of).probabilities(images), np.full((2, 10), 0.1, np.float32))
    assert len(calls) == 1


def test_drawings_are_read_thickened_and_pixels_scaled():
    seen = []
    reader = Reader(lambda x: seen.append(np.array(x)) or np.eye(10, dtype=np.float32)[[3] * len(x)])
    drawing = reference()
    reader.drawing_probabilities(drawing[None])
    reader.pixel_probabilities(np.full((1, 28, 28), 51, np.uint8))
    assert np.array_equal(seen[0], thicken(drawing[None]))
    assert np.allclose(seen[1], 0.2) and seen[1].dtype == np.float32
