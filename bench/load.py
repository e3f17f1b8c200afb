"""Many people drawing at once: N headless Chromium sessions against one app server.

    python bench/load.py [--sessions 20] [--seconds 60] [--train]

Each session opens /draw and draws strokes for the given time, one after another, waiting for
the page to show the answer for each stroke (mouse up → "(n strokes)" on the page). Prints the
strokes served, the errors (timeouts, exception boxes), and p50/p95 stroke → answer latency.
With --train, a seed-mlp training runs on the server at the same time.
"""

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.async_api import async_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser import CHROMIUM_ARGS, streamlit_server  # noqa: E402

RECORD_MOUSEUP = "document.addEventListener('mouseup', () => { window.__up = performance.now(); }, true)"


async def open_draw_page(browser, url: str):
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    await page.goto(url + "/draw", timeout=120_000)
    await page.locator("canvas.upper-canvas").first.wait_for(timeout=120_000)
    await page.evaluate(RECORD_MOUSEUP)
    return page


async def session(page, seconds: float, latencies: list, errors: list, index: int) -> None:
    """Draw strokes one after another for `seconds`, timing each until its answer is shown."""
    until = time.time() + seconds
    n = 0
    try:
        canvas = page.locator("canvas.upper-canvas").first
        while time.time() < until:
            if n == 8:  # a fresh drawing now and then, as people do
                await page.get_by_role("button", name="Clear").click()
                await page.get_by_text("Draw a digit in the black box").wait_for(timeout=30_000)
                await canvas.wait_for()
                n = 0
            box = await canvas.bounding_box()
            x = 40 + (n * 29 + index * 7) % 200
            await page.mouse.move(box["x"] + x, box["y"] + 40)
            await page.mouse.down()
            for y in range(60, 241, 30):
                await page.mouse.move(box["x"] + x + (y % 20), box["y"] + y)
            await page.mouse.up()
            n += 1
            label = f"({n} stroke{'s' if n != 1 else ''})"
            try:
                shown = await page.wait_for_function(
                    f"() => document.body.innerText.includes({label!r}) && performance.now()",
                    polling="raf", timeout=15_000)
                latencies.append(await shown.json_value() - await page.evaluate("window.__up"))
            except Exception as exc:  # a timeout is an error: the stroke was never answered
                errors.append(f"session {index}: {type(exc).__name__}")
                n = 8
            if await page.locator("[data-testid='stException']").count():
                errors.append(f"session {index}: exception box on the page")
    except Exception as exc:
        errors.append(f"session {index}: {type(exc).__name__}: {str(exc)[:120]}")


async def run(url: str, sessions: int, seconds: float, train: bool) -> tuple[list, list]:
    latencies, errors = [], []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        if train:
            trainer = await browser.new_page()
            await trainer.goto(url + "/train")
            await trainer.get_by_label("Epochs", exact=True).fill("50")
            await trainer.get_by_label("Run name").fill("load-training")
            await trainer.get_by_role("button", name="Start training").click()
            await trainer.get_by_text("Epoch 1/50").wait_for(timeout=120_000)
        pages = await asyncio.gather(*(open_draw_page(browser, url) for _ in range(sessions)))
        # Everyone is on the page: now all draw at once for the same `seconds`.
        await asyncio.gather(*(session(page, seconds, latencies, errors, i) for i, page in enumerate(pages)))
        if train:
            await trainer.get_by_role("button", name="Stop").click()
            await trainer.get_by_text("Saved load-training").wait_for(timeout=120_000)
        await browser.close()
    return latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--train", action="store_true")
    args = parser.parse_args()
    with streamlit_server(Path(tempfile.mkdtemp())) as (url, _):
        latencies, errors = asyncio.run(run(url, args.sessions, args.seconds, args.train))
    quantiles = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else [float("nan")] * 19
    print(f"{args.sessions} sessions for {args.seconds:.0f} s{' with a training running' if args.train else ''}: "
          f"{len(latencies)} strokes answered, {len(errors)} errors, "
          f"p50 {statistics.median(latencies) if latencies else float('nan'):.0f} ms, p95 {quantiles[18]:.0f} ms")
    for error in errors[:10]:
        print("  error:", error)
    sys.exit(1 if errors or not latencies else 0)


if __name__ == "__main__":
    main()
