import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_core.reading.preprocess import (DrawingError, NothingDrawnError, read_image, thicken, thin,
                                   to_model_input)
from tests.support.data import draw_digit


def reference():
    return to_model_input(np.asarray(draw_digit()))


def test_output_is_mnist_like():
    x = reference()
    assert x.shape == (28, 28) and x.dtype == np.float32
    assert 0 <= x.min() and x.max() == pytest.approx(1.0, abs=0.05)
    rows = np.flatnonzero(x.max(axis=1) > 0.1)
    assert rows[-1] - rows[0] + 1 in (19, 20, 21)  # longer side scaled to 20 px
    assert np.allclose(ndimage.center_of_mass(x), (14, 14), atol=0.6)


def test_thicken_adds_a_rim_of_half_the_ink_around_the_strokes():
    plain = reference()
    thick = thicken(plain)
    assert thick.shape == (28, 28) and thick.dtype == np.float32 and thick.max() <= 1.0
    assert (thick >= plain - 1e-6).all() and thick.sum() > 1.3 * plain.sum()
    new = (plain == 0) & (thick > 0)
    assert new.sum() > 20 and thick[new].max() <= 0.5 + 1e-6
    assert ndimage.binary_dilation(plain > 0, np.ones((3, 3), bool))[new].all()  # only next to the strokes
    assert np.allclose(ndimage.center_of_mass(thick), ndimage.center_of_mass(plain), atol=0.25)
    line = np.zeros((28, 28), np.float32)
    line[5:20, 10] = 1.0
    assert thicken(line)[5:20, 9:12].tolist() == [[0.5, 1.0, 0.5]] * 15  # one pixel wide → two
    batch = thicken(np.stack([plain, np.zeros_like(plain), line]))
    assert np.array_equal(batch[0], thick) and not batch[1].any() and np.array_equal(batch[2], thicken(line))


def test_thin_takes_half_the_ink_off_each_edge_of_a_stroke():
    bar = np.zeros((28, 28), np.float32)
    bar[5:20, 9:12] = 1.0  # three pixels wide
    assert thin(bar)[6:19, 8:13].tolist() == [[0.0, 0.5, 1.0, 0.5, 0.0]] * 13
    line = np.zeros((28, 28), np.float32)
    line[5:20, 10] = 1.0
    assert thin(line)[5:20, 10].tolist() == [0.5] * 15 and thin(line).sum() == 7.5  # one pixel wide: half
    plain = reference()
    assert (thin(plain) <= plain).all() and thin(plain).sum() < 0.8 * plain.sum()
    assert np.array_equal(thin(np.stack([plain, line]))[1], thin(line))


@pytest.mark.parametrize("variant", ["shifted", "scaled", "inverted", "transparent", "rgb", "small canvas",
                                     "rounded corners"])
def test_variants_give_the_same_input(variant):
    if variant == "shifted":
        image = np.asarray(draw_digit(box=(20, 10, 100, 170)))
    elif variant == "scaled":
        image = np.asarray(draw_digit(size=(560, 560), box=(200, 120, 360, 440), width=36))
    elif variant == "inverted":
        image = np.asarray(draw_digit(ink=0, background=255))
    elif variant == "transparent":  # the canvas: the digit only in alpha, colour is black everywhere
        alpha = np.asarray(draw_digit())
        image = np.zeros((280, 280, 4), np.uint8)
        image[..., 3] = alpha
    elif variant == "rgb":
        image = np.asarray(draw_digit(mode="RGB", ink=(20, 20, 90), background=(250, 245, 235)))
    elif variant == "rounded corners":  # a screenshot: opaque, dark on light, its corners transparent black
        image = np.asarray(draw_digit(mode="RGBA", ink=(0, 0, 0, 255), background=(255, 255, 255, 255))).copy()
        for rows in (slice(0, 6), slice(-6, None)):
            for cols in (slice(0, 6), slice(-6, None)):
                image[rows, cols] = 0
    else:
        image = np.asarray(draw_digit(size=(140, 140), box=(50, 30, 90, 110), width=9))
    assert np.abs(to_model_input(image) - reference()).mean() < 0.03


