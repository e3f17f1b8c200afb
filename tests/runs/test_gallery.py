import json
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from mnist_core import evaluate_probabilities
from mnist_core.data import load_test_set
from mnist_core.evaluate import cell_examples
from mnist_core.runs.gallery import (GALLERY_FILE, Gallery, GalleryError, build_gallery, images_for, pick_indices,
                                read_gallery, write_gallery)
from mnist_core.runs.store import BUNDLED_DIR
from tests.support.data import ROOT, tiny_arrays


def probabilities_of(predicted, confidence) -> np.ndarray:
    """Rows whose argmax is `predicted` with probability `confidence`, the rest spread evenly."""
    p = np.tile(((1 - np.asarray(confidence)) / 9)[:, None], (1, 10)).astype(np.float32)
    p[np.arange(len(p)), predicted] = confidence
    return p


def random_model(n: int = 500, seed: int = 0):
    """Tiny test images and probabilities of a model that is right about half the time."""
    arrays = tiny_arrays(n_train=10, n_test=n, seed=seed)
    rng = np.random.default_rng(seed)
    probabilities = rng.dirichlet(np.ones(10), n).astype(np.float32)
    right = rng.random(n) < 0.5
    probabilities[right, arrays["y_test"][right]] += 2
    return arrays["x_test"], arrays["y_test"], probabilities / probabilities.sum(axis=1, keepdims=True)


def test_keeps_every_mistake_and_the_first_page_of_each_diagonal_cell():
    labels = np.array([0, 0, 0, 1, 1, 1])
    probabilities = probabilities_of([0, 0, 1, 1, 0, 0], [0.8, 0.9, 0.7, 0.6, 0.55, 0.95])
    assert pick_indices(labels, probabilities, first_page=1).tolist() == [1, 2, 3, 4, 5]
    # room for 4: the two diagonal pages, then the most confident mistake of each cell (5 before 4)
    assert pick_indices(labels, probabilities, first_page=1, max_images=4).tolist() == [1, 2, 3, 5]


def test_each_cell_keeps_the_start_of_explores_list_and_cells_share_the_room():
    x_test, y_test, probabilities = random_model()
    gallery = build_gallery(x_test, y_test, probabilities, first_page=3, max_images=200)
    assert len(gallery.indices) == 200
    kept_wrong = []
    for true in range(10):
        for predicted in range(10):
            listed = cell_examples(y_test, probabilities, true, predicted)
            images, found = images_for(listed, gallery)
            kept = int(found.sum())
            assert found[:kept].all() and not found[kept:].any()  # a prefix, in Explore's order
            assert np.array_equal(images[:kept], x_test[listed[:kept]]) and not images[kept:].any()
            if true == predicted:
                assert kept == min(3, len(listed))
            else:
                kept_wrong.append((kept, len(listed)))
    fullest = max(kept for kept, _ in kept_wrong)
    assert any(kept < listed for kept, listed in kept_wrong)  # the room ran out
    assert all(kept == listed or kept >= fullest - 1 for kept, listed in kept_wrong)


def test_write_and_read_back(tmp_path):
    x_test, y_test, probabilities = random_model()
    gallery = build_gallery(x_test, y_test, probabilities)
    path = write_gallery(gallery, tmp_path)
    assert path == tmp_path / GALLERY_FILE and [p.name for p in tmp_path.iterdir()] == [GALLERY_FILE]
    assert path.stat().st_mode & 0o777 == 0o644
    back = read_gallery(tmp_path)
    for key in ("labels", "probabilities", "indices", "images"):
        assert np.array_equal(getattr(back, key), getattr(gallery, key))
        assert getattr(back, key).dtype == getattr(gallery, key).dtype
    assert evaluate_probabilities(back.labels, back.probabilities).accuracy == evaluate_probabilities(y_test, probabilities).accuracy
    predicted = probabilities.argmax(1)
    assert len(back.indices) == int((predicted != y_test).sum()) + sum(
        min(24, int(((y_test == d) & (predicted == d)).sum())) for d in range(10))


def test_a_failed_write_leaves_the_old_gallery(tmp_path, monkeypatch):
    x_test, y_test, probabilities = random_model()
    old = write_gallery(build_gallery(x_test, y_test, probabilities), tmp_path).read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez_compressed", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_gallery(build_gallery(x_test, y_test, probabilities[::-1].copy()), tmp_path)
    assert (tmp_path / GALLERY_FILE).read_bytes() == old and len(list(tmp_path.iterdir())) == 1


def test_full_test_set_is_used_when_its_labels_match(tmp_path):
    x_test, y_test, probabilities = random_model()
    gallery = build_gallery(x_test, y_test, probabilities, max_images=10)
    wanted = [499, 0, 17, 17]
    images, found = images_for(wanted, gallery, (x_test, y_test))
    assert found.all() and np.array_equal(images, x_test[wanted])
    other_labels = (y_test + 1) % 10  # another test set: its images would not match the labels
    images, found = images_for(wanted, gallery, (x_test, other_labels))
    assert found.tolist() == [i in set(gallery.indices.tolist()) for i in wanted]
    with pytest.raises(GalleryError, match="test indices must lie in 0-499"):
        images_for([500], gallery)
    with pytest.raises(GalleryError, match="test indices must lie in 0-499"):
        images_for([-1], gallery, (x_test, y_test))
    empty = Gallery(gallery.labels, gallery.probabilities, np.zeros(0, np.int32), np.zeros((0, 28, 28), np.uint8))
    images, found = images_for([3, 4], empty)
    assert not found.any() and images.shape == (2, 28, 28) and not images.any()


