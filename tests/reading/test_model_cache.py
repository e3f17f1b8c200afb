"""The server's loaded models are bounded by their bytes together, not only by their number."""

from mnist_core.reading.model_cache import BoundedCache


def test_the_least_recently_used_go_until_count_and_bytes_both_fit():
    cache, loads = BoundedCache(max_entries=3, max_bytes=100), []

    def get(key, size):
        return cache.get(key, lambda: (loads.append(key) or f"model {key}", size))

    assert get("a", 40) == "model a" and get("b", 40) == "model b"
    assert get("a", 40) == "model a" and loads == ["a", "b"]  # cached: loaded once, now the most recent
    get("c", 40)  # 120 bytes would not fit: b, the least recently used, goes
    assert list(cache.entries) == ["a", "c"] and cache.total_bytes == 80
    for key in "def":
        get(key, 1)
    assert list(cache.entries) == ["d", "e", "f"]  # three at most, however small
    get("huge", 500)  # over the bound alone: kept, everything else let go
    assert list(cache.entries) == ["huge"] and loads[-1] == "huge"
