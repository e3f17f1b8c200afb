"""Uploads are judged by their content, bounded before they are decoded, and read once.

A file comes from the visitor's browser: any content under any name, a picture of any size.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from bench.harness.server.browser import ROOT
from mnist_core.reading.preprocess import DrawingError, read_image, to_model_input
from tests.app.test_hostile_clients import encoded
from tests.support.apptest import answer_card, app_test as app, page_text as texts
from tests.support.data import draw_digit


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "BMP", "WEBP"])
def test_each_accepted_format_is_read(fmt):
    picture = encoded(draw_digit().convert("RGB"), fmt)
    assert np.abs(to_model_input(read_image(picture)) - to_model_input(np.asarray(draw_digit()))).mean() < 0.03


@pytest.mark.parametrize("fmt", ["TIFF", "ICO", "PPM"])
def test_other_formats_are_refused_by_content(fmt):
    with pytest.raises(DrawingError, match="not a readable image: use a PNG, JPEG, GIF, BMP or WEBP file"):
        read_image(encoded(draw_digit(), fmt))


def peak_memory_of_reading(tmp_path, picture: bytes) -> tuple[float, str]:
    """(MB the process's peak RSS grows by while read_image reads `picture`, what it returned)."""
    path = tmp_path / "picture"
    path.write_bytes(picture)
    script = textwrap.dedent(f"""
        import resource
        from mnist_core.reading.preprocess import DrawingError, read_image, to_model_input
        data = open({str(path)!r}, "rb").read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            outcome = str(read_image(data).shape)
        except DrawingError as exc:
            outcome = str(exc)
        print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024, outcome)
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    grown, outcome = result.stdout.split(" ", 1)
    return float(grown), outcome.strip()


def test_a_16_megapixel_jpeg_is_decoded_small(tmp_path):
    big = draw_digit(size=(4096, 4096), box=(1400, 800, 2600, 3300), width=260).convert("RGB")
    grown, outcome = peak_memory_of_reading(tmp_path, encoded(big, "JPEG"))
    assert outcome == "(1024, 1024, 4)"
    assert grown < 30  # decoded whole and converted to RGBA it would take 110 MB


def test_a_16_megapixel_png_is_refused_before_decoding(tmp_path):
    grown, outcome = peak_memory_of_reading(tmp_path, encoded(Image.new("L", (4096, 4096)), "PNG"))
    assert outcome.startswith("the image is too large (4096x4096 pixels; the limit is 4 megapixels, 16 for a JPEG)")
    assert grown < 5


def upload(at, name: str, content: bytes):
    at.file_uploader[0].set_value((name, content, "application/octet-stream")).run()
    assert not at.exception
    return at


def test_uploads_are_judged_by_content_not_by_name(store):
    seven_as_jpeg = encoded(draw_digit(ink=0, background=255).convert("RGB"), "JPEG")
    at = upload(app("draw"), "seven.png", seven_as_jpeg)
    assert "data-testid='predicted-digit'>7<" in answer_card(at)
    upload(at, "seven.png", encoded(draw_digit(), "TIFF"))
    assert "Cannot read seven.png: not a readable image" in texts(at) and answer_card(at) == ""
    upload(at, "huge.png", encoded(Image.new("L", (5000, 5000)), "PNG"))
    assert "Cannot read huge.png: the image is too large (5000x5000 pixels" in texts(at) and answer_card(at) == ""
    upload(at, "bomb.png", encoded(Image.new("1", (20000, 20000)), "PNG"))  # past Pillow's own limit
    assert "Cannot read bomb.png: the image is too large (over 16 megapixels): scale it down first" in texts(at)
    upload(at, "blank.png", encoded(Image.new("L", (1, 1), 255), "PNG"))
    assert "Nothing to read in blank.png: the picture is blank or one flat colour." in texts(at)
    assert answer_card(at) == "" and not any("Draw a digit" in text for text in texts(at))


def test_an_upload_is_decoded_once_however_often_the_page_reruns(store, monkeypatch):
    from ui.drawing import uploads

    calls = []
    monkeypatch.setattr(uploads, "read_image", lambda data: calls.append(len(data)) or read_image(data))
    at = upload(app("draw"), "seven.png", encoded(draw_digit(), "PNG"))
    at.slider[0].set_value(30).run()
    at.run()
    assert "data-testid='predicted-digit'>7<" in answer_card(at)
    assert len(calls) == 1
    upload(at, "other.png", encoded(draw_digit(box=(60, 40, 200, 240)), "PNG"))
    assert len(calls) == 2
