"""A map of the test set: each test digit as a point in 2-D, near the digits the network sees alike.

What the network "sees" is the features its last layer reads (keras_runs/export.py exports them). They are
reduced to PCA_DIMENSIONS with PCA, then laid out with t-SNE (openTSNE's FFT-accelerated one,
which lays out 10,000 digits in well under half a minute on two cores). It is computed once, in
the training process when a run is saved, and stored beside it as `map.npz`: the 2-D points, the
reduced features and the PCA that reduces them, so that the server, with NumPy alone, can put a
new drawing on the map among its nearest test digits (`place`). openTSNE is imported only by
`compute_map`, never by the server.
"""

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mnist_core.runs.npz_files import NpzError, read_bounded, write_atomically

MAP_FILE = "map.npz"
KEYS = ("xy", "features", "mean", "components")
PCA_DIMENSIONS = 30
FFT_FROM = 2000  # points
NEIGHBOURS = 8  # a drawing is placed among this many nearest test digits
MAX_UNCOMPRESSED_BYTES = 16_000_000  # a 10,000-digit map is about 1 MB


class MapError(RuntimeError):
    """A map cannot be computed, written or read; the message says what is wrong."""


@dataclass(frozen=True)
class DigitMap:
    xy: np.ndarray  # (N, 2) float32: each test digit's place
    features: np.ndarray  # (N, K) float16: its features after PCA
    mean: np.ndarray  # (D,) float32: the PCA's centre, in the network's D features
    components: np.ndarray  # (K, D) float32: the PCA's axes


def compute_map(features: np.ndarray, seed: int = 0) -> DigitMap:
    """The map of N test digits from their (N, D) final-layer features."""
    from openTSNE import TSNE

    features = np.asarray(features, np.float32)
    if features.ndim != 2 or len(features) < 4 or not np.isfinite(features).all():
        raise MapError(f"features must be finite (N, D) with N at least 4, got {features.shape}")
    mean = features.mean(axis=0)
    centred = features - mean
    # The PCA's axes from the D x D covariance rather than an SVD of the N x D features: the same
    # axes, without the SVD's workspace (700 MB for 10,000 digits of a network reading 1,600 features).
    _, axes = np.linalg.eigh((centred.T @ centred).astype(np.float64))
    components = axes[:, ::-1][:, :PCA_DIMENSIONS].T.astype(np.float32)
    reduced = centred @ components.T
    # The default schedule (250 exaggerated, then 500 steps) moves little after 250. FFT gradients
    # keep 10,000 points fast, but cost seconds of fixed overhead that Barnes-Hut does not for a
    # few hundred. A tiny test set needs a perplexity below a third of its size.
    tsne = TSNE(perplexity=min(30.0, (len(features) - 1) / 3), n_jobs=os.cpu_count() or 1, random_state=seed,
                negative_gradient_method="fft" if len(features) > FFT_FROM else "bh", n_iter=250,
                initialization="pca")
    xy = np.asarray(tsne.fit(reduced), np.float32)
    return DigitMap(xy, reduced.astype(np.float16), mean, components.astype(np.float32))


def check_map(digit_map: DigitMap, where: str, count: int | None = None) -> None:
    """MapError unless the arrays have the shapes and dtypes `place` and Explore rely on."""
    xy, features, mean, components = (getattr(digit_map, k) for k in KEYS)
    n = len(xy)
    if xy.shape != (n, 2) or xy.dtype != np.float32 or (count is not None and n != count):
        raise MapError(f"{where}: xy must be ({count or 'N'}, 2) float32, got {xy.shape} {xy.dtype}")
    if features.ndim != 2 or len(features) != n or features.dtype != np.float16:
        raise MapError(f"{where}: features must be ({n}, K) float16, got {features.shape} {features.dtype}")
    if components.shape != (features.shape[1], len(mean)) or mean.ndim != 1:
        raise MapError(f"{where}: the PCA has shape {components.shape} for {len(mean)} features, expected "
                       f"({features.shape[1]}, {len(mean)})")
    if not all(np.isfinite(a).all() for a in (xy, features, mean, components)):
        raise MapError(f"{where}: the map holds NaN or infinite values")


def write_map(digit_map: DigitMap, folder) -> Path:
    """Write `folder/map.npz` atomically."""
    check_map(digit_map, "the map to write")
    return write_atomically(Path(folder) / MAP_FILE, {k: getattr(digit_map, k) for k in KEYS})


def read_map(folder, where: str = "the map") -> DigitMap:
    """Read `folder/map.npz`; MapError if it is missing, corrupt or malformed (`where` names the run)."""
    path = Path(folder) / MAP_FILE
    if not path.is_file():
        raise MapError(f"{where} has no map of the test set (its training could not make one)")
    try:
        digit_map = DigitMap(**read_bounded(path, KEYS, MAX_UNCOMPRESSED_BYTES, where))
    except NpzError as exc:
        raise MapError(str(exc)) from exc
    check_map(digit_map, where)
    return digit_map


def place(digit_map: DigitMap, features: np.ndarray, among: np.ndarray | None = None,
          neighbours: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """Where one drawing goes on the map, from its (D,) final-layer features: the mean place of its
    nearest test digits (in the PCA space the map was made from), and their indices, nearest first.
    `among`: the test digits to look for neighbours in (say, those whose images are at hand)."""
    reduced = (np.asarray(features, np.float32).reshape(-1) - digit_map.mean) @ digit_map.components.T
    candidates = np.arange(len(digit_map.xy)) if among is None else np.asarray(among, np.int64)
    distances = np.square(digit_map.features[candidates].astype(np.float32) - reduced).sum(axis=1)
    k = min(neighbours, len(distances))
    nearest = np.argpartition(distances, k - 1)[:k]
    nearest = candidates[nearest[np.argsort(distances[nearest], kind="stable")]]
    return digit_map.xy[nearest].mean(axis=0), nearest


def map_like(parent: DigitMap, features: np.ndarray, neighbours: int = NEIGHBOURS) -> DigitMap:
    """The map of a network close to the one `parent` was made for (a fine-tuned copy), from the
    copy's (N, D) features of the same test digits: each digit placed among its nearest neighbours
    of the parent's map, as `place` places a drawing, in the parent's PCA space. Half a second,
    where a new t-SNE takes ten or more, and the copy's map looks like its parent's."""
    from scipy.spatial import cKDTree  # the training process's: the server places one drawing at a time

    reduced = ((np.asarray(features, np.float32) - parent.mean) @ parent.components.T).astype(np.float32)
    _, nearest = cKDTree(parent.features.astype(np.float32)).query(reduced, k=neighbours, workers=1)
    xy = parent.xy[nearest].mean(axis=1).astype(np.float32)
    return DigitMap(xy, reduced.astype(np.float16), parent.mean, parent.components)
