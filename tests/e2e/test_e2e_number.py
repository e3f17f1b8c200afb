"""End to end: 2026 written on the Draw page's wide canvas, on a desktop and with a finger on a phone.

Screenshots land in test-artifacts/.
"""

import pytest
from playwright.sync_api import expect

from bench.harness.server.browser import draw_stroke, stroke_label, touch_stroke
from bench.harness.drawings.pen_digits import number_strokes
from tests.e2e.test_e2e import SHOTS, browser, open_page, page, playwright, server  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.e2e, pytest.mark.mnist]


def twenty_twenty_six(scale: float = 1.0) -> list[list[tuple[float, float]]]:
    """2026 written on an 840x280 canvas (scaled for a smaller one): digits 114 px wide, 40 px apart."""
    return number_strokes("2026", height=190 * scale, top=45 * scale, left=60 * scale, gap=40 * scale)


def along(stroke: list[tuple[float, float]], step: float = 3.0) -> list[tuple[float, float]]:
    """The points a finger sends along a stroke, every few pixels: the canvas's brush rounds the
    corners of a stroke given by its corners alone (a 2 then reads as a 7)."""
    points = [stroke[0]]
    for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
        steps = max(1, int(((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 / step))
        points += [(x0 + (x1 - x0) * k / steps, y0 + (y1 - y0) * k / steps) for k in range(1, steps + 1)]
    return points


def switch_to_a_number(page, server):
    open_page(page, server, "/draw")
    page.get_by_role("radio", name="A number").click()
    expect(page.get_by_text("Write a number in the black box")).to_be_visible()
    return page.locator("canvas.upper-canvas").first


def test_a_number_is_read_digit_by_digit_with_its_boxes(page, server):
    canvas = switch_to_a_number(page, server)
    assert canvas.bounding_box()["width"] == pytest.approx(840, abs=2)
    strokes = twenty_twenty_six()
    draw_stroke(page, strokes[0])
    expect(page.get_by_test_id("number")).to_have_text("2", timeout=15_000)
    for stroke in strokes[1:]:
        draw_stroke(page, stroke)
    expect(page.get_by_test_id("number")).to_have_text("2026", timeout=15_000)
    boxes = page.get_by_test_id("number-box")
    expect(boxes).to_have_count(4)
    picture = boxes.first.locator("xpath=..").bounding_box()
    lefts = [(boxes.nth(i).bounding_box()["x"] - picture["x"]) * 840 / picture["width"] for i in range(4)]
    assert all(60 + 154 * k - 5 < left < 60 + 154 * k + 40 for k, left in enumerate(lefts))  # each on its digit's ink
    expect(page.get_by_test_id("number-digit")).to_have_count(4)
    expect(page.get_by_role("button", name="Teach")).to_have_count(4)
    page.screenshot(path=SHOTS / "draw-number.png", full_page=True)
    page.get_by_role("button", name="Teach").nth(3).click()  # the 6's: teaching works per digit
    page.get_by_role("button", name="Right, it's a 6").click()
    expect(page.get_by_text("✓ In your digits").first).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("number")).to_have_text("2026")  # the number stays to teach its other digits
    assert page.locator("[data-testid='stException']").count() == 0


def test_on_a_phone_the_number_stays_in_view_above_a_canvas_that_fits(playwright, browser, server):
    phone = browser.new_context(**playwright.devices["Pixel 7"])
    page = phone.new_page()
    try:
        canvas = switch_to_a_number(page, server)
        box = canvas.bounding_box()
        assert box["width"] <= page.viewport_size["width"] and box["width"] == pytest.approx(3 * box["height"], abs=3)
        for n, stroke in enumerate(twenty_twenty_six(box["width"] / 840), start=1):
            touch_stroke(page, along(stroke))
            # a person lifts the finger and looks: a touch begun while the canvas redraws after the
            # last stroke can start from that stroke's end (the component's, seen here as a stray line)
            expect(page.get_by_text(stroke_label(n))).to_be_attached(timeout=15_000)
        line = page.get_by_test_id("answer-on-a-phone").first
        expect(line).to_contain_text("Reads 2026", timeout=15_000)
        assert line.bounding_box()["y"] < canvas.bounding_box()["y"]  # above the canvas, in view while writing
        page.screenshot(path=SHOTS / "draw-number-phone.png")
    finally:
        phone.close()