def test_build_refuses_mismatched_inputs():
    x_test, y_test, probabilities = random_model()
    with pytest.raises(GalleryError, match=r"probabilities have shape \(499, 10\), expected \(500, 10\)"):
        build_gallery(x_test, y_test, probabilities[:-1])
    with pytest.raises(GalleryError, match=r"test images are \(500, 28, 28\) float64, expected"):
        build_gallery(x_test / 255.0, y_test, probabilities)


def write_raw(folder, **overrides):
    x_test, y_test, probabilities = random_model(n=50)
    gallery = build_gallery(x_test, y_test, probabilities)
    arrays = {k: getattr(gallery, k) for k in ("labels", "probabilities", "indices", "images")}
    arrays.update(overrides)
    np.savez_compressed(folder / GALLERY_FILE, **{k: v for k, v in arrays.items() if v is not None})
    return gallery


@pytest.mark.parametrize("change, message", [
    (dict(probabilities=np.zeros((50, 10))), r"probabilities must be \(50, 10\) float32, got \(50, 10\) float64"),
    (dict(probabilities=np.full((50, 10), np.nan, np.float32)), "probabilities hold NaN"),
    (dict(labels=np.full(50, 12, np.uint8)), r"labels must be \(N,\) uint8 digits 0-9"),
    (dict(indices=np.array([3, 2], np.int32), images=np.zeros((2, 28, 28), np.uint8)), "indices must increase"),
    (dict(indices=np.array([50], np.int32), images=np.zeros((1, 28, 28), np.uint8)),
     "indices must increase and lie in 0-49"),
    (dict(indices=np.array(["a"])), r"indices must be \(K,\) int32"),
    (dict(images=np.zeros((1, 28, 28), np.uint8)), r"images must be \(\d+, 28, 28\) uint8, got \(1, 28, 28\)"),
    (dict(images=None), "gallery.npz lacks images"),
])
def test_malformed_gallery_is_refused(tmp_path, change, message):
    write_raw(tmp_path, **change)
    with pytest.raises(GalleryError, match=f"run 'x': {message}"):
        read_gallery(tmp_path, where="run 'x'")


def test_corrupt_missing_and_inflating_galleries(tmp_path, monkeypatch):
    with pytest.raises(GalleryError, match="run 'x': gallery.npz is missing"):
        read_gallery(tmp_path, where="run 'x'")
    write_raw(tmp_path)
    whole = (tmp_path / GALLERY_FILE).read_bytes()
    (tmp_path / GALLERY_FILE).write_bytes(whole[:len(whole) // 2])
    with pytest.raises(GalleryError, match="gallery.npz is unreadable \\(truncated or corrupt\\?\\)"):
        read_gallery(tmp_path)
    (tmp_path / GALLERY_FILE).write_bytes(whole)
    inflated = sum(i.file_size for i in zipfile.ZipFile(tmp_path / GALLERY_FILE).infolist())
    monkeypatch.setattr("mnist_core.runs.gallery.MAX_UNCOMPRESSED_BYTES", inflated - 1)
    with pytest.raises(GalleryError, match=f"would inflate to {inflated:,} bytes"):
        read_gallery(tmp_path)


@pytest.mark.mnist
def test_default_models_gallery_shows_every_mistake(mnist_path):
    x_test, y_test = load_test_set(mnist_path)
    gallery = read_gallery(BUNDLED_DIR / "default")
    assert np.array_equal(gallery.labels, y_test)
    result = evaluate_probabilities(gallery.labels, gallery.probabilities)
    card = json.loads((BUNDLED_DIR / "default" / "card.json").read_text())
    assert result.accuracy == card["test_accuracy"]
    assert len(gallery.indices) == result.errors + 10 * 24
    wrong = np.flatnonzero(gallery.probabilities.argmax(1) != y_test)
    images, found = images_for(wrong, gallery)
    assert found.all() and np.array_equal(images, x_test[wrong])


@pytest.mark.mnist
def test_gallery_size_bench_runs(mnist_path):
    result = subprocess.run([sys.executable, "-m", "bench.measure.cost.gallery_size"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={**os.environ, "MNIST_PATH": str(mnist_path)})
    assert result.returncode == 0, result.stderr
    gallery = read_gallery(BUNDLED_DIR / "default")
    wrong = int((gallery.probabilities.argmax(1) != gallery.labels).sum())
    assert re.match(rf"default: gallery.npz [\d,]+ bytes, {wrong + 240} images \({wrong} misclassified, 240 correct\)\n",
                    result.stdout)
