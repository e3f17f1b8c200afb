"""The README's screenshots: the Draw page after a person drew a 7 (docs/draw.png) and wrote 2026
as a number (docs/number.png), in headless Chromium.

    python -m bench.tools.screenshot [--out docs] [--width 1280]
"""

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench.harness.drawings.pen_digits import number_strokes
from bench.harness.server.browser import ROOT, draw_stroke, launch_chromium, seven_strokes, streamlit_server, stroke_label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="the folder they are saved in")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=820)
    args = parser.parse_args()
    local = {"MNIST_STUDIO_ACCESS": "local"}  # as the README starts it: one's own machine, no visitor notices
    with tempfile.TemporaryDirectory() as store, streamlit_server(Path(store), env=local) as (url, _), \
            sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto(f"{url}/draw")
        page.locator("canvas.upper-canvas").wait_for()
        for stroke in seven_strokes():
            draw_stroke(page, stroke)
        page.get_by_text(stroke_label(len(seven_strokes()))).wait_for()
        page.wait_for_timeout(500)  # let the answer's images load
        args.out.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out / "draw.png"))
        page.get_by_role("radio", name="A number").click()
        page.get_by_text("Write a number in the black box").wait_for()
        page.wait_for_timeout(1000)  # the canvas lays itself out at its new width
        strokes = number_strokes("2026")
        for stroke in strokes:
            draw_stroke(page, stroke)
        page.get_by_text(stroke_label(len(strokes))).wait_for()
        page.set_viewport_size({"width": args.width, "height": 1300})  # the number, its boxes and its digits
        page.wait_for_timeout(500)
        page.screenshot(path=str(args.out / "number.png"))
        browser.close()
    print(f"saved draw.png and number.png in {args.out}")


if __name__ == "__main__":
    main()
