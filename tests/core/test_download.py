"""The download of mnist.npz into Keras' cache, against a loopback origin (no MNIST, no internet)."""

import hashlib
import io
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from mnist_core import data
from mnist_core.data import DatasetError, keras_cache_path, load_arrays, load_test_set
from tests.support.data import ROOT, tiny_arrays


class Origin:
    """A loopback HTTP server standing in for Keras' origin: it serves `body` at /mnist.npz.

    `mode` makes it misbehave: "slow" waits before answering, "truncate" closes halfway through,
    "no-length" sends no Content-Length, "huge" announces 10**9 bytes, "trickle" sends 100
    bytes every 50 ms.
    """

    def __init__(self, body: bytes):
        self.body, self.mode, self.requests = body, None, 0
        origin = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                origin.requests += 1
                if self.path != "/mnist.npz":
                    self.send_error(404)
                    return
                if origin.mode == "slow":
                    time.sleep(0.3)
                self.send_response(200)
                if origin.mode != "no-length":
                    self.send_header("Content-Length", str(10**9 if origin.mode == "huge" else len(origin.body)))
                self.end_headers()
                if origin.mode == "trickle":
                    for start in range(0, len(origin.body), 100):
                        self.wfile.write(origin.body[start:start + 100])
                        time.sleep(0.05)
                else:
                    self.wfile.write(origin.body[:len(origin.body) // 2] if origin.mode == "truncate" else origin.body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/mnist.npz"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture
def origin(tmp_path, monkeypatch):
    """A loopback origin serving a tiny mnist.npz, with MNIST_URL, MNIST_SHA256 and KERAS_HOME set."""
    server = Origin(npz_bytes(tiny_arrays()))
    monkeypatch.delenv("MNIST_PATH", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("MNIST_URL", server.url)
    monkeypatch.setenv("MNIST_SHA256", hashlib.sha256(server.body).hexdigest())
    yield server
    server.server.shutdown()
    server.server.server_close()


def cache_folder_files(tmp_path) -> list[str]:
    folder = tmp_path / "keras" / "datasets"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_lands_in_keras_home_and_loads(origin, tmp_path):
    arrays, source = load_arrays()
    assert source == "Keras' mnist.npz"
    assert np.array_equal(arrays["x_test"], tiny_arrays()["x_test"])
    assert np.array_equal(arrays["y_train"], tiny_arrays()["y_train"])
    cached = tmp_path / "keras" / "datasets" / "mnist.npz"
    assert cached.read_bytes() == origin.body and cached.stat().st_mode & 0o777 == 0o644
    assert cache_folder_files(tmp_path) == ["mnist.npz"] and origin.requests == 1


def test_cached_file_is_reused_without_network(origin, tmp_path):
    load_test_set()
    origin.server.shutdown()
    origin.server.server_close()
    x_test, y_test = load_test_set()
    assert np.array_equal(y_test, tiny_arrays()["y_test"]) and origin.requests == 1


def test_cached_file_with_wrong_checksum_is_replaced(origin, tmp_path):
    cached = tmp_path / "keras" / "datasets" / "mnist.npz"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"an older or damaged file")
    load_test_set()
    assert cached.read_bytes() == origin.body and origin.requests == 1


def test_wrong_checksum_is_refused_and_nothing_is_left(origin, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_SHA256", "ab" * 32)
    actual = hashlib.sha256(origin.body).hexdigest()
    with pytest.raises(DatasetError, match=f"has SHA-256 {actual}, expected {'ab' * 32}; it was not saved"):
        load_arrays()
    assert cache_folder_files(tmp_path) == []


def test_server_down_says_offline_and_what_to_do(origin, tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/mnist.npz"
    monkeypatch.setenv("MNIST_URL", url)
    with pytest.raises(DatasetError) as caught:
        load_test_set()
    message = str(caught.value)
    assert message.startswith(f"Could not download MNIST from {url} (is this machine offline?)")
    assert "Set MNIST_PATH to a local copy of mnist.npz" in message and "shared" not in message
    assert cache_folder_files(tmp_path) == []


def test_http_error_is_named(origin, monkeypatch):
    monkeypatch.setenv("MNIST_URL", origin.url.replace("mnist.npz", "other.npz"))
    with pytest.raises(DatasetError, match="other.npz answered HTTP 404"):
        load_test_set()


@pytest.mark.parametrize("mode", ["truncate", "huge", "no-length"])
def test_bad_transfers_leave_no_file(origin, tmp_path, monkeypatch, mode):
    origin.mode = mode
    if mode == "no-length":  # counted while it arrives, since nothing was announced
        monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", len(origin.body) - 1)
    size = len(origin.body)
    expected = {"truncate": f"closed after {size // 2:,} of {size:,} bytes",
                "huge": "offers 1,000,000,000 bytes",
                "no-length": f"sent more than {size - 1:,} bytes"}[mode]
    with pytest.raises(DatasetError, match=expected):
        load_test_set()
    assert cache_folder_files(tmp_path) == []


def test_a_trickling_origin_meets_the_deadline(origin, tmp_path, monkeypatch):
    origin.mode = "trickle"
    monkeypatch.setattr(data, "DOWNLOAD_DEADLINE_SECONDS", 0.3)
    with pytest.raises(DatasetError, match="took longer than 0.3 s. Nothing was saved"):
        load_test_set()
    assert cache_folder_files(tmp_path) == []


@pytest.mark.parametrize("shared_lock", [True, False], ids=["threads", "processes"])
def test_concurrent_downloads_end_with_one_good_file(origin, tmp_path, monkeypatch, shared_lock):
    """Two sessions of one server share the lock; a server and a training process do not."""
    origin.mode = "slow"  # both start before either finishes
    if not shared_lock:
        monkeypatch.setattr(data, "_download_lock", nullcontext())
    results = []
    threads = [threading.Thread(target=lambda: results.append(data.download_mnist())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1] == keras_cache_path()
    assert results[0].read_bytes() == origin.body
    assert cache_folder_files(tmp_path) == ["mnist.npz"]
    assert origin.requests == (1 if shared_lock else 2)


def test_bad_overrides_are_refused(origin, monkeypatch):
    monkeypatch.setenv("MNIST_SHA256", "xyz")
    with pytest.raises(DatasetError, match="MNIST_SHA256 must be 64 hexadecimal digits, got 'xyz'"):
        load_test_set()
    monkeypatch.setenv("MNIST_SHA256", "ab" * 32)
    monkeypatch.setenv("MNIST_URL", "file:///etc/passwd")
    with pytest.raises(DatasetError, match="MNIST_URL must be an http:// or https:// address"):
        load_test_set()


def test_cache_path_follows_keras_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert keras_cache_path() == tmp_path / "kh" / "datasets" / "mnist.npz"
    assert (tmp_path / "kh").is_dir()  # Keras creates its home on import
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("KERAS_HOME", str(blocker / "kh"))  # cannot be created: Keras' /tmp fallback
    assert keras_cache_path() == Path("/tmp/.keras/datasets/mnist.npz")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    assert keras_cache_path() == tmp_path / "home" / ".keras" / "datasets" / "mnist.npz"
    monkeypatch.setenv("HOME", str(blocker / "home"))  # a home that is not writable
    assert keras_cache_path() == Path("/tmp/.keras/datasets/mnist.npz")


def run_python(code: str, env: dict) -> str:
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.slow  # Keras loads TensorFlow in the child: several seconds
def test_keras_finds_the_file_the_app_downloaded(origin, tmp_path):
    """Keras' own get_file, in a process of its own (it reads KERAS_HOME on import), takes our file."""
    path = data.download_mnist()
    found = run_python("from keras.src.utils.file_utils import get_file; "
                       f"print(get_file('mnist.npz', {origin.url!r}, file_hash={os.environ['MNIST_SHA256']!r}))",
                       dict(os.environ))
    assert found == str(path) and origin.requests == 1


def test_loading_never_imports_tensorflow(origin):
    out = run_python("import sys; from mnist_core import data; data.load_test_set(); data.load_sample(); "
                     "print(sorted(m for m in ('keras', 'tensorflow') if m in sys.modules))", dict(os.environ))
    assert out == "[]" and origin.requests == 1
