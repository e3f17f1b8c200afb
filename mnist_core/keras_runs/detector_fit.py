"""Fitting a run's digit detector (reading/detector.py) in the training process, when the run is saved.

Digits are MNIST training digits, each read as it is and as a drawing is read (thickened); what
is not a digit is drawn here (nondigits.py: scribbles, smileys, two digits side by side, and real
letters when the training had them). The threshold keeps KEEP of held-out MNIST digits read
either way, and the card records how well it separates digits it never saw from non-digits of
another seed (figures in bench/README.md).
"""

import dataclasses

import numpy as np
from scipy.stats import rankdata

from mnist_core.reading.detector import DigitDetector, detector_inputs
from mnist_core.reading.preprocess import thicken
from mnist_core.training.keras_reader import network_outputs
from mnist_core.training.nondigits import nondigit_images

KEEP = 0.9985  # of held-out MNIST digits kept as digits: chosen on one half of the writers (bench/README.md)
HELD_OUT = 5000  # digits set aside to place the threshold when a run has no validation split
COPY_HELD_OUT = 2000  # as many for a fine-tuned copy, which keeps its parent's regression
COPY_OTHERS = 500  # non-digits a copy's figures are measured on: each drawn costs a person waiting 3 ms
DIGITS, OTHERS = 10_000, 6_000  # how many of each the regression is fitted on
THRESHOLD_DIGITS = 10_000  # training digits the regression did not see, beside the held-out ones, for the threshold
L2 = 1e-3


def _inputs(model, images: np.ndarray) -> np.ndarray:
    """Detector inputs for uint8 images, each read as it is and thickened, as drawings are."""
    x = np.asarray(images, np.float32) / np.float32(255)
    return np.concatenate([detector_inputs(*network_outputs(model, v)) for v in (x, thicken(x))])


def logistic_regression(positive: np.ndarray, negative: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(mean, scale, weights, bias): both classes weighted equally, L2-regularised, Newton's method
    on the standardised inputs (a few hundred inputs: each step is one small linear solve)."""
    x = np.concatenate([positive, negative]).astype(np.float64)
    y = np.concatenate([np.ones(len(positive)), np.zeros(len(negative))])
    weight = np.where(y == 1, 0.5 / len(positive), 0.5 / len(negative))
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    x = np.concatenate([(x - mean) / scale, np.ones((len(x), 1))], axis=1)
    w = np.zeros(x.shape[1])
    ridge = np.diag(np.r_[np.full(x.shape[1] - 1, L2), 0.0])
    for _ in range(30):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        gradient = x.T @ (weight * (p - y)) + ridge @ w
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return mean.astype(np.float32), scale.astype(np.float32), w[:-1].astype(np.float32), float(w[-1])


def auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """The chance a digit scores above a non-digit (ties count half)."""
    ranks = rankdata(np.concatenate([positive, negative]))
    return float((ranks[:len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


def fit_detector(model, x_train: np.ndarray, x_held_out: np.ndarray, seed: int = 0,
                 handwritten: list[dict] | None = None) -> tuple[DigitDetector, dict]:
    """A detector for the Keras network `model` and its figures for the card: fitted on uint8 MNIST
    training digits `x_train` against non-digits of `seed`, its threshold placed on digits the
    regression never saw (`x_held_out`, which the network never trained on, and as many more
    training digits as make the threshold steady: a few hundred held-out digits alone place a
    0.2% quantile on one or two of them), and measured on non-digits of another seed."""
    order = np.random.default_rng(seed).permutation(len(x_train))
    fit_on, unseen_by_fit = order[:DIGITS], order[DIGITS:DIGITS + THRESHOLD_DIGITS]
    others = nondigit_images(min(OTHERS, len(fit_on)), seed + 1, x_train, handwritten)
    mean, scale, weights, bias = logistic_regression(_inputs(model, x_train[fit_on]), _inputs(model, others))
    detector = DigitDetector(mean, scale, weights, bias, threshold=0.0)
    return rethreshold(detector, model, np.concatenate([x_held_out, x_train[unseen_by_fit]]), seed)


def rethreshold(detector: DigitDetector, model, x_held_out: np.ndarray, seed: int = 0,
                others: int | None = None) -> tuple[DigitDetector, dict]:
    """`detector` with its threshold placed for `model` on `x_held_out`, and the card's figures,
    measured on `others` non-digits (default: half as many as the held-out digits).
    A fine-tuned copy keeps its parent's regression this way: its features moved a little, and
    a few seconds matter to a person waiting for their copy (a new fit takes twenty)."""
    kept_scores = detector.input_scores(_inputs(model, x_held_out))
    threshold = float(np.quantile(kept_scores, 1 - KEEP))
    others = len(x_held_out) // 2 if others is None else others
    unseen = detector.input_scores(_inputs(model, nondigit_images(others, seed + 2, x_held_out)))
    figures = dict(threshold=round(threshold, 4), digits_kept=round(float((kept_scores >= threshold).mean()), 4),
                   others_flagged=round(float((unseen < threshold).mean()), 4),
                   auroc=round(auroc(kept_scores, unseen), 4), held_out_digits=int(len(x_held_out)))
    return dataclasses.replace(detector, threshold=threshold), figures


def held_out_split(x_train: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fit on, threshold on) for a network whose validation digits are unknown (an import, a fine-tune)."""
    held_out = min(HELD_OUT, len(x_train) // 10)
    return x_train[:-held_out], x_train[-held_out:]
