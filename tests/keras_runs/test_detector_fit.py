"""Fitting a run's digit detector: the regression, its threshold, and the figures the card keeps."""

import numpy as np
import pytest

from mnist_core.keras_runs.detector_fit import KEEP, auroc, fit_detector, logistic_regression
from tests.support.training import tiny_training


def test_auroc_counts_pairs_and_ties_half():
    assert auroc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auroc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    assert auroc(np.array([1.0, 3.0]), np.array([2.0, 2.0])) == 0.5
    assert auroc(np.array([2.0]), np.array([2.0])) == 0.5


def test_the_regression_separates_two_clouds_however_unequal_their_sizes():
    rng = np.random.default_rng(0)
    digits, others = rng.normal(1.0, 0.5, (2000, 4)), rng.normal(-1.0, 0.5, (200, 4))
    mean, scale, weights, bias = logistic_regression(digits, others)
    score = lambda x: ((x - mean) / scale) @ weights + bias  # noqa: E731
    assert (score(digits) > 0).mean() > 0.99 and (score(others) < 0).mean() > 0.99
    np.testing.assert_allclose(mean, np.r_[digits, others].mean(axis=0), rtol=1e-5)


@pytest.mark.slow  # a tiny TensorFlow network and 6,000 drawings that are not digits
def test_a_fitted_detector_keeps_its_share_of_held_out_digits_and_says_how_it_separates():
    data, result, _, _ = tiny_training()
    detector, figures = fit_detector(result.model, data.x_train, data.x_val, seed=0)
    assert figures["held_out_digits"] == len(data.x_val) == 100
    assert figures["threshold"] == round(detector.threshold, 4)
    assert figures["digits_kept"] >= KEEP - 0.01  # 200 scores (each digit plain and thickened): one may fall
    assert 0.0 <= figures["others_flagged"] <= 1.0 and 0.0 <= figures["auroc"] <= 1.0
    assert detector.weights.shape == detector.mean.shape == (128 + 10,)  # quick's dense layer and ten answers
