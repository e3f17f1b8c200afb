"""The server's loaded models, bounded by their number and by their bytes together.

One ONNX Runtime session per run serves every session of the server. A count alone does not
bound their memory: an uploaded network may be a hundred times the size of the app's own (up to
runs/architecture.py's parameter bound), and eight of those would be hundreds of megabytes on a
small server. So the least recently used models are let go until both bounds hold.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Hashable

MAX_MODELS = 8
MAX_MODEL_BYTES = 48_000_000  # ONNX files together; the bundled model's is 1.3 MB, the largest allowed 12 MB


@dataclass
class BoundedCache:
    max_entries: int = MAX_MODELS
    max_bytes: int = MAX_MODEL_BYTES
    entries: OrderedDict = field(default_factory=OrderedDict)  # key → (value, its bytes), least recent first
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.entries.values())

    def get(self, key: Hashable, load: Callable[[], tuple[object, int]]):
        """The value cached under `key`, else `load()`'s (value, bytes), kept after the least
        recently used are let go to make room (the newest is kept even alone over the bound).
        Loading holds the lock, so that two sessions asking at once load one copy."""
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                return self.entries[key][0]
            value, size = load()
            while self.entries and (len(self.entries) >= self.max_entries or self.total_bytes + size > self.max_bytes):
                self.entries.popitem(last=False)
            self.entries[key] = (value, size)
            return value
