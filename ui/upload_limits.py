"""A bound on what visitors can upload and leave on the server.

Streamlit keeps every file PUT to /_stcore/upload_file/<session>/<file id> in memory until its
session ends, under whatever file id a client makes up: a script can PUT file after file into
one session without ever using them. The pages' uploaders each hold one file, so each session
keeps only its newest few files, and the whole server at most MAX_TOTAL_BYTES (the oldest files
go first). Streamlit runs nothing of the app's before a first page run, so this is installed by
the entry point on every run; the first one installs it.
"""

import ctypes
import threading
from collections import OrderedDict

FILES_PER_SESSION = 2  # the Draw page's picture and the Models page's .keras file
MAX_TOTAL_BYTES = 100 * 2**20
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter

_lock = threading.Lock()


def limit_uploads(manager) -> None:
    """Wrap `manager.add_file` (Streamlit's MemoryUploadedFileManager) once with the limits above."""
    with _lock:
        if getattr(manager, "_mnist_limits", False):
            return
        original, order = manager.add_file, OrderedDict()  # (session, file id) → size, oldest first

        def add_file(session_id, file) -> None:
            original(session_id, file)
            with _lock:
                order.pop((session_id, file.file_id), None)
                order[(session_id, file.file_id)] = len(file.data)
                own = [key for key in order if key[0] == session_id]
                stale = own[:-FILES_PER_SESSION]
                total = sum(order.values()) - sum(order[key] for key in stale)
                for key in list(order):
                    if total <= MAX_TOTAL_BYTES or key == (session_id, file.file_id):
                        break
                    if key not in stale:
                        stale.append(key)
                        total -= order[key]
                for key in stale:
                    order.pop(key)
                    manager.remove_file(*key)

        manager.add_file = add_file
        manager._mnist_limits = True


def return_freed_buffers_to_the_system() -> None:
    """Decoding an upload takes buffers of megabytes; glibc keeps freed ones for reuse unless they
    were mapped on their own, so a stream of hostile uploads leaves the server tens of megabytes
    larger for good. Mapping every buffer over 128 kB on its own gives each back when freed."""
    try:
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, 128 * 1024)
    except (OSError, AttributeError):
        pass  # not glibc (macOS, Windows, musl): their allocators decide for themselves


def install() -> None:
    from streamlit.runtime import Runtime

    if Runtime.exists():
        limit_uploads(Runtime.instance().uploaded_file_mgr)
        if not getattr(install, "done", False):
            install.done = True
            return_freed_buffers_to_the_system()
