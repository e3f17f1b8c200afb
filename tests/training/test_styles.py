"""Strokes drawn as the canvas draws them, and the handwriting styles synthesised for training."""

import numpy as np
from scipy import ndimage

from mnist_core.config import make_config
from mnist_core.training.strokes import as_canvas_image, draw_strokes, place, random_canvas_drawing
from mnist_core.training.styles import STYLES, flag_one, four_template, styled_examples
from tests.support.data import tiny_arrays


def test_a_stroke_is_a_round_pen_of_the_given_width():
    ink = draw_strokes([[(40, 140), (240, 140)]], pen=20)
    assert ink.shape == (280, 280) and ink.dtype == np.uint8
    rows = np.flatnonzero(ink[:, 140])
    assert 19 <= len(rows) <= 21 and rows.min() >= 129 and rows.max() <= 151
    cols = np.flatnonzero(ink[140])
    assert cols.min() == 30 and cols.max() == 250  # round caps reach half a pen past the ends


def test_a_single_point_is_a_dot():
    ink = draw_strokes([[(100, 100)]], pen=10)
    assert ink[100, 100] == 255 and ink[100, 120] == 0


def test_place_scales_the_longer_side_and_flips_tablet_coordinates():
    strokes = place([[(0, 0), (10, 50)], [(5, 100)]], height=200, centre=(140, 140), y_up=True)
    points = np.concatenate([np.asarray(s) for s in strokes])
    assert np.ptp(points[:, 1]) == 200 and np.ptp(points[:, 0]) == 20
    assert strokes[0][0] == (130.0, 240.0)  # y up: the first point (lowest y) ends at the bottom


def test_canvas_polarities():
    ink = draw_strokes([[(50, 50), (200, 200)]], pen=12)
    assert np.array_equal(as_canvas_image(ink, "black-on-white"), 255 - ink)
    rgba = as_canvas_image(ink, "transparent")
    assert rgba.shape == (280, 280, 4) and np.array_equal(rgba[..., 3], ink) and not rgba[..., :3].any()


def test_random_canvas_drawings_stay_on_the_canvas():
    rng = np.random.default_rng(1)
    for _ in range(20):
        image = random_canvas_drawing([[(0, 0), (3, 10)], [(0, 10), (6, 10)]], rng, y_up=True)
        ink = image[..., 3] if image.ndim == 3 else (image if image[0, 0] == 0 else 255 - image)
        rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
        assert rows.min() > 0 and cols.min() > 0 and rows.max() < 279 and cols.max() < 279
        assert 80 <= rows.max() - rows.min() <= 290


def test_styled_examples_are_seeded_mnist_style_digits_of_each_style():
    arrays = tiny_arrays(n_train=400)
    x, y = styled_examples(arrays["x_train"], arrays["y_train"], 200, seed=3)
    assert x.shape == (200, 28, 28) and x.dtype == np.uint8
    expected = {label: round(200 * share) for label, share in STYLES.values()}
    assert {int(k): int(v) for k, v in zip(*np.unique(y, return_counts=True))} == expected
    again, _ = styled_examples(arrays["x_train"], arrays["y_train"], 200, seed=3)
    assert np.array_equal(x, again)
    for image in x[:40]:  # the app's preprocessing: ink in a 20 px box, centre of mass near the middle
        rows, cols = np.flatnonzero(image.max(axis=1) > 25), np.flatnonzero(image.max(axis=0) > 25)
        assert max(np.ptp(rows), np.ptp(cols)) <= 21
        assert np.allclose(ndimage.center_of_mass(image.astype(float)), 14, atol=1.6)


def test_a_slashed_zero_has_ink_beyond_the_plain_zero():
    zero = np.zeros((1, 28, 28), np.uint8)
    yy, xx = np.mgrid[:28, :28]
    ring = np.abs(np.hypot((yy - 14) / 9, (xx - 14) / 6) - 1) < 0.18
    zero[0][ring] = 255
    x, y = styled_examples(zero, np.array([0], np.uint8), 10, seed=0)
    slashed = x[y == 0][0] > 127
    assert slashed.sum() > (zero[0] > 127).sum() * 0.5  # the oval, shrunk to make room for the slash, plus the slash
    assert slashed[14, 14]  # the slash crosses the middle, where a plain zero has no ink


def test_best_preset_adds_style_images():
    assert make_config("best").style_images == 4500 and make_config("quick").style_images == 0


def test_a_flag_is_never_a_sevens_bar_and_an_open_four_crosses_its_stem():
    """A shallow or long flag is how MNIST writes a 7's bar; an open four's bar stopping at its stem
    is how MNIST writes a 9 with an open loop: neither may be taught as a 1 or a 4."""
    rng = np.random.default_rng(0)
    stem = np.zeros((280, 280), bool)
    stem[40:240, 135:145] = True  # 199 px tall
    for _ in range(200):
        (x0, y0), (x1, y1) = flag_one(stem, rng)[0]
        assert 30 <= np.degrees(np.arctan2(y0 - y1, x1 - x0)) <= 65 and np.hypot(x1 - x0, y1 - y0) <= 0.45 * 199
    open_fours = 0
    for _ in range(200):
        arm, upright = four_template(rng)
        if arm[0][0] <= 0.25:  # open at the top: the arm starts high on the left
            open_fours += 1
            assert arm[-1][0] > upright[0][0] - 0.05  # past the stem (its x varies by a few hundredths)
    assert open_fours > 50
