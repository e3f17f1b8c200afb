"""In the browser: cold start, stroke → prediction time against a bare canvas, and memory.

    MNIST_PATH=/path/to/mnist.npz python -m bench.measure.server.browser_latency [--strokes 20] [--no-train]

(The training phase needs MNIST: $MNIST_PATH, Keras' cached copy, or the internet.)

1. Cold start: from `streamlit run` to the first prediction shown for a drawing.
2. Stroke latency: mouse up → the page shows the answer for that stroke, median of N strokes,
   for the Draw page and for bench/harness/server/bare_canvas_app.py (the same canvas, no model), measured the
   same way in the same run; prints the ratio. The same for "A number" (the wide canvas; strokes
   at five places, so a number of up to five digits) against the bare app's wide canvas.
3. Memory: RSS of the `streamlit run` process after a browser opened Home, Draw (and drew)
   and Explore, then the peak RSS while a training of the `best` preset (started from the Train
   page, 1 epoch on 20000 images) runs: the server alone and the server plus its training process.
"""

import argparse
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from playwright.sync_api import sync_playwright

from bench.harness.server.browser import RECORD_MOUSEUP, draw_stroke, launch_chromium, streamlit_server, stroke_label


def stroke_latencies(page, count: int, number: bool = False) -> list[float]:
    """Milliseconds from mouse up to 'N strokes' on the page, for strokes 1..count; `number`: on
    the wide canvas, at five places in turn."""
    page.evaluate(RECORD_MOUSEUP)
    times = []
    for n in range(1, count + 1):
        x = 90 + (n % 5) * 150 + (n * 7) % 40 if number else 30 + (n * 11) % 220
        draw_stroke(page, [(x, 40), (x + 10, 120), (x + 5, 230)])
        label = stroke_label(n)
        shown = page.wait_for_function(
            f"() => document.body.innerText.includes({label!r}) && performance.now()", polling="raf", timeout=30_000)
        times.append(shown.json_value() - page.evaluate("window.__up"))
    return times


def rss_mb(process, children: bool = False) -> float:
    server = psutil.Process(process.pid)
    processes = [server] + (server.children(recursive=True) if children else [])
    total = 0
    for each in processes:
        try:
            total += each.memory_info().rss
        except psutil.NoSuchProcess:  # the training process just ended
            pass
    return total / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--strokes", type=int, default=20)
    parser.add_argument("--train", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    store = Path(tempfile.mkdtemp())
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        started = time.perf_counter()
        with streamlit_server(store) as (url, process):
            page.goto(url + "/draw")
            page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
            draw_stroke(page, [(140, 40), (150, 140), (140, 240)])
            page.locator("[data-testid='predicted-digit']").wait_for(timeout=60_000)
            cold = time.perf_counter() - started
            print(f"cold start (streamlit run → first prediction shown): {cold:.2f} s")

            page.goto(url + "/draw")
            page.locator("canvas.upper-canvas").first.wait_for()
            draw_page = stroke_latencies(page, args.strokes)
            page.goto(url + "/draw")
            page.get_by_role("radio", name="A number").click()
            page.get_by_text("Write a number in the black box").wait_for()
            page.wait_for_timeout(1000)  # the component lays itself out again at its new width
            number_page = stroke_latencies(page, args.strokes, number=True)

            for path in ("/", "/explore"):
                page.goto(url + path)
                page.locator("h1").first.wait_for()
                page.wait_for_load_state("networkidle")
                page.wait_for_timeout(1500)
            serving = rss_mb(process)
            print(f"RSS after Home, Draw (drawn) and Explore: {serving:.0f} MB")

            if args.train:
                page.goto(url + "/train")
                page.get_by_label("Preset").click()
                page.get_by_role("option", name=re.compile("^best")).click()
                page.get_by_text("Run name").wait_for()
                page.wait_for_function("() => [...document.querySelectorAll('input')].some("
                                       "i => i.value.startsWith('best-'))")  # the form shows the best preset
                page.get_by_label("Epochs", exact=True).fill("1")
                page.get_by_role("spinbutton", name="Training images (0 = all)", exact=True).fill("20000")
                page.get_by_label("Run name").fill("bench-memory")
                peak, peak_total = [serving], [serving]
                done = threading.Event()

                def sample():
                    while not done.is_set():
                        peak.append(rss_mb(process))
                        peak_total.append(rss_mb(process, children=True))
                        time.sleep(0.2)

                sampler = threading.Thread(target=sample)
                sampler.start()
                page.get_by_role("button", name="Start training").click()
                try:
                    page.get_by_text(re.compile("Saved bench-memory|Training failed")).first.wait_for(
                        timeout=600_000)
                finally:
                    done.set()
                    sampler.join()
                if "Training failed" in page.inner_text("body"):
                    sys.exit("the training failed: " + page.get_by_text("Training failed").first.inner_text())
                print(f"peak RSS while training: server {max(peak):.0f} MB, server + training process "
                      f"{max(peak_total):.0f} MB")

        with streamlit_server(store, script="bench/harness/server/bare_canvas_app.py") as (url, _):
            page.goto(url)
            page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
            bare = stroke_latencies(page, args.strokes)
            page.goto(url + "/?canvas=wide")
            page.locator("canvas.upper-canvas").first.wait_for(timeout=60_000)
            page.wait_for_timeout(1000)  # the component lays itself out again at its new width
            bare_wide = stroke_latencies(page, args.strokes, number=True)
        browser.close()

    for what, ours, base in (("Draw page", draw_page, bare), ("Draw page, A number", number_page, bare_wide)):
        print(f"stroke → answer shown, median of {args.strokes}: {what} {statistics.median(ours):.0f} ms "
              f"(p90 {p90(ours):.0f}), bare canvas {statistics.median(base):.0f} ms (p90 {p90(base):.0f}); "
              f"ratio {statistics.median(ours) / statistics.median(base):.2f}")


def p90(times: list[float]) -> float:
    return sorted(times)[int(0.9 * len(times)) - 1]


if __name__ == "__main__":
    main()
