"""Hostile clients of the Draw page, speaking Streamlit's protocol as any script can.

Each second a client sends an 81-megapixel PNG (315 kB) as the canvas's value over the websocket,
then uploads a 4096x4096 picture (16 megapixels; a JPEG and a PNG in turn) through the endpoint
st.file_uploader uses and makes it the uploader's value. The upload takes the browser's three
steps: a file_urls_request on the websocket (the server answers with a file id and URL), a
multipart PUT to /_stcore/upload_file/<session>/<file id> with the XSRF cookie and header, then a
rerun whose uploader state names the file. Old files are never deleted, as a hostile client would
not bother to.
"""

import asyncio
import base64
import functools
import io
import json
import re
import struct
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

from bench.harness.server.browser import rerun_message, shows_exception

ANSWER_TIMEOUT = 30  # seconds for the server to finish a rerun or answer a request
XSRF_COOKIE = "_streamlit_xsrf"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@functools.cache
def blank_png(width: int, height: int) -> bytes:
    """A valid, fully transparent RGBA PNG of any size: 9000x9000 is 81 megapixels (324 MB decoded)
    in 315 kB. Compressed a row at a time, so making it costs no memory either."""
    row, compressor = b"\0" * (1 + 4 * width), zlib.compressobj()
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def png_data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


@functools.cache
def huge_canvas_value() -> str:
    """The canvas's value after one stroke (its JSON), with the 81-megapixel PNG as the drawing."""
    data = png_data_url(blank_png(9000, 9000))
    return json.dumps({"drawing": {"raw": {"version": "7.4.0", "objects": [{"type": "path"}], "background": "#000000"},
                                   "data": data}})


@functools.cache
def uploads() -> tuple[tuple[str, bytes, str], ...]:
    """(file name, content, type): a 4096x4096 picture of a 7 in dark ink on light paper, as a JPEG and as a PNG."""
    picture = Image.new("L", (4096, 4096), 235)
    ImageDraw.Draw(picture).line([(1400, 800), (2600, 800), (1800, 3300)], fill=20, width=260, joint="curve")
    files = []
    for name, fmt, kind in (("huge.jpg", "JPEG", "image/jpeg"), ("huge.png", "PNG", "image/png")):
        buffer = io.BytesIO()
        picture.save(buffer, fmt)
        files.append((name, buffer.getvalue(), kind))
    return tuple(files)


@dataclass
class Tally:
    """How the server answered what one hostile client sent ('refused', 'read', ...)."""
    canvas: Counter = field(default_factory=Counter)
    upload: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)

    def __str__(self) -> str:
        return (f"81-MP canvas payloads {dict(self.canvas)}; 16-MP uploads {dict(self.upload)}"
                + (f"; stopped early: {self.problems[0]}" if self.problems else ""))

    def each_refused_or_read(self) -> bool:
        answers = [*self.canvas, *self.upload]
        return bool(answers) and all(a.endswith(("refused", "read")) for a in answers) and not self.problems


def answer(frames: list[bytes]) -> str:
    """How the page answered a rerun: an exception box, a prediction, a refusal, or something else."""
    if any(shows_exception(frame) for frame in frames):
        return "exception"
    if any(b"predicted-digit" in frame for frame in frames):
        return "read"
    return "refused" if any(b"Cannot read " in frame for frame in frames) else "other"


async def until(connection, kind: str) -> list[bytes]:
    """Frames from the server up to and including the first of type `kind`; a run that ends only
    to rerun (as a deep link's first run does) is not the end of a run."""
    frames = []
    async with asyncio.timeout(ANSWER_TIMEOUT):
        while True:
            frames.append(await connection.recv())
            message = ForwardMsg.FromString(frames[-1])
            if message.WhichOneof("type") == kind and not (
                    kind == "script_finished" and message.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN):
                return frames


def xsrf_cookie(url: str) -> str:
    """The XSRF token the server sets on any page (the browser echoes it in a header)."""
    with urllib.request.urlopen(url + "/_stcore/health", timeout=ANSWER_TIMEOUT) as response:
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            if name.strip() == XSRF_COOKIE:
                return rest.split(";")[0]
    return ""


