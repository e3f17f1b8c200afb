"""The active model: the sidebar's picker, and the classifier every page uses.

The choice lives in st.session_state.active_model, one per browser session; the server notes it
too (mnist_core.runs.quota), so a public deployment's quota never deletes a run someone is using,
for as long as their session stays connected (a few runs per client at most).
"""

import streamlit as st

from mnist_core import StoreError

from mnist_core.runs import quota
from mnist_core.runs.store import DEFAULT_MODEL
from ui import loaders
from ui.access import session
from ui.redact import without_paths


def name() -> str | None:
    return st.session_state.get("active_model")


def make_active(model: str) -> None:
    """A button callback: make `model` the active one (runs before the sidebar is drawn)."""
    st.session_state.active_model = model


def sidebar_picker() -> None:
    """The sidebar's selector; falls back to the default model when the active one is gone."""
    runs = {run.name: run for run in loaders.usable_runs()}
    if name() not in runs:
        make_active(DEFAULT_MODEL if DEFAULT_MODEL in runs else next(iter(runs), None))
    # The widget has its own key, refreshed from active_model on every run: Streamlit drops the
    # state of widgets between page switches, and other pages set active_model directly.
    st.session_state.model_picker = name()
    st.sidebar.selectbox(
        "Active model", list(runs), key="model_picker",
        on_change=lambda: make_active(st.session_state.model_picker),
        format_func=lambda run: f"{run} · {runs[run].card.test_accuracy:.2%}",
        help="Used by Draw, Explore and Home. Train or pick models on the Models page.",
    )
    _note_active()


def _note_active() -> None:
    """Pin the active run for as long as this session is connected (quota.note_active)."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    if Runtime.exists():
        quota.set_liveness(Runtime.instance().is_active_session)
    me = session()
    quota.note_active(context.session_id if context is not None else me.owner_id, name(), me.client_key)


def classifier():
    """The active model's classifier, or None (with a message on the page) if it cannot load."""
    model = name()
    if model is None:
        st.error("No usable model found. Train one on the Train page.")
        return None
    try:
        return loaders.classifier(model)
    except StoreError as exc:
        st.error(f"Model {model!r} cannot be loaded: {without_paths(exc)}")
        return None
