"""How much memory the app server and its training process hold: now, and the peak over a block.

Shared by bench.measure.server.cloud and bench.measure.server.classroom.
"""

import threading
from contextlib import contextmanager, suppress

import psutil


def rss(process) -> tuple[float, float]:
    """MB held by the server process and by its children (the training process)."""
    server, children = psutil.Process(process.pid), 0
    for child in server.children(recursive=True):
        with suppress(psutil.NoSuchProcess):  # the training process may just have ended
            children += child.memory_info().rss
    return server.memory_info().rss / 2**20, children / 2**20


@contextmanager
def peak_rss(process):
    """Samples rss(process) every 0.2 s; yields a dict of peaks: server, children, both together."""
    peaks, done = {"server": 0.0, "children": 0.0, "both": 0.0}, threading.Event()

    def sample():
        while not done.is_set():
            server, children = rss(process)
            peaks.update(server=max(peaks["server"], server), children=max(peaks["children"], children),
                         both=max(peaks["both"], server + children))
            done.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peaks
    finally:
        done.set()
        thread.join(5)