def put(upload_url: str, token: str, name: str, content: bytes, kind: str) -> int:
    """PUT one file as the browser does (a multipart form with one file); the HTTP status."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: {kind}\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(upload_url, data=body, method="PUT", headers={
        "Content-Type": f"multipart/form-data; boundary={boundary}", "X-Xsrftoken": token,
        "Cookie": f"{XSRF_COOKIE}={token}"})
    try:
        with urllib.request.urlopen(request, timeout=ANSWER_TIMEOUT) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def widget_ids(frames: list[bytes]) -> tuple[str | None, str | None, str | None]:
    """(session id, canvas widget id, picture uploader's widget id) from the frames of a first run
    of /draw (the page has another uploader, for a person's digits as .npz: not that one)."""
    session = canvas = uploader = None
    for frame in frames:
        message = ForwardMsg.FromString(frame)
        if message.WhichOneof("type") == "new_session":
            session = message.new_session.initialize.session_id
        elif message.WhichOneof("type") == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            if element.WhichOneof("type") == "file_uploader" and ".png" in element.file_uploader.type:
                uploader = element.file_uploader.id
        found = re.search(rb"\$\$ID-[0-9a-f]+-canvas-0", frame)  # the canvas's widget id, as drawing_sessions finds it
        canvas = found.group().decode() if found else canvas
    return session, canvas, uploader


async def send_upload(connection, url: str, session: str, uploader: str, token: str, n: int, tally: Tally) -> None:
    name, content, kind = uploads()[n % 2]
    request = BackMsg()
    request.file_urls_request.request_id = uuid.uuid4().hex
    request.file_urls_request.session_id = session
    request.file_urls_request.file_names.append(name)
    await connection.send(request.SerializeToString())
    reply = ForwardMsg.FromString((await until(connection, "file_urls_response"))[-1]).file_urls_response
    urls = reply.file_urls[0]
    status = await asyncio.to_thread(put, url + urls.upload_url, token, name, content, kind)
    if status != 204:
        tally.upload[f"{name}: HTTP {status}"] += 1
        return
    message = BackMsg.FromString(rerun_message(url))
    widget = message.rerun_script.widget_states.widgets.add()
    widget.id = uploader
    info = widget.file_uploader_state_value.uploaded_file_info.add()
    info.file_id, info.name, info.size = urls.file_id, name, len(content)
    info.file_urls.CopyFrom(urls)
    await connection.send(message.SerializeToString())
    tally.upload[f"{name}: {answer(await until(connection, 'script_finished'))}"] += 1


async def hostile_client(url: str, stop: asyncio.Event, tally: Tally) -> None:
    """Open /draw, then once a second send the huge canvas payload and a huge upload, until `stop`."""
    try:
        token = await asyncio.to_thread(xsrf_cookie, url)
        connection = await connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                                   max_size=None, open_timeout=ANSWER_TIMEOUT)
        await connection.send(rerun_message(url))
        session, canvas, uploader = widget_ids(await until(connection, "script_finished"))
        if not (session and canvas and uploader):
            raise RuntimeError(f"/draw lacks a session id, canvas or uploader: {session}, {canvas}, {uploader}")
        n = 0
        while not stop.is_set():
            started = time.monotonic()
            await connection.send(rerun_message(url, "draw", canvas, huge_canvas_value()))
            tally.canvas[answer(await until(connection, "script_finished"))] += 1
            await send_upload(connection, url, session, uploader, token, n, tally)
            n += 1
            try:
                await asyncio.wait_for(stop.wait(), max(0.0, 1 - (time.monotonic() - started)))
            except TimeoutError:
                pass
        await connection.close()
    except Exception as exc:  # the bench reports it; a hostile client that stops early tests less
        tally.problems.append(f"{type(exc).__name__}: {exc}"[:200])


async def while_attacking(url: str, work, clients: int = 2) -> tuple:
    """Await the coroutine `work` while `clients` hostile clients attack; (its result, their tallies)."""
    stop, tallies = asyncio.Event(), [Tally() for _ in range(clients)]
    attacks = [asyncio.create_task(hostile_client(url, stop, tally)) for tally in tallies]
    try:
        return await work, tallies
    finally:
        stop.set()
        await asyncio.wait(attacks, timeout=3 * ANSWER_TIMEOUT)  # each of their waits is bounded
