"""Real handwriting: the UNIPEN development set's pen-written digits drawn as a person draws on the
canvas, read as the app reads them, and scored (calibration, a sheet of the misread digits).

Shared by bench.measure.accuracy.real_handwriting, bench.measure.accuracy.three_widths,
bench.measure.accuracy.personalization and bench.measure.cost.finetune_job.
The set (../shared/data/README.md) is only ever measured on, never trained on.
"""

import gzip
import json
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from bench.harness.paths import SHARED_DATA
from mnist_core import DrawingError, to_model_input
from mnist_core.personal import PersonalSet
from mnist_core.training.strokes import random_canvas_drawing

DEFAULT_DATA = SHARED_DATA / "unipen_dev.json.gz"


def load_unipen(path: Path) -> list[dict]:
    """[{"label", "source", "strokes"}], strokes in tablet coordinates with y pointing up."""
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return json.load(handle)


WRITER_HALVES = ("tune", "confirm")


def writer_half(sample: dict) -> str:
    """Which half of the writers a digit's writer is in, the same on every machine. A writer's file
    sits in a folder of their site; the folder is the unit, so no writer is in both halves."""
    return WRITER_HALVES[zlib.crc32(str(Path(sample["source"]).parent).encode()) % 2]


def of_writers(samples: list[dict], half: str) -> list[dict]:
    """The samples of one half of the writers ("tune" or "confirm"), or all of them ("all")."""
    return samples if half == "all" else [s for s in samples if writer_half(s) == half]


def canvas_drawings(samples: list[dict], seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [random_canvas_drawing(s["strokes"], rng, y_up=True) for s in samples]


def as_personal_set(samples: list[dict], rng: np.random.Generator) -> tuple[PersonalSet, int]:
    """The writer's digits as the app's model inputs (uint8, as a personal set keeps them), and how
    many drawings the app refuses (a dot, say), which nobody can add to a personal set."""
    images, labels, refused = [], [], 0
    for sample in samples:
        try:
            images.append(to_model_input(random_canvas_drawing(sample["strokes"], rng, y_up=True)))
            labels.append(sample["label"])
        except DrawingError:
            refused += 1
    return PersonalSet(np.round(np.stack(images) * 255).astype(np.uint8), np.array(labels, np.uint8)), refused


def model_inputs(drawings: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The 28x28 inputs the app makes, and which drawings it refused (a dot, say): those count as errors."""
    inputs, refused = np.zeros((len(drawings), 28, 28), np.float32), np.zeros(len(drawings), bool)
    for i, drawing in enumerate(drawings):
        try:
            inputs[i] = to_model_input(drawing)
        except DrawingError:
            refused[i] = True
    return inputs, refused


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    """The gap between shown confidence and accuracy, averaged over equal-width confidence bins."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    gap = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            gap += inside.mean() * abs(confidence[inside].mean() - correct[inside].mean())
    return float(gap)


def error_sheet(inputs: np.ndarray, labels: np.ndarray, predicted: np.ndarray, path: Path, limit: int = 400) -> None:
    """The misread digits as the network saw them, 20 a row, each with a strip: green = label, red = answer."""
    wrong = np.flatnonzero(labels != predicted)[:limit]
    cols = 20
    rows = max(1, -(-len(wrong) // cols))
    sheet = np.full((rows * 36, cols * 30, 3), 255, np.uint8)
    for k, i in enumerate(wrong):
        r, c = divmod(k, cols)
        tile = (255 - inputs[i] * 255).astype(np.uint8)
        sheet[r * 36:r * 36 + 28, c * 30:c * 30 + 28] = tile[..., None]
        sheet[r * 36 + 29:r * 36 + 33, c * 30 + labels[i] * 2 + 4:c * 30 + labels[i] * 2 + 6] = (0, 160, 0)
        sheet[r * 36 + 29:r * 36 + 33, c * 30 + predicted[i] * 2 + 4:c * 30 + predicted[i] * 2 + 6] = (220, 0, 0)
    Image.fromarray(sheet).resize((sheet.shape[1] * 2, sheet.shape[0] * 2), Image.Resampling.NEAREST).save(path)
