"""What a client sends is bounded before it is decoded; visitors see no tracebacks or paths.

The canvas's value comes from the visitor's browser, and a script can send anything in its
place: a PNG of 80 megapixels in 315 kB, a value of the wrong shape (uploads: test_hostile_uploads.py).
"""

import io
import json
import re
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from bench.harness.server.browser import ROOT, rerun_message, shows_exception, streamlit_server
from bench.harness.server.hostile_clients import blank_png
from mnist_core.reading.preprocess import DrawingError, read_canvas_png, to_model_input
from ui.redact import without_paths
from tests.support.data import draw_digit
from tests.support.apptest import app_test as app
from tests.support.apptest import answer_card, canvas_value, page_text as texts


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def canvas_png() -> bytes:
    """What the canvas sends for a drawn 7: 280x280 RGBA, the ink in alpha."""
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = 255, np.asarray(draw_digit())
    return encoded(Image.fromarray(rgba), "PNG")


# --- the canvas -------------------------------------------------------------------------------

def test_the_canvas_own_png_is_read():
    image = read_canvas_png(canvas_png(), (280, 280))
    assert image.shape == (280, 280, 4) and image.dtype == np.uint8
    assert np.abs(to_model_input(image) - to_model_input(np.asarray(draw_digit()))).max() < 1e-6


def test_an_80_megapixel_canvas_png_is_refused_from_its_header():
    png = blank_png(9000, 9000)
    assert Image.open(io.BytesIO(png)).size == (9000, 9000)  # a real PNG that Pillow would decode
    tracemalloc.start()
    try:
        with pytest.raises(DrawingError, match="the canvas sent a 9000x9000 image, not its 280x280 drawing"):
            read_canvas_png(png, (280, 280))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100_000  # decoded, it would be 324 MB


@pytest.mark.parametrize("data", [blank_png(281, 280), encoded(draw_digit().convert("RGB"), "JPEG"),
                                  b"", b"\x89PNG\r\n\x1a\n", b"not an image at all, but long enough"])
def test_anything_but_a_png_of_the_canvas_size_is_refused(data):
    with pytest.raises(DrawingError, match="the canvas sent"):
        read_canvas_png(data, (280, 280))


def test_a_truncated_canvas_png_is_refused_with_a_message():
    with pytest.raises(DrawingError, match="damaged or truncated"):
        read_canvas_png(canvas_png()[:200], (280, 280))


def test_canvas_values_of_the_wrong_shape_get_no_traceback(store):
    at = app("draw")
    for value in ({"drawing": "x"}, {"drawing": {"raw": "x", "data": 5}},
                  {"drawing": {"raw": {"objects": 3}, "data": "data:image/png;base64,@@@"}},
                  {"drawing": {"raw": {"objects": []}, "data": "no data url"}},
                  {"drawing": None, "backgroundFit": {"naturalWidth": 1}}):
        at.session_state["canvas-0"] = value
        at.run()
        assert not at.exception, value
        shown = texts(at)
        assert "Draw a digit in the black box" in shown or "Cannot read the drawing: the canvas sent" in shown, value
        assert answer_card(at) == ""
    at.session_state["canvas-0"] = canvas_value(canvas_png())  # and the page still reads a real drawing
    at.run()
    assert "data-testid='predicted-digit'>7<" in answer_card(at)


# --- what visitors are told -------------------------------------------------------------------

@pytest.mark.parametrize("message, shown", [
    ("/srv/app/runs/x/model.onnx: not a usable ONNX model", "model.onnx: not a usable ONNX model"),
    ("[Errno 13] Permission denied: '/srv/app/runs/x/card.json'", "[Errno 13] Permission denied: 'card.json'"),
    ("could not save 'x' in /srv/app/runs: disk full", "could not save 'x' in runs: disk full"),
    ("run name 'a/b' may not contain '/', '\\\\' or '..'", "run name 'a/b' may not contain '/', '\\\\' or '..'"),
    ("offline: https://storage.googleapis.com/x/mnist.npz", "offline: https://storage.googleapis.com/x/mnist.npz"),
])
def test_messages_lose_the_server_folders(message, shown):
    assert without_paths(message) == shown


def test_a_model_that_cannot_load_is_named_without_the_server_path(store):
    (store / "broken").mkdir(parents=True)
    (store / "broken" / "card.json").write_text(json.dumps({"test_accuracy": 0.5}))
    (store / "broken" / "model.onnx").write_bytes(b"\x00" * 100)
    at = app()
    at.session_state["active_model"] = "broken"
    at.switch_page(str(ROOT / "pages" / "draw.py")).run()
    assert "Model 'broken' cannot be loaded: model.onnx: not a usable ONNX model" in texts(at)
    assert str(store) not in texts(at) and not at.exception


