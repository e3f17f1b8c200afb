"""What a training reports while it runs and how it ended: shared by the training process, which
sends it, and the server, which shows it (jobs/protocol.py carries it between them)."""

import math
from dataclasses import dataclass

# How a training ended (a TrainingResult's, a job's and a card's `ended`).
FINISHED, EARLY_STOPPED, STOPPED = "finished", "early-stopped", "stopped"
BATCH, EPOCH = "batch", "epoch"  # the two kinds of Progress


@dataclass
class Progress:
    """A snapshot sent to the progress callback after every batch and every epoch."""

    kind: str  # BATCH or EPOCH
    epoch: int  # 1-based
    epochs: int  # in the whole run
    batch: int  # 1-based, within the epoch
    batches_per_epoch: int
    elapsed: float  # seconds since training started
    logs: dict

    @property
    def step(self) -> int:
        """Batches done since the start, over all epochs."""
        return (self.epoch - 1) * self.batches_per_epoch + self.batch

    @property
    def fraction(self) -> float:
        return min(1.0, self.step / (self.epochs * self.batches_per_epoch))

    @property
    def eta(self) -> float:
        return self.elapsed * (1 - self.fraction) / self.fraction if self.fraction else math.nan


class ThinnedList(list):
    """A list for per-batch curves that stays under `limit` items however long a run is.

    It keeps every `stride`-th item appended; when it would pass `limit`, it drops every other
    item it holds and doubles the stride, so the points stay evenly spaced over the whole run.
    """

    def __init__(self, limit: int = 1000):
        super().__init__()
        self.limit, self.stride, self.offered = limit - limit % 2, 1, 0  # an even limit keeps the spacing even

    def append(self, item) -> None:
        if self.offered % self.stride == 0:
            super().append(item)
            if len(self) > self.limit:
                del self[1::2]
                self.stride *= 2
        self.offered += 1
