"""End to end: a whole number written on the Draw page's wide canvas, on a desktop and on a phone.

Screenshots land in test-artifacts/.
"""

import numpy as np
import pytest
from playwright.sync_api import expect

from bench.harness.browser import draw_stroke, touch_stroke
from tests.e2e.test_e2e import SHOTS, browser, open_page, page, playwright, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.mnist]


def one_seven_zero(scale: float = 1.0) -> list[list[tuple[float, float]]]:
    """1, 7 and 0 side by side on an 840x280 canvas (scaled for a smaller one), as a person writes them."""
    one = [(130, 45 + 10 * i) for i in range(20)]
    seven = [(250 + 6 * i, 50) for i in range(21)] + [(370 - 4 * i, 50 + 10 * i) for i in range(20)]
    t = np.linspace(0, 2 * np.pi, 40)
    zero = [(560 + 60 * np.sin(a), 140 - 95 * np.cos(a)) for a in t]
    return [[(x * scale, y * scale) for x, y in stroke] for stroke in (one, seven, zero)]


def switch_to_a_number(page, server):
    open_page(page, server, "/draw")
    page.get_by_role("radio", name="A number").click()
    expect(page.get_by_text("Write a number in the black box")).to_be_visible()
    return page.locator("canvas.upper-canvas").first


def test_a_number_is_read_digit_by_digit_with_its_boxes(page, server):
    canvas = switch_to_a_number(page, server)
    assert canvas.bounding_box()["width"] == pytest.approx(840, abs=2)
    strokes = one_seven_zero()
    draw_stroke(page, strokes[0])
    expect(page.get_by_test_id("number")).to_have_text("1", timeout=15_000)
    for stroke in strokes[1:]:
        draw_stroke(page, stroke)
    expect(page.get_by_test_id("number")).to_have_text("170", timeout=15_000)
    boxes = page.get_by_test_id("number-box")
    expect(boxes).to_have_count(3)
    picture = boxes.first.locator("xpath=..").bounding_box()
    xs = [(boxes.nth(i).bounding_box()["x"] - picture["x"]) * 840 / picture["width"] for i in range(3)]
    assert xs[0] < 130 < xs[1] < 250 < xs[2] < 500  # each box on its digit's ink, in canvas pixels
    expect(page.get_by_test_id("number-digit")).to_have_count(3)
    expect(page.get_by_role("button", name="Teach")).to_have_count(3)
    page.screenshot(path=SHOTS / "draw-number.png", full_page=True)
    page.get_by_role("button", name="Teach").nth(1).click()  # the 7's: teaching works per digit
    page.get_by_role("button", name="Right, it's a 7").click()
    expect(page.get_by_text("✓ In your digits").first).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("number")).to_have_text("170")  # the number stays to teach its other digits
    assert page.locator("[data-testid='stException']").count() == 0


def test_on_a_phone_the_number_stays_in_view_above_a_canvas_that_fits(playwright, browser, server):
    phone = browser.new_context(**playwright.devices["Pixel 7"])
    page = phone.new_page()
    try:
        canvas = switch_to_a_number(page, server)
        box = canvas.bounding_box()
        assert box["width"] <= page.viewport_size["width"] and box["width"] == pytest.approx(3 * box["height"], abs=3)
        for stroke in one_seven_zero(box["width"] / 840):
            touch_stroke(page, stroke)
        line = page.get_by_test_id("answer-on-a-phone").first
        expect(line).to_contain_text("Reads 170", timeout=15_000)
        assert line.bounding_box()["y"] < canvas.bounding_box()["y"]  # above the canvas, in view while writing
        page.screenshot(path=SHOTS / "draw-number-phone.png")
    finally:
        phone.close()
