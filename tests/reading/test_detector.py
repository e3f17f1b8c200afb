"""A run's digit detector: its file, its scores, and the fields a prediction gains from it."""

import numpy as np
import pytest

from mnist_core.reading.detector import (DETECTOR_FILE, DetectorError, DigitDetector, detector_inputs, read_detector,
                                         write_detector)


def made(features: int = 3) -> DigitDetector:
    size = features + 10
    return DigitDetector(mean=np.zeros(size, np.float32), scale=np.full(size, 2.0, np.float32),
                         weights=np.r_[np.ones(features), np.zeros(10)].astype(np.float32), bias=-1.0, threshold=0.5)


def test_a_score_is_the_regressions_log_odds_on_standardised_inputs():
    detector = made()
    features = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], np.float32)
    probabilities = np.full((2, 10), 0.1, np.float32)
    np.testing.assert_allclose(detector.scores(features, probabilities), [(1 + 2 + 3) / 2 - 1, -1.0], rtol=1e-6)
    inputs = detector_inputs(features, probabilities)
    assert inputs.shape == (2, 13) and np.allclose(inputs[:, 3:], np.log(0.1 + 1e-7))


def test_a_network_with_other_features_is_refused():
    with pytest.raises(DetectorError, match="takes 13 inputs, the network gives 14"):
        made().scores(np.zeros((1, 4)), np.full((1, 10), 0.1))


def test_the_file_round_trips_and_a_run_without_one_has_none(tmp_path):
    assert read_detector(tmp_path) is None
    write_detector(made(), tmp_path)
    back = read_detector(tmp_path)
    assert (back.bias, back.threshold) == (-1.0, 0.5)
    for name in ("mean", "scale", "weights"):
        np.testing.assert_array_equal(getattr(back, name), getattr(made(), name))


@pytest.mark.parametrize("damage, message", [
    (lambda path: path.write_bytes(b"not a zip"), "unreadable"),
    (lambda path: np.savez(path, mean=np.zeros(3), scale=np.ones(2), weights=np.zeros(3), bias=0.0, threshold=0.0),
     "malformed"),
    (lambda path: np.savez(path, mean=np.zeros(3), scale=np.zeros(3), weights=np.zeros(3), bias=0.0, threshold=0.0),
     "malformed"),
    (lambda path: np.savez(path, mean=np.zeros(3)), "lacks scale, weights, bias, threshold"),
    (lambda path: np.savez(path, mean=np.zeros(400_000), scale=np.ones(1), weights=np.ones(1), bias=0.0,
                           threshold=0.0), "would inflate"),
])
def test_a_damaged_or_foreign_file_is_refused_with_its_reason(tmp_path, damage, message):
    path = tmp_path / DETECTOR_FILE
    damage(path)
    with pytest.raises(DetectorError, match=message):
        read_detector(tmp_path, "run 'x'")
