"""People drawing on /draw at once: websocket clients or headless Chromium tabs, each drawing stroke
after stroke at a person's pace and timing each answer (how, in bench/measure/server/load.py's docstring).

Shared by bench.measure.server.load and bench.measure.server.cloud.
"""

import asyncio
import base64
import io
import json
import random
import re
import statistics
import time

from PIL import Image, ImageDraw
from playwright.async_api import async_playwright
from websockets.asyncio.client import connect

from bench.harness.server.browser import (RECORD_MOUSEUP, fragment_of, launch_chromium, rerun_message, shows_exception,
                                   stroke_label)
from bench.harness.server.profile import print_profile


async def open_draw_page(browser, url: str):
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    page = await context.new_page()
    await page.goto(url + "/draw", timeout=120_000)
    await page.locator("canvas.upper-canvas").first.wait_for(timeout=120_000)
    await page.evaluate(RECORD_MOUSEUP)
    return page


def stroke_path(index: int, n: int) -> list[tuple[float, float]]:
    """The n-th stroke of session `index`: a vertical zig-zag somewhere on the canvas."""
    x = 40 + (n * 29 + index * 7) % 200
    return [(x + (y % 20), y) for y in range(40, 241, 30)]


def canvas_value(index: int, strokes: int) -> str:
    """What the canvas sends after `strokes` strokes: fabric.js paths and the PNG of the drawing."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    draw = ImageDraw.Draw(image)
    objects = []
    for n in range(strokes):
        points = stroke_path(index, n)
        draw.line(points, fill=(255, 255, 255, 255), width=18, joint="curve")
        objects.append({"type": "Path", "stroke": "#FFFFFF", "strokeWidth": 18, "strokeLineCap": "round",
                        "path": [["M", *points[0]]] + [["Q", x, y, x, y] for x, y in points[1:]]})
    png = io.BytesIO()
    image.save(png, "PNG")
    data = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()
    return json.dumps({"drawing": {"raw": {"version": "7.4.0", "objects": objects, "background": "#000000"},
                                   "data": data}})


async def ws_session(url: str, seconds: float, pace: tuple, latencies: list, errors: list, index: int,
                     start: asyncio.Event, reruns: str = "fragment") -> None:
    """One websocket client: open /draw, then on `start` draw strokes for `seconds`. Each stroke
    reruns the canvas's fragment, as a browser does (`reruns="fragment"`), or the whole page."""
    values = [canvas_value(index, n) for n in range(1, 9)]  # rendered before any timing
    try:
        connection = await connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                   max_size=None, open_timeout=60)
        await connection.send(rerun_message(url))
        canvas_id = fragment = None
        while canvas_id is None:
            frame = await connection.recv()
            found = re.search(rb"\$\$ID-[0-9a-f]+-canvas-0", frame)
            canvas_id = found and found.group().decode()
        if reruns == "fragment":
            fragment = fragment_of(frame, canvas_id.encode())
            assert fragment, "the canvas is drawn outside a fragment"
    except Exception as exc:
        errors.append(f"session {index}: could not open /draw: {type(exc).__name__}: {exc}")
        return
    await start.wait()
    until, n = time.time() + seconds, 0
    while time.time() < until:
        await asyncio.sleep(random.uniform(*pace))  # drawing the stroke
        n = n % 8 + 1  # after 8 strokes the person clears the canvas and starts again
        label = stroke_label(n).encode()
        sent = time.perf_counter()
        await connection.send(rerun_message(url, "draw", canvas_id, values[n - 1], fragment or ""))
        try:
            while True:
                frame = await asyncio.wait_for(connection.recv(), 15)
                if shows_exception(frame):
                    errors.append(f"session {index}: exception on the page")
                if label in frame:
                    latencies.append((time.perf_counter() - sent) * 1000)
                    break
        except Exception as exc:  # a time-out is an error: the stroke was never answered
            errors.append(f"session {index}: {type(exc).__name__}: {exc}")
            return
    await connection.close()


async def session(page, seconds: float, pace: tuple, latencies: list, errors: list, index: int) -> None:
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
            await asyncio.sleep(random.uniform(*pace))  # drawing the stroke
            box = await canvas.bounding_box()
            points = stroke_path(index, n)
            await page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
            await page.mouse.down()
            for x, y in points[1:]:
                await page.mouse.move(box["x"] + x, box["y"] + y)
            await page.mouse.up()
            n += 1
            label = stroke_label(n)
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


async def run(url: str, server, args) -> tuple[list, list, float, float]:
    """Everyone opens /draw first, then all draw at once for the same time; returns the latencies,
    the errors, the server's CPU seconds spent while they drew and its RSS (MB) at the end."""
    latencies, errors = [], []
    pace = (args.pace, 2 * args.pace)
    async with async_playwright() as playwright:
        browser = await launch_chromium(playwright)
        if args.train:
            trainer = await browser.new_page()
            await trainer.goto(url + "/train")
            # a visitor, as every browser is unless the server's starter says otherwise: 30 epochs of
            # seed-mlp fit its 5 CPU-minutes (50 would be refused), and outlast the drawing anyway
            await trainer.get_by_label("Epochs", exact=True).fill("30")
            await trainer.get_by_label("Run name").fill("load-training")
            await trainer.get_by_role("button", name="Start training").click()
            await trainer.get_by_text("Epoch 1/30").wait_for(timeout=120_000)
        if args.clients == "ws":
            start = asyncio.Event()
            clients = [asyncio.create_task(ws_session(url, args.seconds, pace, latencies, errors, i, start, args.reruns))
                       for i in range(args.sessions)]
            await asyncio.sleep(2 + args.sessions * 0.2)  # every client has opened /draw
            cpu = server.cpu_times()
            start.set()
            await asyncio.gather(*clients)
        else:
            pages = await asyncio.gather(*(open_draw_page(browser, url) for _ in range(args.sessions)))
            cpu = server.cpu_times()
            await asyncio.gather(*(session(page, args.seconds, pace, latencies, errors, i)
                                   for i, page in enumerate(pages)))
        after = server.cpu_times()
        rss = server.memory_info().rss / 2**20
        if args.train:
            await trainer.get_by_role("button", name="Stop", exact=True).click()  # not "Help for Early stopping"
            # saving evaluates the run and maps its test set: minutes on two busy cores
            await trainer.get_by_text("Saved load-training").first.wait_for(timeout=600_000)
        await browser.close()
    return latencies, errors, (after.user + after.system) - (cpu.user + cpu.system), rss


def p95(latencies: list) -> float:
    return statistics.quantiles(latencies, n=20)[18] if len(latencies) > 1 else float("inf")


def stroke_figures(latencies: list, errors: list, cpu: float) -> str:
    """What run() measured, in words: strokes answered, errors, p50/p95 stroke → answer, CPU a stroke."""
    p50 = statistics.median(latencies) if latencies else float("nan")
    return (f"{len(latencies)} strokes answered, {len(errors)} errors, p50 {p50:.0f} ms, p95 {p95(latencies):.0f} ms, "
            f"server CPU {1000 * cpu / max(1, len(latencies)):.1f} ms per stroke")


def print_errors_and_profile(errors: list, profile) -> None:
    for error in errors[:10]:
        print("  error:", error)
    if profile:
        print_profile(profile)
