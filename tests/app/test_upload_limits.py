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
