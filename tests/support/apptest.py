"""Running the app in Streamlit's AppTest, and reading what a page shows."""

import gc
import hashlib
import io
import tempfile
from pathlib import Path

from PIL import Image

from bench.harness.server.hostile_clients import png_data_url
from mnist_core.evaluate import evaluate_probabilities
from mnist_core.runs.gallery import read_gallery
from mnist_core.runs.store import BUNDLED_DIR
from tests.support.data import ROOT

BUNDLED_GALLERY = read_gallery(BUNDLED_DIR / "default")  # the figures the pages must show for the bundled model
BUNDLED = evaluate_probabilities(BUNDLED_GALLERY.labels, BUNDLED_GALLERY.probabilities)


def app_test(page: str | None = None, timeout: float = 60):
    """An AppTest of the app, run once, switched to `page` (e.g. "draw") and run again.

    The app is started through a one-line entry script outside the repo: AppTest resets
    Streamlit's legacy `pages/`-folder mode before every run, which a real server does only
    until st.navigation first runs, so it would otherwise run each page without the entry point.
    """
    from streamlit.testing.v1 import AppTest

    # Streamlit collects all garbage after every script run; once an earlier test has loaded
    # TensorFlow, each collection scans its millions of objects. Leave it what the app makes.
    gc.freeze()
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]  # one entry per checkout: clones may test at once
    entry = Path(tempfile.gettempdir()) / f"mnist_studio_apptest_{tag}.py"
    entry.write_text(f"import runpy, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
                     f"runpy.run_path({str(ROOT / 'streamlit_app.py')!r}, run_name='__main__')\n")
    at = AppTest.from_file(str(entry), default_timeout=timeout).run()
    if page:
        at.switch_page(str(ROOT / "pages" / f"{page}.py")).run()
    assert not at.exception, at.exception
    return at


def as_local_user(monkeypatch) -> None:
    """Every AppTest session is the person who started the server, by their say-so: the README's
    start command (MNIST_STUDIO_ACCESS=local, listening on 127.0.0.1; AppTest listens nowhere)."""
    import ui.access

    monkeypatch.setenv("MNIST_STUDIO_ACCESS", "local")
    monkeypatch.setattr(ui.access, "listen_address", lambda: "127.0.0.1")


def page_text(at) -> str:
    """Every text element the page shows (markdown, notices, captions), one a line."""
    return "\n".join(e.value for kind in ("markdown", "info", "warning", "error", "success", "caption")
                     for e in getattr(at, kind))


def image_captions(node) -> list[str]:
    """The caption of every image `node` (a page, a tab) shows, in order: a row of digits is one
    st.image of many."""
    return [img.caption for element in node.get("image") for img in element.proto.imgs]


def canvas_value(picture) -> dict:
    """The canvas's value after one stroke; its image is `picture` (an array, or the PNG sent)."""
    if not isinstance(picture, bytes):
        buffer = io.BytesIO()
        Image.fromarray(picture).save(buffer, "PNG")
        picture = buffer.getvalue()
    return {"drawing": {"raw": {"objects": [{"type": "path"}]}, "data": png_data_url(picture)}}


def answer_card(at) -> str:
    """The Draw page's answer card (its HTML), or "" when it shows none."""
    return next((html.proto.body for html in at.get("html") if "data-testid='predicted-digit'" in html.proto.body), "")
