"""What Explore shows without the dataset: one small compressed .npz in each run's folder.

A gallery holds the test labels, the model's test probabilities (so the confusion matrix,
per-class table and every cell's list of indices need nothing else), and the images Explore
shows: every misclassified test digit and, for each diagonal cell, its first page of most
confident correct digits. A model that is wrong everywhere would need thousands of images, so
at most MAX_IMAGES are kept, taken rank by rank across the cells: each cell keeps the first
images in Explore's order (most confident first), and the cells share the room evenly.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.runs.npz_files import NpzError, read_bounded, write_atomically

GALLERY_FILE = "gallery.npz"
KEYS = ("labels", "probabilities", "indices", "images")
FIRST_PAGE = 24  # Explore's page size: each diagonal cell keeps one page
MAX_IMAGES = 2000  # 1.6 MB of pixels before compression, however bad the model
MAX_UNCOMPRESSED_BYTES = 32_000_000  # read back only what a 10,000-digit test set can need


class GalleryError(RuntimeError):
    """A gallery cannot be built, written or read; the message says what is wrong."""


@dataclass(frozen=True)
class Gallery:
    labels: np.ndarray  # (N,) uint8, the test labels
    probabilities: np.ndarray  # (N, 10) float32, the model's test probabilities
    indices: np.ndarray  # (K,) int32, increasing: the test digits whose images are kept
    images: np.ndarray  # (K, 28, 28) uint8, their images


def pick_indices(labels: np.ndarray, probabilities: np.ndarray, first_page: int = FIRST_PAGE,
                 max_images: int = MAX_IMAGES) -> np.ndarray:
    """The test digits a gallery keeps images of, in increasing order.

    Within a cell, digits are ranked as evaluate.cell_examples orders them (confidence in the
    predicted digit, highest first, ties by index), so each cell keeps a prefix of its list.
    """
    labels = np.asarray(labels).astype(np.int64)
    predicted = probabilities.argmax(axis=1)
    cell = labels * 10 + predicted
    order = np.lexsort((-probabilities[np.arange(len(labels)), predicted], cell))
    sorted_cells = cell[order]
    rank = np.empty(len(labels), np.int64)
    rank[order] = np.arange(len(labels)) - np.searchsorted(sorted_cells, sorted_cells)
    correct = labels == predicted
    diagonal = np.flatnonzero(correct & (rank < first_page))[:max_images]
    wrong = np.flatnonzero(~correct)
    wrong = wrong[np.lexsort((cell[wrong], rank[wrong]))][:max_images - len(diagonal)]
    return np.sort(np.concatenate([diagonal, wrong]))


def build_gallery(x_test: np.ndarray, y_test: np.ndarray, probabilities: np.ndarray,
                  first_page: int = FIRST_PAGE, max_images: int = MAX_IMAGES) -> Gallery:
    """The gallery of a model from the test set and the model's test probabilities."""
    probabilities = np.asarray(probabilities)
    if probabilities.shape != (len(y_test), 10):
        raise GalleryError(f"probabilities have shape {probabilities.shape}, expected ({len(y_test)}, 10)")
    if x_test.shape != (len(y_test), 28, 28) or x_test.dtype != np.uint8:
        raise GalleryError(f"test images are {x_test.shape} {x_test.dtype}, expected ({len(y_test)}, 28, 28) uint8")
    indices = pick_indices(y_test, probabilities, first_page, max_images)
    gallery = Gallery(np.asarray(y_test).astype(np.uint8), probabilities.astype(np.float32),
                      indices.astype(np.int32), x_test[indices])
    check_gallery(gallery, "the new gallery")
    return gallery


def check_gallery(gallery: Gallery, where: str) -> None:
    """Raise GalleryError unless every array has the shape and dtype Explore relies on."""
    labels, probabilities, indices, images = (getattr(gallery, k) for k in KEYS)
    n = len(labels)
    if labels.ndim != 1 or labels.dtype != np.uint8 or (n and labels.max() > 9):
        raise GalleryError(f"{where}: labels must be (N,) uint8 digits 0-9, got {labels.shape} {labels.dtype}")
    if probabilities.shape != (n, 10) or probabilities.dtype != np.float32:
        raise GalleryError(f"{where}: probabilities must be ({n}, 10) float32, "
                           f"got {probabilities.shape} {probabilities.dtype}")
    if not np.isfinite(probabilities).all():
        raise GalleryError(f"{where}: probabilities hold NaN or infinite values")
    if indices.ndim != 1 or indices.dtype != np.int32:
        raise GalleryError(f"{where}: indices must be (K,) int32, got {indices.shape} {indices.dtype}")
    if len(indices) and (indices[0] < 0 or indices[-1] >= n or (np.diff(indices) <= 0).any()):
        raise GalleryError(f"{where}: indices must increase and lie in 0-{n - 1}")
    if images.shape != (len(indices), 28, 28) or images.dtype != np.uint8:
        raise GalleryError(f"{where}: images must be ({len(indices)}, 28, 28) uint8, "
                           f"got {images.shape} {images.dtype}")


def write_gallery(gallery: Gallery, folder) -> Path:
    """Write `folder/gallery.npz` atomically."""
    check_gallery(gallery, "the gallery to write")
    return write_atomically(Path(folder) / GALLERY_FILE, {k: getattr(gallery, k) for k in KEYS})


def read_gallery(folder, where: str = "the gallery") -> Gallery:
    """Read `folder/gallery.npz` back, GalleryError if it is missing, corrupt or malformed.

    `where` names the gallery in messages (a run's name, not a server path).
    """
    path = Path(folder) / GALLERY_FILE
    if not path.is_file():
        raise GalleryError(f"{where}: {GALLERY_FILE} is missing")
    try:
        gallery = Gallery(**read_bounded(path, KEYS, MAX_UNCOMPRESSED_BYTES, where))
    except NpzError as exc:
        raise GalleryError(str(exc)) from exc
    check_gallery(gallery, where)
    return gallery


def images_for(indices, gallery: Gallery, test_set=None) -> tuple[np.ndarray, np.ndarray]:
    """The images of the test digits `indices` and a mask of those found.

    From the full test set when one is given (an (x_test, y_test) pair whose labels match the
    gallery's): all found. Otherwise from the gallery: the digits it kept are found, the others
    are blank images with found False.
    """
    indices = np.asarray(indices, dtype=np.int64).reshape(-1)
    n = len(gallery.labels)
    if len(indices) and (indices.min() < 0 or indices.max() >= n):
        raise GalleryError(f"test indices must lie in 0-{n - 1}")
    if test_set is not None and np.array_equal(test_set[1], gallery.labels):
        return np.asarray(test_set[0][indices], dtype=np.uint8), np.ones(len(indices), bool)
    images = np.zeros((len(indices), 28, 28), np.uint8)
    if not len(gallery.indices):
        return images, np.zeros(len(indices), bool)
    places = np.minimum(np.searchsorted(gallery.indices, indices), len(gallery.indices) - 1)
    found = gallery.indices[places] == indices
    images[found] = gallery.images[places[found]]
    return images, found
