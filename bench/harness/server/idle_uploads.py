"""Sessions that uploaded a large picture on the Draw page and then sit idle with their tab open.

Each session opens /draw over Streamlit's websocket, uploads the 4096x4096 (16-megapixel) JPEG of
bench/harness/server/hostile_clients.py through the endpoint st.file_uploader uses, as a browser does,
waits for the page to read it, and then stays connected doing nothing: what a few hundred people
who uploaded a photo and walked away leave on a server. They open a few at a time; once all have
uploaded, `while_idle()` is called with every one still connected, then all close.
"""

import asyncio

from websockets.asyncio.client import connect

from bench.harness.server.browser import rerun_message
from bench.harness.server.hostile_clients import ANSWER_TIMEOUT, Tally, send_upload, until, widget_ids, xsrf_cookie


async def _open_and_upload(url: str, token: str, tally: Tally):
    """One session: /draw, then the JPEG made the uploader's value; its open connection."""
    connection = await connect(url.replace("http", "ws") + "/_stcore/stream", subprotocols=["streamlit"],
                               max_size=None, open_timeout=ANSWER_TIMEOUT)
    await connection.send(rerun_message(url))
    session, _, uploader = widget_ids(await until(connection, "script_finished"))
    if not (session and uploader):
        raise RuntimeError(f"/draw lacks a session id or uploader: {session}, {uploader}")
    await send_upload(connection, url, session, uploader, token, 0, tally)  # n = 0: the JPEG
    return connection


async def idle_uploaders(url: str, sessions: int, while_idle, at_once: int = 8) -> Tally:
    """Open `sessions` sessions that each upload the JPEG (`at_once` at a time), call `while_idle()`
    with all of them connected and idle, then close them; how the uploads were answered."""
    token, tally, gate = await asyncio.to_thread(xsrf_cookie, url), Tally(), asyncio.Semaphore(at_once)

    async def one():
        async with gate:
            try:
                return await _open_and_upload(url, token, tally)
            except Exception as exc:  # the bench reports it
                tally.problems.append(f"{type(exc).__name__}: {exc}"[:200])
                return None

    connections = await asyncio.gather(*(one() for _ in range(sessions)))
    try:
        await asyncio.to_thread(while_idle)
    finally:
        await asyncio.gather(*(c.close() for c in connections if c is not None), return_exceptions=True)
    return tally
