"""The server's caches: a model is cached by which save of a run it is, not by its name."""

import shutil

import pytest

from mnist_core import StoreError
from mnist_core.runs.store import BUNDLED_DIR, delete_run
from ui import loaders


def test_a_deleted_and_retrained_name_serves_the_new_network(store):
    shutil.copytree(BUNDLED_DIR / "default", store / "mine")
    first = loaders.classifier("mine")
    first_gallery = loaders.gallery(first.run)
    assert loaders.classifier("mine") is first and loaders.gallery(first.run) is first_gallery  # one for everyone
    delete_run("mine", store)
    shutil.copytree(BUNDLED_DIR / "default", store / "mine")  # trained again under the same name
    second = loaders.classifier("mine")
    assert second is not first and second.run.path == store / "mine"
    assert loaders.gallery(second.run) is not first_gallery


def test_a_missing_run_is_a_store_error(store):
    with pytest.raises(StoreError, match="no saved model called 'ghost'"):
        loaders.classifier("ghost")
