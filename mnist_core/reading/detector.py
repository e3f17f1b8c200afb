"""Is it a digit at all? Each run's digit detector, applied with NumPy in microseconds.

A network trained on digits answers a letter or a scribble with some digit, often a confident
one. What its last layer reads (the features the ONNX file exports) and how its ten answers
spread tell more: the detector is a logistic regression on both, fitted when the run is saved
(keras_runs/detector_fit.py) on digits against drawings that are not digits, its threshold set so
that a chosen share of held-out MNIST digits is kept. `digit_score` is that regression's log-odds:
higher means more like a digit, and a drawing below the run's threshold is "not a digit".
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.runs.npz_files import NpzError, read_bounded, write_atomically

DETECTOR_FILE = "detector.npz"
KEYS = ("mean", "scale", "weights", "bias", "threshold")
MAX_UNPACKED_BYTES = 1_000_000  # a detector on 128 features and 10 answers is 2 KB
TINY = 1e-7


class DetectorError(RuntimeError):
    """A detector cannot be read; the message says which file and why."""


@dataclass(frozen=True)
class DigitDetector:
    mean: np.ndarray  # (F,) float32: the inputs' centre (F = features + 10 answers)
    scale: np.ndarray  # (F,) float32: their spread
    weights: np.ndarray  # (F,) float32: the regression's weights on the standardised inputs
    bias: float
    threshold: float  # a digit_score at least this is a digit

    def scores(self, features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """(N,) digit scores for N drawings: their (N, D) features and (N, 10) probabilities."""
        return self.input_scores(detector_inputs(features, probabilities))

    def input_scores(self, inputs: np.ndarray) -> np.ndarray:
        """(N,) digit scores of N rows of detector_inputs."""
        if inputs.shape[1] != len(self.weights):
            raise DetectorError(f"the detector takes {len(self.weights)} inputs, the network gives {inputs.shape[1]}")
        return ((inputs - self.mean) / self.scale) @ self.weights + np.float32(self.bias)


def detector_inputs(features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """What the detector reads: the last layer's features and the log of the ten answers."""
    features = np.asarray(features, np.float32).reshape(len(probabilities), -1)
    return np.concatenate([features, np.log(np.asarray(probabilities, np.float32) + np.float32(TINY))], axis=1)


def write_detector(detector: DigitDetector, folder: Path) -> Path:
    return write_atomically(Path(folder) / DETECTOR_FILE, dict(
        mean=detector.mean, scale=detector.scale, weights=detector.weights,
        bias=np.float32(detector.bias), threshold=np.float32(detector.threshold)))


def read_detector(folder: Path, where: str = "the run") -> DigitDetector | None:
    """The detector saved in `folder`, or None when the run has none; DetectorError when it is unreadable."""
    path = Path(folder) / DETECTOR_FILE
    if not path.is_file():
        return None
    try:
        arrays = read_bounded(path, KEYS, MAX_UNPACKED_BYTES, where)
    except NpzError as exc:
        raise DetectorError(str(exc)) from exc
    vectors = [np.asarray(arrays[k], np.float32).ravel() for k in ("mean", "scale", "weights")]
    if len({len(v) for v in vectors}) != 1 or not all(np.isfinite(v).all() for v in vectors) or (vectors[1] <= 0).any():
        raise DetectorError(f"{where}: {DETECTOR_FILE} holds a malformed detector")
    return DigitDetector(*vectors, float(arrays["bias"]), float(arrays["threshold"]))
