"""A bound on what visitors can upload and leave on the server.

Streamlit keeps every file PUT to /_stcore/upload_file/<session>/<file id> in memory until its
session ends, under whatever file id a client makes up: a script can PUT file after file into
one session without ever using them. The pages' uploaders each hold one file, so each session
keeps only its newest few files, and the whole server at most MAX_TOTAL_BYTES. To make room, the
files of whoever holds the most go first, oldest first: a client (note_client: what its proxy
reports, all its sessions together), else a session. So one client sending files as fast as it
can pushes out its own, never another person's picture waiting to be read. Streamlit runs
nothing of the app's before a first page run, so this is installed by the entry point on every
run; the first one installs it.
"""

import ctypes
import threading
from collections import OrderedDict

FILES_PER_SESSION = 2  # the Draw page's picture and the Models page's .keras file
MAX_TOTAL_BYTES = 100 * 2**20
M_MMAP_THRESHOLD, M_ARENA_MAX = -3, -8  # glibc's mallopt parameters
ARENAS = 2  # glibc's default is 8 a core

_lock = threading.Lock()
_clients: "OrderedDict[str, str]" = OrderedDict()  # session id → its client (access.Session.client_key)
MAX_REMEMBERED_SESSIONS = 10_000


def note_client(session_id: str, client: str) -> None:
    """Count `session_id`'s files as `client`'s."""
    with _lock:
        _clients.pop(session_id, None)
        _clients[session_id] = client
        while len(_clients) > MAX_REMEMBERED_SESSIONS:
            _clients.popitem(last=False)


def note_session(me) -> None:
    """Count this browser session's files as its client's (`me`: an access.Session)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    if context is not None:
        note_client(context.session_id, me.client_key)


def _holder(session_id: str) -> str:
    return _clients.get(session_id, f"session:{session_id}")


def limit_uploads(manager) -> None:
    """Wrap `manager.add_file` (Streamlit's MemoryUploadedFileManager) once with the limits above."""
    with _lock:
        if getattr(manager, "_mnist_limits", False):
            return
        original, order = manager.add_file, OrderedDict()  # (session, file id) → size, oldest first

        def add_file(session_id, file) -> None:
            original(session_id, file)
            with _lock:
                new = (session_id, file.file_id)
                order.pop(new, None)
                order[new] = len(file.data)
                own = [key for key in order if key[0] == session_id]
                stale = own[:-FILES_PER_SESSION]
                for key in stale:
                    order.pop(key)
                total = sum(order.values())
                while total > MAX_TOTAL_BYTES:
                    held: dict[str, int] = {}
                    for key, size in order.items():
                        if key != new:
                            held[_holder(key[0])] = held.get(_holder(key[0]), 0) + size
                    if not held:
                        break  # the new file alone: kept (its page can still read it)
                    largest = max(held, key=held.get)
                    key = next(key for key in order if key != new and _holder(key[0]) == largest)
                    total -= order.pop(key)
                    stale.append(key)
                for key in stale:
                    manager.remove_file(*key)

        manager.add_file = add_file
        manager._mnist_limits = True


def return_freed_buffers_to_the_system() -> None:
    """Decoding an upload takes buffers of megabytes; glibc keeps freed ones for reuse unless they
    were mapped on their own, so a stream of hostile uploads leaves the server tens of megabytes
    larger for good. Mapping every buffer over 128 kB on its own gives each back when freed. And
    every rerun is a thread of its own, each taking one of glibc's arenas (16 on two cores), whose
    freed memory stays scattered among them: ARENAS of them held 200 idle sessions that uploaded a
    picture in about 33 MB less."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 128 * 1024)
        libc.mallopt(M_ARENA_MAX, ARENAS)
    except (OSError, AttributeError):
        pass  # not glibc (macOS, Windows, musl): their allocators decide for themselves


def install() -> None:
    from streamlit.runtime import Runtime

    if Runtime.exists():
        limit_uploads(Runtime.instance().uploaded_file_mgr)
        if not getattr(install, "done", False):
            install.done = True
            return_freed_buffers_to_the_system()
