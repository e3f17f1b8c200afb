"""A run's card: how it was made and how it did, everything about a run but its weights.

It is read and written here only. Cards are JSON files that outlive the code that wrote them,
so reading is tolerant: a field an older card lacks, or holds with the wrong type, takes its
default, and fields this code does not know are left out.
"""

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CARD_FILE = "card.json"


@dataclass(frozen=True)
class RunCard:
    name: str
    test_accuracy: float = 0.0
    preset: str = "?"
    hyperparameters: dict = field(default_factory=dict)  # config.TrainConfig's fields; {} for an imported network
    ended: str = "?"  # finished, early-stopped, stopped, or imported
    epochs_done: int = 0
    wall_time_seconds: float = 0.0
    history: dict = field(default_factory=dict)  # per epoch: loss, accuracy, val_loss, val_accuracy
    batch_history: list = field(default_factory=list)  # thinned: {epoch, batch, loss, accuracy}
    command: str | None = None  # what reproduces it
    parameters: int = 0
    created: str = ""  # ISO 8601, UTC
    versions: dict = field(default_factory=dict)  # python, tensorflow, keras, numpy
    owner: str | None = None  # the owner id of the app session that made it (jobs/access.py)
    temporary: bool = False  # a public deployment's visitor's run, which the quota may delete
    three_widths: bool = False  # unsure answers are read again at two more stroke widths (reading/reader.py)
    parent: str | None = None  # a fine-tuned copy's parent run
    personal: dict | None = None  # a fine-tune's figures: taught, held_out, counts, personal_before/after, mnist_before
    detector: dict | None = None  # its digit detector's figures when saved: threshold, digits_kept, others_flagged, auroc
    imported: dict | None = None  # a network brought in from a file: its architecture, input_shape, pixel_scale,
    # softmax_added (keras_runs/importing.py imported_figures)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_TYPES = {"test_accuracy": (int, float), "wall_time_seconds": (int, float), "epochs_done": int, "parameters": int,
          "preset": str, "ended": str, "created": str, "hyperparameters": dict, "history": dict, "versions": dict,
          "batch_history": list, "temporary": bool, "three_widths": bool, "command": (str, type(None)),
          "owner": (str, type(None)), "parent": (str, type(None)), "personal": (dict, type(None)),
          "detector": (dict, type(None)), "imported": (dict, type(None))}


def _fits(key: str, value) -> bool:
    """Whether a card's value has its field's type (True is no number, as it is to Python)."""
    return isinstance(value, _TYPES[key]) and (isinstance(value, bool) == (_TYPES[key] is bool))


def card_from_dict(values: dict, name: str) -> RunCard:
    """A RunCard from a card's JSON object; `name` (the run's folder) when the card names none."""
    kept = {key: value for key, value in values.items() if key in _TYPES and _fits(key, value)}
    return RunCard(name=values["name"] if isinstance(values.get("name"), str) else name, **kept)


def read_card(folder: Path) -> RunCard:
    """The card in `folder`; OSError or ValueError when it is missing or not a JSON object."""
    values = json.loads((Path(folder) / CARD_FILE).read_text(encoding="utf-8"))
    if not isinstance(values, dict):
        raise ValueError("the card is not a JSON object")
    return card_from_dict(values, Path(folder).name)


def write_card(card: RunCard, folder: Path) -> None:
    """Write `card` into `folder` atomically (a reader sees the old card or the new, never half)."""
    folder = Path(folder)
    handle, temp = tempfile.mkstemp(prefix=".card-", suffix=".json", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o644)  # like every other file of a run, not mkstemp's 0600
            json.dump(card.to_dict(), out, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, folder / CARD_FILE)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
