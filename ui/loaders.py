"""What the pages read from disk, cached for the whole server: models, the run list, the test set."""

import os
from pathlib import Path

import streamlit as st

from mnist_core import DatasetError, StoreError, data, list_runs, load_classifier
from mnist_core.reading.model_cache import BoundedCache
from mnist_core.runs.digit_map import read_map
from mnist_core.runs.gallery import read_gallery
from mnist_core.runs.store import BUNDLED_DIR, store_dir
from ui.redact import without_paths


def identity(folder: Path) -> int:
    """Which save of a run this is: a run deleted and trained again under its name is a new folder,
    made (or renamed into place) at a new time, which no copy or restore can set back."""
    try:
        stat = folder.stat()
    except OSError as exc:
        raise StoreError(f"no saved model called {folder.name!r}") from exc
    return hash((stat.st_ino, stat.st_ctime_ns))


_MODELS = BoundedCache()  # one for the server (a module is imported once), bounded by count and bytes


def _load(name: str):
    """(the run's classifier, its ONNX file's bytes: what its session holds)."""
    with st.spinner("Loading the model…"):
        loaded = load_classifier(name)
    try:
        return loaded, loaded.run.onnx_path.stat().st_size
    except OSError:  # deleted since (an eviction): the session is loaded all the same
        return loaded, 0


def classifier(name: str):
    """One ONNX Runtime session per saved run per server, shared by all sessions; a few at most
    (reading/model_cache.py)."""
    folder = BUNDLED_DIR / name if (BUNDLED_DIR / name).is_dir() else store_dir() / name
    return _MODELS.get((name, identity(folder)), lambda: _load(name))


@st.cache_resource(show_spinner="Loading the MNIST test set…")
def _local_test_set(where: tuple):
    return data.local_test_set()


def local_test_set():
    """The MNIST test images and labels if this machine has them (the server never downloads
    them: runs carry what Explore needs), else None."""
    try:
        return _local_test_set((os.environ.get("MNIST_PATH"), str(data.keras_cache_path())))
    except DatasetError as exc:
        st.caption(f"The MNIST copy on this machine is unusable, so only the digits stored with the run "
                   f"are shown: {without_paths(exc)}")
        return None


@st.cache_resource(max_entries=16, show_spinner=False)
def _gallery(path: str, identity: int):
    return read_gallery(Path(path), where=f"run {Path(path).name!r}")


def gallery(run):
    """A run's Explore gallery (GalleryError if unreadable), read once per run."""
    return _gallery(str(run.path), identity(run.path))


@st.cache_resource(max_entries=4, show_spinner=False)
def _digit_map(path: str, identity: int):
    return read_map(Path(path), where=f"run {Path(path).name!r}")


def digit_map(run):
    """A run's map of the test set (MapError if it has none or it is unreadable), read once per run."""
    return _digit_map(str(run.path), identity(run.path))


@st.cache_resource(show_spinner=False)
def mnist_sample():
    """The bundled sample of MNIST test digits: (images, labels, test-set indices)."""
    return data.load_sample()


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
