"""How a network's answers are read: the one rule, carried by a Reader.

A drawing is read thickened (preprocess.thicken); MNIST's own digits as they are. A network
trained with random stroke widths reads an answer it is less than SURE of again, thickened and
thinned, and averages the three; whether a run does is on its card (`three_widths`). Callers pass
a Reader, never that flag: the ONNX Classifier the server uses and the Keras network in the
training process (training/keras_reader.py) each wrap their network in one.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

from mnist_core.reading.preprocess import thicken, thin

SURE = 0.99  # an answer at least this sure is kept as read once


@dataclass(frozen=True)
class Reader:
    """A network and how it is read. `network_probabilities`: N x 28 x 28 floats in [0, 1] → N x 10,
    each image read once as it is."""

    network_probabilities: Callable[[np.ndarray], np.ndarray]
    three_widths: bool = False

    def probabilities(self, images: np.ndarray, first: np.ndarray | None = None) -> np.ndarray:
        """N x 28 x 28 floats in [0, 1], read as they are (MNIST's digits) → N x 10, by the rule;
        `first`: the network's answers for `images` when the caller has them already."""
        first = np.asarray(self.network_probabilities(images) if first is None else first, np.float32)
        return read_at_three_widths(self.network_probabilities, images, first) if self.three_widths else first

    def drawing_probabilities(self, model_inputs: np.ndarray) -> np.ndarray:
        """Drawings made MNIST-style (preprocess.to_model_input; one or N x 28 x 28) → N x 10: thickened, then read."""
        return self.probabilities(thicken(model_inputs))

    def pixel_probabilities(self, images: np.ndarray) -> np.ndarray:
        """uint8 N x 28 x 28 pixels (MNIST's files) → N x 10."""
        return self.probabilities(np.asarray(images, np.float32) / np.float32(255))


def unsure_answers(probabilities: np.ndarray) -> np.ndarray:
    """Which of N answers (N x 10 probabilities, read once) are less sure than SURE, so that
    read_at_three_widths reads their images at the other two widths as well."""
    return probabilities.max(axis=1) < SURE


def read_at_three_widths(probabilities_of: Callable[[np.ndarray], np.ndarray], images: np.ndarray,
                         first: np.ndarray | None = None) -> np.ndarray:
    """A network's answers (`probabilities_of`: N x 28 x 28 → N x 10) for `images`, each read as it
    is and, when that answer is less sure than SURE, also thickened and thinned, the three averaged.

    A network trained with random stroke widths (augment.RandomStrokeWidth) is read this way: its
    answers at the three widths err on different digits, and their mean on fewer than any one.
    An answer at least SURE was never changed by the other two widths (bench/README.md), so only
    the few unsure images pay for two more readings, in one more call. A network never shown
    other widths reads worse this way. `first`: the answers for `images` read once, if known.
    """
    x = np.asarray(images, np.float32).reshape(-1, 28, 28)
    probabilities = np.array(probabilities_of(x) if first is None else first, np.float32)
    unsure = unsure_answers(probabilities)
    if unsure.any():
        others = probabilities_of(np.concatenate([thicken(x[unsure]), thin(x[unsure])]))
        probabilities[unsure] = (probabilities[unsure] + others.reshape(2, int(unsure.sum()), -1).sum(axis=0)) / 3
    return probabilities
