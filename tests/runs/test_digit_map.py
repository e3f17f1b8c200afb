"""The map of the test set: computed from final-layer features, stored with a run, read back safely,
and a new drawing placed among its nearest test digits."""

import numpy as np
import pytest

from mnist_core.runs import digit_map
from mnist_core.runs.digit_map import MAP_FILE, MapError, check_map, compute_map, map_like, place, read_map, write_map


def clustered_features(per_cluster: int = 80, clusters: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features of `clusters` well-separated kinds of digit in 64 dimensions, and each one's kind."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (clusters, 64))
    kinds = np.repeat(np.arange(clusters), per_cluster)
    return (centres[kinds] + rng.normal(0, 1, (len(kinds), 64))).astype(np.float32), kinds


@pytest.fixture(scope="module")
def made():
    features, kinds = clustered_features()
    return compute_map(features), features, kinds


def test_the_map_has_a_point_per_digit_and_keeps_alike_digits_together(made):
    m, features, kinds = made
    assert m.xy.shape == (240, 2) and m.xy.dtype == np.float32
    assert m.features.shape == (240, digit_map.PCA_DIMENSIONS) and m.features.dtype == np.float16
    assert m.mean.shape == (64,) and m.components.shape == (digit_map.PCA_DIMENSIONS, 64)
    centres = np.stack([m.xy[kinds == k].mean(axis=0) for k in range(3)])
    spread = max(np.linalg.norm(m.xy[kinds == k] - centres[k], axis=1).mean() for k in range(3))
    apart = min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3))
    assert apart > 3 * spread  # each kind is its own island


def test_the_same_features_give_the_same_map():
    features, _ = clustered_features(per_cluster=30)
    np.testing.assert_array_equal(compute_map(features).xy, compute_map(features).xy)


def test_a_drawing_lands_among_the_digits_it_is_like(made):
    m, features, kinds = made
    where, nearest = place(m, features[5] + 0.01)
    assert nearest[0] == 5 and len(nearest) == digit_map.NEIGHBOURS and (kinds[nearest] == kinds[5]).all()
    assert np.linalg.norm(where - m.xy[kinds == kinds[5]].mean(axis=0)) < np.linalg.norm(
        where - m.xy[kinds != kinds[5]].mean(axis=0))


def test_a_drawing_can_be_placed_among_some_digits_only(made):
    m, features, kinds = made
    among = np.flatnonzero(kinds == kinds[5])[10:20]  # 5 itself is not among them
    _, nearest = place(m, features[5], among=among)
    assert set(nearest) <= set(among) and len(nearest) == digit_map.NEIGHBOURS and 5 not in nearest


def test_write_and_read_round_trip_exactly(made, tmp_path):
    m = made[0]
    write_map(m, tmp_path)
    back = read_map(tmp_path)
    for key in digit_map.KEYS:
        np.testing.assert_array_equal(getattr(back, key), getattr(m, key))
    assert [p.name for p in tmp_path.iterdir()] == [MAP_FILE]  # no temporary file is left


def test_bad_maps_are_refused_with_a_message(made, tmp_path):
    with pytest.raises(MapError, match="run 'x' has no map of the test set"):
        read_map(tmp_path, "run 'x'")
    (tmp_path / MAP_FILE).write_bytes(b"garbage")
    with pytest.raises(MapError, match="map.npz is unreadable"):
        read_map(tmp_path)
    m = made[0]
    np.savez(tmp_path / MAP_FILE, xy=m.xy[:10], features=m.features, mean=m.mean, components=m.components)
    with pytest.raises(MapError, match=r"features must be \(10, K\) float16"):
        read_map(tmp_path)
    np.savez(tmp_path / MAP_FILE, xy=m.xy)
    with pytest.raises(MapError, match="lacks features, mean, components"):
        read_map(tmp_path)
    with pytest.raises(MapError, match="features must be finite"):
        compute_map(np.full((10, 4), np.nan, np.float32))


def test_a_copys_map_places_each_digit_where_its_parent_had_it(made):
    m, features, kinds = made
    copy = map_like(m, features + np.random.default_rng(1).normal(0, 0.05, features.shape).astype(np.float32))
    check_map(copy, "the copy's map", count=240)
    np.testing.assert_array_equal(copy.mean, m.mean)  # the parent's PCA: a drawing is placed as on the parent's
    moved = np.linalg.norm(copy.xy - m.xy, axis=1)
    spread = np.linalg.norm(m.xy - m.xy.mean(axis=0), axis=1).mean()
    assert np.median(moved) < 0.2 * spread  # each digit lands among its own neighbours
    own = [(np.linalg.norm(copy.xy[kinds == k].mean(axis=0) - m.xy[kinds == k].mean(axis=0))) for k in range(3)]
    assert max(own) < 0.2 * spread
