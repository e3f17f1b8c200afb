"""Runs made by hand for tests that need many of them: a card and a stand-in model file, no network."""

import json
from pathlib import Path


def fake_run(store: Path, name: str, created: str = "2026-01-01T00:00:00+00:00", temporary: bool = True,
             owner: str | None = None, size: int = 1000) -> Path:
    """A run folder as the store lists it: `card.json` and a `model.onnx` of `size` bytes."""
    folder = store / name
    folder.mkdir(parents=True)
    card = dict(name=name, preset="quick", test_accuracy=0.5, epochs_done=1, wall_time_seconds=1.0, ended="finished",
                history={}, created=created, owner=owner, temporary=temporary)
    (folder / "card.json").write_text(json.dumps(card))
    (folder / "model.onnx").write_bytes(b"\0" * size)
    return folder
