"""What every page shares: cached loaders, the active-model picker, the model card.

Like tfjs-examples' ui.js: this file draws and caches; it computes nothing itself.
"""

import os
import threading
from pathlib import Path

import numpy as np
import streamlit as st

from mnist_core import DatasetError, StoreError, list_runs, load_classifier, load_test_set
from mnist_core.store import BUNDLED_DIR, store_dir
from pages import charts

DEFAULT_MODEL = "default"


_this_run = threading.local()  # Streamlit runs each script run in a thread of its own


def mark_navigation() -> None:
    """Called by streamlit_app.py: this run came through the entry point's st.navigation."""
    _this_run.navigated = True


def require_navigation() -> None:
    """Make a deep link (/draw, /explore…) work as the first request after the server starts.

    Streamlit treats a `pages/` folder beside the entry point as a legacy multipage app until
    `st.navigation` has run once in the process; until then a deep link runs the page file
    directly, without the entry point and its sidebar. Switching that mode off and rerunning
    sends the request through streamlit_app.py, whose st.Page for the same URL path has the
    same page hash, so the person lands on the page they asked for.
    """
    if not getattr(_this_run, "navigated", False):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()


@st.cache_resource(show_spinner="Loading the model…")
def classifier(name: str):
    """One ONNX Runtime session per model per server, shared by all sessions."""
    return load_classifier(name)


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def _test_set(path: str | None):
    return load_test_set(path)


def test_set():
    """The MNIST test images and labels, or None after telling the person why not."""
    try:
        return _test_set(os.environ.get("MNIST_PATH"))
    except DatasetError as exc:
        st.warning(f"The MNIST test set is not available, so test images cannot be shown. {exc}")
        return None


@st.cache_resource(max_entries=8, show_spinner=False)
def _runs_as_of(store: str, stamp: tuple) -> list:
    return list_runs(Path(store))


def runs() -> list:
    """The store's runs, re-read only when a run was added or removed (the folders' mtimes).

    Every page run draws the model picker, so reading every card each time would cost each
    stroke on the Draw page a few milliseconds for nothing.
    """
    store = store_dir()
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (store, BUNDLED_DIR))
    return _runs_as_of(str(store), stamp)


def usable_runs():
    return [run for run in runs() if not run.problem]


def model_picker() -> None:
    """The sidebar's active-model selector; its choice lives in st.session_state.active_model."""
    runs = {run.name: run for run in usable_runs()}
    if st.session_state.get("active_model") not in runs:
        st.session_state.active_model = DEFAULT_MODEL if DEFAULT_MODEL in runs else next(iter(runs), None)
    # The widget has its own key, refreshed from active_model on every run: Streamlit drops the
    # state of widgets between page switches, and other pages set active_model directly.
    st.session_state.model_picker = st.session_state.active_model
    st.sidebar.selectbox(
        "Active model", list(runs), key="model_picker",
        on_change=lambda: set_active(st.session_state.model_picker),
        format_func=lambda name: f"{name} · {runs[name].card.get('test_accuracy', 0):.2%}",
        help="Used by Draw, Explore and Home. Train or pick models on the Models page.",
    )


def active_classifier():
    """The active model's classifier, or None (with a message on the page) if it cannot load."""
    name = st.session_state.get("active_model")
    if name is None:
        st.error("No usable model found. Train one on the Train page.")
        return None
    try:
        return classifier(name)
    except StoreError as exc:
        st.error(f"Model {name!r} cannot be loaded: {exc}")
        return None


def set_active(name: str) -> None:
    """A button callback: make `name` the active model (runs before the sidebar is drawn)."""
    st.session_state.active_model = name


def model_card(card: dict) -> None:
    """Preset, accuracy, size and training time, then the epoch curves."""
    hp = card.get("hyperparameters", {})
    cols = st.columns(4)
    cols[0].metric("Test accuracy", f"{card.get('test_accuracy', 0):.2%}")
    cols[1].metric("Preset", card.get("preset", "?"))
    cols[2].metric("Parameters", f"{card.get('parameters', 0):,}")
    seconds = card.get("wall_time_seconds", 0)
    cols[3].metric("Training time", f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min",
                   help=f"{card.get('epochs_done', '?')} epochs, {card.get('ended', '?')}")
    st.caption(f"{hp.get('epochs', '?')} epoch{'' if hp.get('epochs') == 1 else 's'} · batch {hp.get('batch_size', '?')} · "
               f"{hp.get('optimizer', '?')} lr {hp.get('learning_rate', '?')} ({hp.get('lr_schedule', '?')}) · "
               f"dropout {hp.get('dropout', '?')} · augmentation {'on' if hp.get('augment') else 'off'}"
               + (f" · label smoothing {hp['label_smoothing']}" if hp.get("label_smoothing") else "")
               + (f" · trained with `{card['command']}`" if card.get("command") else ""))
    if card.get("history", {}).get("loss"):
        st.plotly_chart(charts.epoch_curves(card["history"]), width="stretch")


def enlarge(image: np.ndarray, factor: int = 4) -> np.ndarray:
    """Nearest-neighbour upscaling, so 28x28 pixels stay crisp squares in the browser."""
    return np.kron(np.clip(image, 0, 1), np.ones((factor, factor), np.float32))


# streamlit-drawable-canvas 0.13 keeps its hidden toolbar (opacity 0) over the top-right corner
# of the canvas until the pointer has rested on the canvas for 0.2 s, so a stroke started there at
# once (and every touch there: touch screens have no hover) lands on the invisible toolbar and is
# lost. The canvas lives in a shadow root that page CSS cannot reach; this script adds a style to
# each canvas's shadow root that keeps the toolbar above the canvas and lets pointer events
# through it while it is hidden. (`!important`: the component's own sheet is adopted, and adopted
# sheets come after a shadow root's <style> elements in the cascade.)
_CANVAS_TOOLBAR_FIX = """
<script>
(() => {
  const css = `.dc-toolbar{top:-2.65rem !important;padding-bottom:0 !important;pointer-events:none}
    .dc-root:hover>.dc-toolbar,.dc-toolbar:focus-within,.dc-toolbar[data-pinned=true]{pointer-events:auto}`;
  const patch = () => document.querySelectorAll("*").forEach((host) => {
    const root = host.shadowRoot;  // the style only names the canvas's classes: any root may get it
    if (root && !root.querySelector("style[data-toolbar-fix]")) {
      const style = document.createElement("style");
      style.dataset.toolbarFix = "";
      style.textContent = css;
      root.appendChild(style);
    }
  });
  patch();
  if (!window.canvasToolbarFix) {  // a new canvas (Clear makes one) may open its shadow root late
    window.canvasToolbarFix = new MutationObserver(() => { patch(); setTimeout(patch, 300); });
    window.canvasToolbarFix.observe(document.body, {childList: true, subtree: true});
  }
})();
</script>
"""


def keep_canvas_toolbar_off_the_canvas() -> None:
    st.html(_CANVAS_TOOLBAR_FIX, unsafe_allow_javascript=True)