def test_an_uncaught_error_shows_visitors_no_message_and_no_traceback():
    """.streamlit/config.toml's client.showErrorDetails, as `streamlit run` reads it here."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_string("raise RuntimeError('cannot open /srv/secret/mnist.npz')").run()
    assert at.exception[0].message.startswith("This app has encountered an error. The original error message is "
                                              "redacted")
    assert at.exception[0].stack_trace == []


def test_every_option_in_the_streamlit_config_exists():
    """A misspelt option would be ignored without a word (and leave, say, tracebacks on)."""
    import tomllib

    import streamlit as st

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    for section, options in config.items():
        for option, value in options.items():
            assert st.get_option(f"{section}.{option}") == value, f"{section}.{option}"


# --- a real server, spoken to as a script can ---------------------------------------------------

def run_frames(connection) -> list[bytes]:
    """The server's messages up to the end of the script run."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    frames = [connection.recv(timeout=60)]
    while ForwardMsg.FromString(frames[-1]).WhichOneof("type") != "script_finished":
        frames.append(connection.recv(timeout=60))
    return frames


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far, in bytes (Linux's VmHWM)."""
    status = open(f"/proc/{pid}/status").read()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024


def open_draw_page(connection, url: str) -> str:
    """Run /draw; the canvas widget's id."""
    connection.send(rerun_message(url))
    while True:  # the first run on a fresh server reruns itself (ui/deep_link.py)
        found = re.search(rb"\$\$ID-[0-9a-f]+-canvas-0", b"".join(run_frames(connection)))
        if found:
            return found.group().decode()


def send_canvas(connection, url: str, canvas_id: str, value: dict) -> bytes:
    """Send the canvas `value` as the browser does; what the server sends back, joined."""
    connection.send(rerun_message(url, "draw", canvas_id, json.dumps(value)))
    frames = run_frames(connection)
    assert not any(shows_exception(frame) for frame in frames)
    return b"".join(frames)


def test_a_server_under_hostile_canvas_payloads(tmp_path):
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    with streamlit_server(tmp_path / "store") as (url, process):
        socket_url = url.replace("http", "ws") + "/_stcore/stream"
        with connect(socket_url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as connection:
            canvas_id = open_draw_page(connection, url)
            assert b"predicted-digit'>7<" in send_canvas(connection, url, canvas_id, canvas_value(canvas_png()))
            before = peak_rss(process.pid)
            for _ in range(3):
                answer = send_canvas(connection, url, canvas_id, canvas_value(blank_png(9000, 9000)))
                assert peak_rss(process.pid) - before < 50 * 2**20  # decoded: 324 MB or more
                assert b"Cannot read the drawing: the canvas sent a 9000x9000 image" in answer
                assert b"predicted-digit" not in answer
        with connect(socket_url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as connection:
            canvas_id = open_draw_page(connection, url)
            junk = {"drawing": {"raw": {"objects": [0] * 2_000_000}, "data": None}}  # 6 MB of JSON
            connection.send(rerun_message(url, "draw", canvas_id, json.dumps(junk)))
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    connection.recv(timeout=60)
            assert closed.value.rcvd.code == 1009  # message too big: refused unparsed


@pytest.mark.slow  # a server and a few sessions that each upload a 16-megapixel JPEG
def test_sessions_that_uploaded_a_large_picture_and_sit_idle(tmp_path):
    """bench/measure/server/cloud.py's idle phase, briefly: each session's upload is read (the page's
    picture uploader, not its .npz one), and the server's memory grows by less than what the
    decoded pictures would take if each session kept its own (4 MB each; 1,141 MB for 200 sessions
    before they were cached for the server, 363 MB since)."""
    import asyncio

    from bench.harness.server.idle_uploads import idle_uploaders

    import time

    def rss() -> int:
        time.sleep(2)  # the last reruns' buffers are given back
        return int(re.search(r"VmRSS:\s+(\d+) kB", open(f"/proc/{process.pid}/status").read()).group(1)) * 1024

    with streamlit_server(tmp_path / "store") as (url, process):
        held = {}
        asyncio.run(idle_uploaders(url, 2, lambda: None))  # the page and the model are loaded once
        before = rss()
        tally = asyncio.run(idle_uploaders(url, 16, lambda: held.setdefault("rss", rss())))
        assert dict(tally.upload) == {"huge.jpg: read": 16} and not tally.problems
        assert held["rss"] - before < 16 * 4 * 2**20, (held["rss"] - before) / 2**20
