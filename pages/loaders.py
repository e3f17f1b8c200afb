"""What the pages read from disk, cached for the whole server: models, the run list, the test set."""

import os
from pathlib import Path

import streamlit as st

from mnist_core import DatasetError, list_runs, load_classifier, load_test_set
from mnist_core.store import BUNDLED_DIR, store_dir
from pages.redact import without_paths


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
        st.warning(f"The MNIST test set is not available, so test images cannot be shown. {without_paths(exc)}")
        return None


@st.cache_resource(max_entries=8, show_spinner=False)
def _runs_as_of(store: str, stamp: tuple) -> list:
    return list_runs(Path(store))


def runs() -> list:
    """The store's runs, re-read only when a run was added or removed (the folders' mtimes).

    Every page run draws the model picker, so reading every card each time would add that
    reading to each stroke on the Draw page.
    """
    store = store_dir()
    stamp = tuple(p.stat().st_mtime_ns if p.exists() else 0 for p in (store, BUNDLED_DIR))
    return _runs_as_of(str(store), stamp)


def usable_runs() -> list:
    return [run for run in runs() if not run.problem]