def test_a_picture_wholly_transparent_is_blank_whatever_its_hidden_colours():
    image = np.asarray(draw_digit(mode="RGBA", ink=(0, 0, 0, 0), background=(255, 255, 255, 0)))
    assert image[..., :3].min() == 0 and not image[..., 3].any()
    with pytest.raises(NothingDrawnError):
        to_model_input(image)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_an_array_holding_nan_or_inf_is_refused(bad):
    image = np.asarray(draw_digit(), np.float32) / 255
    image[3, 3] = bad
    with pytest.raises(DrawingError, match="finite"):
        to_model_input(image)


@pytest.mark.parametrize("image", [np.zeros((280, 280, 4), np.uint8), np.full((280, 280), 255, np.uint8),
                                   np.full((50, 50, 3), 128, np.uint8)])
def test_blank_raises(image):
    with pytest.raises(NothingDrawnError, match="Nothing drawn"):
        to_model_input(image)


def test_canvas_full_of_ink_is_blank():
    image = np.zeros((280, 280, 4), np.uint8)
    image[..., :3] = 255
    image[..., 3] = 255
    with pytest.raises(NothingDrawnError):
        to_model_input(image)


def test_single_dot_raises():
    image = np.zeros((280, 280), np.uint8)
    image[140:145, 140:145] = 255
    with pytest.raises(DrawingError, match="only a dot"):
        to_model_input(image)


@pytest.mark.parametrize("pen", [18, 40])
def test_a_tap_of_a_wide_pen_is_a_dot_but_a_small_digit_or_a_short_bar_is_not(pen):
    tap = Image.new("L", (280, 280), 0)
    ImageDraw.Draw(tap).ellipse((140 - pen / 2, 140 - pen / 2, 140 + pen / 2, 140 + pen / 2), fill=255)
    with pytest.raises(DrawingError, match="only a dot"):
        to_model_input(np.asarray(tap))
    small_seven = np.asarray(draw_digit(box=(120, 110, 150, 160), width=6))  # 50 px tall: drawn, not tapped
    bar = np.zeros((280, 280), np.uint8)
    bar[110:160, 130:140] = 255  # a short, thick 1: filled, but no round blob
    for drawing in (small_seven, bar):
        assert to_model_input(drawing).shape == (28, 28)


def test_wrong_array_shape():
    with pytest.raises(DrawingError, match="expected a gray, RGB or RGBA image"):
        to_model_input(np.zeros((10, 10, 2)))


def png_bytes(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", **kwargs)
    return buffer.getvalue()


def test_read_image_formats():
    digit = draw_digit()
    expected = reference()
    sixteen = Image.fromarray(np.asarray(digit).astype(np.uint16) * 257)
    palette = digit.convert("P")
    alpha_only = Image.merge("LA", (Image.new("L", digit.size, 0), digit))
    for image in (digit, sixteen, palette, alpha_only):
        assert np.abs(to_model_input(read_image(png_bytes(image))) - expected).mean() < 0.03, image.mode


@pytest.mark.parametrize("data, message", [
    (b"", "the file is empty"),
    (b"this is not an image at all", "not a readable image"),
])
def test_read_image_refuses_non_images(data, message):
    with pytest.raises(DrawingError, match=message):
        read_image(data)


def test_truncated_png():
    data = png_bytes(draw_digit())
    with pytest.raises(DrawingError, match="damaged or truncated"):
        to_model_input(read_image(data[: len(data) // 2]))


def test_decompression_bomb_is_refused_without_decoding():
    data = bytearray(png_bytes(Image.new("L", (8, 8))))
    ihdr = struct.pack(">II", 20000, 20000) + data[24:29]  # width, height, depth, colour, ...
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    with pytest.raises(DrawingError, match="too large"):
        read_image(bytes(data))
    ihdr = struct.pack(">II", 5000, 5000) + ihdr[8:]  # over our 16 MP limit, under Pillow's
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    with pytest.raises(DrawingError, match=r"too large \(5000x5000 pixels"):
        read_image(bytes(data))


def test_animated_gif_is_refused():
    frames = [draw_digit(), Image.new("L", (280, 280))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    with pytest.raises(DrawingError, match="animated images are not supported"):
        read_image(buffer.getvalue())


def test_read_missing_file(tmp_path):
    with pytest.raises(DrawingError, match="cannot open"):
        read_image(tmp_path / "nope.png")
