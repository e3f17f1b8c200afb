"""Pictures uploaded on the Draw page, decoded once per file, kept in one bounded cache for the server.

The uploader hands the same file to every rerun of the page (each stroke, each slider move);
decoding it once keeps a large picture from costing its decoding again and again. What is
decoded is kept for the whole server, newest first, up to MAX_CACHED_BYTES, and never in a
session's state: a few hundred idle sessions that each uploaded a picture hold nothing decoded
(Streamlit's store of the uploaded files themselves is bounded in upload_limits.py). A picture
pushed out of the cache is decoded again on its session's next rerun.
"""

import threading
from collections import OrderedDict

import numpy as np
import streamlit as st

from mnist_core import DrawingError, read_image

MAX_CACHED_BYTES = 16 * 2**20  # four of the largest pictures read_image keeps (4 MB each)

_cache: "OrderedDict[tuple[str, str], tuple[np.ndarray | None, str | None]]" = OrderedDict()
_lock = threading.Lock()


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context is not None else ""


def cached_bytes() -> int:
    with _lock:
        return sum(image.nbytes for image, _ in _cache.values() if image is not None)


def _keep(key: tuple[str, str], entry: tuple) -> None:
    """Cache `entry`, dropping the session's other pictures and then the least recently used."""
    with _lock:
        for other in [k for k in _cache if k[0] == key[0] and k != key]:
            del _cache[other]
        _cache[key] = entry
        total = sum(image.nbytes for image, _ in _cache.values() if image is not None)
        while total > MAX_CACHED_BYTES and len(_cache) > 1:
            image, _ = _cache.pop(next(iter(_cache)))
            total -= image.nbytes if image is not None else 0


def decoded(upload) -> np.ndarray | None:
    """The uploaded file as an image (see read_image for the limits; read-only: it is shared
    with the session's later reruns), None without one; DrawingError if it is not a picture that
    can be read."""
    if upload is None:
        return None
    key = (_session_id(), upload.file_id)
    with _lock:
        entry = _cache.get(key)
        if entry is not None:
            _cache.move_to_end(key)
    if entry is None:
        try:
            image = read_image(upload.getvalue())
            image.setflags(write=False)
            entry = (image, None)
        except DrawingError as exc:
            entry = (None, str(exc))
        _keep(key, entry)
    image, problem = entry
    if problem is not None:
        raise DrawingError(problem)
    return image
