"""Files a client PUTs to Streamlit's upload endpoint cannot pile up on the server."""

from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from ui import upload_limits


def put(manager, session: str, file_id: str, size: int) -> None:
    manager.add_file(session, UploadedFileRec(file_id, f"{file_id}.png", "image/png", b"x" * size))


def test_each_session_keeps_its_newest_files_only():
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    upload_limits.limit_uploads(manager)
    upload_limits.limit_uploads(manager)  # installing twice wraps once
    for n in range(5):
        put(manager, "visitor", f"made-up-{n}", 1000)
    put(manager, "person", "picture", 1000)
    assert sorted(manager.file_storage["visitor"]) == ["made-up-3", "made-up-4"]
    assert list(manager.file_storage["person"]) == ["picture"]
    assert manager._total_bytes == 3000 and manager._file_count == 3
    put(manager, "visitor", "made-up-4", 10)  # the same file again replaces it, and counts once
    assert sorted(manager.file_storage["visitor"]) == ["made-up-3", "made-up-4"] and manager._total_bytes == 2010


def test_the_whole_server_keeps_at_most_its_cap_oldest_files_first(monkeypatch):
    monkeypatch.setattr(upload_limits, "MAX_TOTAL_BYTES", 2500)
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    upload_limits.limit_uploads(manager)
    for session in ("a", "b", "c"):
        put(manager, session, "f", 1000)
    assert "f" not in manager.file_storage.get("a", {}) and manager._total_bytes == 2000
    assert list(manager.file_storage["b"]) == ["f"] and list(manager.file_storage["c"]) == ["f"]
    put(manager, "d", "huge", 5000)  # larger than the cap alone: kept (its page can still read it), the rest go
    assert manager._total_bytes == 5000 and list(manager.file_storage["d"]) == ["huge"]


def test_one_client_sending_files_pushes_out_its_own_not_anothers(monkeypatch):
    """The oldest files went first, whoever sent them: one client's stream of uploads evicted
    every other session's picture waiting to be read. Now whoever holds the most gives way."""
    monkeypatch.setattr(upload_limits, "MAX_TOTAL_BYTES", 5000)
    monkeypatch.setattr(upload_limits, "_clients", type(upload_limits._clients)())
    manager = MemoryUploadedFileManager("/_stcore/upload_file")
    upload_limits.limit_uploads(manager)
    put(manager, "person", "picture", 1500)  # the first file on the server, so the oldest
    for n in range(10):  # ten tabs of one client, two files each
        upload_limits.note_client(f"tab-{n}", "client:203.0.113.7")
        put(manager, f"tab-{n}", "a", 1000)
        put(manager, f"tab-{n}", "b", 1000)
    assert list(manager.file_storage["person"]) == ["picture"]
    assert manager._total_bytes <= 5000 and sorted(manager.file_storage["tab-9"]) == ["a", "b"]
    for n in range(3):  # unknown clients: each session is its own holder
        put(manager, f"stranger-{n}", "s", 2000)
    assert list(manager.file_storage["person"]) == ["picture"] and manager._total_bytes <= 5000
    assert not any(manager.file_storage.get(f"tab-{n}") for n in range(9))


def test_decoded_uploads_are_kept_for_the_server_within_a_bound_not_in_sessions(monkeypatch):
    import io

    import numpy as np
    from PIL import Image

    from ui.drawing import uploads

    monkeypatch.setattr(uploads, "_cache", type(uploads._cache)())
    monkeypatch.setattr(uploads, "MAX_CACHED_BYTES", 3 * 4_000_000)
    buffer = io.BytesIO()
    Image.fromarray(np.full((1000, 1000, 3), 200, np.uint8)).save(buffer, "JPEG")

    class Upload:
        def __init__(self, file_id):
            self.file_id, self.name = file_id, "big.jpg"

        def getvalue(self):
            return buffer.getvalue()

    for n in range(20):  # twenty sessions, each with its picture
        monkeypatch.setattr(uploads, "_session_id", lambda n=n: f"session-{n}")
        image = uploads.decoded(Upload(f"file-{n}"))
        assert image.shape[:2] == (1000, 1000) and not image.flags.writeable
        assert uploads.decoded(Upload(f"file-{n}")) is image  # decoded once while it is cached
    assert uploads.cached_bytes() <= 3 * 4_000_000 and len(uploads._cache) == 3
    uploads.decoded(Upload("file-19b"))  # a session's new picture replaces its old one
    assert ("session-19", "file-19") not in uploads._cache and len(uploads._cache) == 3
    assert uploads.decoded(None) is None
