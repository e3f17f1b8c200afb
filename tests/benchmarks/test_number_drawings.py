"""The numbers the number bench composes from real writers' digits (bench/harness/drawings/numbers.py)."""

import numpy as np

from bench.harness.drawings.numbers import HEIGHT, WIDTH, compose

ONE = {"label": 1, "strokes": [[[0, 0], [5, 100]]]}  # y up, as UNIPEN gives them
SEVEN = {"label": 7, "strokes": [[[0, 100], [60, 100], [20, 0]]]}
TAP = {"label": 8, "strokes": [[[0, 0], [1, 1]]]}  # a broken sample: a pen's tap labelled 8


def test_a_number_of_whole_digits_is_legible():
    for seed in range(5):
        number = compose([ONE, SEVEN], np.random.default_rng(seed))
        assert number.legible
        assert set(number.digits) <= {"1", "7"} and 2 <= len(number.digits) <= 5
        assert number.image.shape[:2] == (HEIGHT, WIDTH) and len(number.alone) == len(number.digits)


def test_a_number_holding_a_tap_labelled_as_a_digit_is_not():
    mixed = [compose([SEVEN, TAP], np.random.default_rng(seed)) for seed in range(10)]
    mixed = [number for number in mixed if {"7", "8"} <= set(number.digits)]
    assert mixed and not any(number.legible for number in mixed)
