"""Start the app with `streamlit run` and drive it in Debian's headless Chromium, or speak
Streamlit's websocket protocol to it directly, as a script (or a hostile client) can.

Shared by the end-to-end tests and the benchmarks under bench/.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from bench.harness.paths import ROOT

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]


RECORD_MOUSEUP = "document.addEventListener('mouseup', () => { window.__up = performance.now(); }, true)"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def streamlit_server(store: Path, script: str = "streamlit_app.py", env: dict | None = None, timeout: float = 60,
                     address: str = "127.0.0.1", log: Path | None = None):
    """A `streamlit run` process on a free port, listening on `address`, its terminal output in
    `log` if given; yields (base URL on 127.0.0.1, process)."""
    port = free_port()
    environment = {**os.environ, "MNIST_STORE_DIR": str(store), "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    output = open(log, "wb") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port), "--server.headless", "true",
         "--server.address", address], cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
    if log is not None:
        output.close()  # the child has its own copy
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                if time.time() > deadline or process.poll() is not None:
                    raise RuntimeError(f"streamlit did not start on {url}")
                time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def launch_chromium(playwright):
    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed: apt-get install -y chromium"
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def stroke_label(n: int) -> str:
    """How the Draw page (and the bare canvas app) say that n strokes were read: "(3 strokes)"."""
    return f"({n} stroke{'s' if n != 1 else ''})"


def draw_stroke(page, points: list[tuple[float, float]], canvas_index: int = 0) -> None:
    """Drag the mouse through `points` (canvas pixel coordinates) on the drawable canvas."""
    box = page.locator("canvas.upper-canvas").nth(canvas_index).bounding_box()
    page.mouse.move(box["x"] + points[0][0], box["y"] + points[0][1])
    page.mouse.down()
    for x, y in points[1:]:
        page.mouse.move(box["x"] + x, box["y"] + y, steps=2)
    page.mouse.up()


def touch_stroke(page, points: list[tuple[float, float]], canvas_index: int = 0, box: dict | None = None) -> None:
    """Draw `points` with a finger: real touch events (Chrome DevTools), as a phone sends them;
    `box`: where the finger believes the canvas is (default: where it is now)."""
    box = box or page.locator("canvas.upper-canvas").nth(canvas_index).bounding_box()
    devtools = page.context.new_cdp_session(page)
    for kind, (x, y) in [("touchStart", points[0]), *[("touchMove", p) for p in points[1:]]]:
        devtools.send("Input.dispatchTouchEvent",
                      {"type": kind, "touchPoints": [{"x": box["x"] + x, "y": box["y"] + y}]})
    devtools.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    devtools.detach()


def seven_strokes() -> list[list[tuple[float, float]]]:
    """A 7 as a person draws it: the top bar, then the diagonal."""
    top = [(80 + 6 * i, 60) for i in range(21)]
    diagonal = [(200 - 4 * i, 60 + 9 * i) for i in range(20)]
    return [top + diagonal]


def rerun_message(url: str, page: str = "draw", widget_id: str | None = None, json_value: str | None = None,
                  fragment_id: str = "") -> bytes:
    """What a browser sends to run `page`, optionally with one widget's new value (as JSON); with
    `fragment_id`, only that fragment reruns, as when the widget is inside it."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    message = BackMsg()
    message.rerun_script.page_name = page
    message.rerun_script.context_info.url = f"{url}/{page}"
    message.rerun_script.fragment_id = fragment_id
    if widget_id:
        widget = message.rerun_script.widget_states.widgets.add()
        widget.id, widget.json_value = widget_id, json_value
    return message.SerializeToString()


def fragment_of(frame: bytes, key: bytes) -> str | None:
    """The fragment that holds the element `key` appears in, if `frame` draws it ("" outside any)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg.FromString(frame)
    if message.WhichOneof("type") != "delta" or key not in frame:
        return None
    return message.delta.fragment_id


def shows_exception(frame: bytes) -> bool:
    """Whether a message from the server puts an exception box on the page."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg.FromString(frame)
    return (message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element"
            and message.delta.new_element.WhichOneof("type") == "exception")
