"""A picture of a number → its digits, left to right, each read as the Draw page reads one digit.

The picture is cut into pieces: the canvas's strokes when they are given (each ink pixel goes to
the stroke drawn over it), else the picture's connected parts, so the same code reads an upload.
Pieces that overlap horizontally are one digit (a 4 or a 5 written in two strokes, a 7's bar);
dots and stray ticks, small beside the number's height, are dropped. A group too wide for one
digit (two digits touching, or close enough to merge) is split where the network is most sure
of both halves: between its pieces, or at a column with little ink (an upload's only way to part
digits whose ink touches). Crops are read once to choose, then only those kept by reader.py's rule.
"""

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

from mnist_core.reading.predict import Classifier, Prediction
from mnist_core.reading.preprocess import (MAX_DECODED_PIXELS, MIN_INK_FRACTION, DrawingError, find_ink, fit_ink,
                                           ink_map)
from mnist_core.reading.reader import unsure_answers

MAX_DIGITS = 12  # more parts than this is not a number someone wrote: refused, so reading stays quick
MAX_PIECES = 64  # the largest pieces kept (the rest is dust): bounds the work whatever the picture
MAX_STROKES, MAX_POINTS, MAX_COORDINATE = 300, 30_000, 1e5  # past a canvas: strokes ignored, a point skipped
MAX_CUTS = 5  # cuts of each kind tried per over-wide part
MAX_ROUNDS = 3  # a group holding three or four digits is split again, at most this often
DOT = 0.2  # a piece whose longer side is under this share of the number's height is a dot: dropped
TICK = 0.3  # the same for a whole group (a stray tick); a 1 is thin but tall, and stays
MERGE = 0.5  # pieces are one digit when they overlap over this share of the narrower one's width
OVERLAP = 0.1  # or over this share of the number's height: digits side by side overlap less
WIDE = 1.3  # a group wider than this many times the number's height is tried as two digits
NARROW, DOUBT = 0.6, 0.9  # or wider than this and read less sure than that: two digits touching?
EDGE = 0.12  # a column cut leaves at least this share of the height on each side (a thin 1)
SPLIT = 0.5  # log-probability a split must gain over the whole part to be kept
SPLIT_WIDE = 1.0  # the same for a part wider than WIDE
NOT_A_DIGIT = 2.0  # what a part the detector calls no digit costs a reading, in log-probability
JOIN_GAP = 0.1  # neighbours closer than this share of the height may be one digit
JOIN_WIDE = 1.5  # if they make a part no wider than this many times the height
JOIN_DOUBT = 0.9  # and one of them alone is read less sure than this, or as no digit
DROP = -0.5  # what leaving out a piece too small for a digit costs


@dataclass(frozen=True)
class DigitReading:
    box: tuple[int, int, int, int]  # x0, y0, x1, y1 in the picture's pixels (x1, y1 exclusive)
    prediction: Prediction  # as Classifier.predict gives it for this digit's ink alone

    @property
    def unsure(self) -> bool:
        """Less sure than reader.SURE: marked as the Draw page marks such a one-digit answer."""
        return bool(unsure_answers(self.prediction.probabilities[None])[0])


@dataclass(frozen=True)
class NumberReading:
    digits: tuple[DigitReading, ...]  # left to right
    ink: np.ndarray = field(repr=False, compare=False)  # the whole picture's preprocess.ink_map, to draw it

    @property
    def number(self) -> str:
        """The digits as a string; "?" stands for a part the detector says is no digit."""
        return "".join(str(d.prediction.digit) if d.prediction.is_digit else "?" for d in self.digits)


@dataclass(frozen=True)
class _Part:
    ids: tuple[int, ...]  # the pieces (labels) it is made of
    x0: int  # and the columns it takes their ink from
    x1: int


def stroke_paths(objects) -> list[tuple[np.ndarray, float]]:
    """The canvas's fabric.js objects (json_data["objects"]; "Path" in fabric 6, "path" before) → each
    path as (N x 2 points in canvas pixels, pen width). The control points of the freehand brush's
    quadratic curves lie on the stroke, so the points make a close polyline. The value comes from
    a browser: anything malformed is skipped, and too many strokes give none (read the picture)."""
    if not isinstance(objects, list) or len(objects) > MAX_STROKES:
        return []  # not the canvas's strokes, or more than a person draws: checked before any is read
    paths = []
    for obj in objects:
        if not isinstance(obj, dict) or str(obj.get("type")).lower() != "path" or not isinstance(obj.get("path"), list):
            continue
        numbers = [v for command in obj["path"] if isinstance(command, list)  # NaN fails the test too
                   for v in command[1:] if isinstance(v, (int, float)) and -MAX_COORDINATE < v < MAX_COORDINATE]
        if len(numbers) >= 2:
            width = obj.get("strokeWidth")
            paths.append((np.asarray(numbers[:len(numbers) // 2 * 2], np.float64).reshape(-1, 2),
                          float(width) if isinstance(width, (int, float)) and 0 < width < 500 else 0.0))
    return paths if sum(len(p) for p, _ in paths) <= MAX_POINTS else []


def read_number(classifier: Classifier, image: np.ndarray, strokes=None) -> NumberReading:
    """A picture of a number (gray, RGB or RGBA, either polarity; the wide canvas's H x W x 4) →
    its digits left to right. `strokes`: the canvas's objects (see stroke_paths), in the picture's
    pixels, or None for a picture alone. NothingDrawnError when blank; DrawingError when the
    picture is too large or holds more than MAX_DIGITS parts."""
    image = np.asarray(image)
    if np.prod(image.shape[:2]) > MAX_DECODED_PIXELS:
        raise DrawingError("the picture is too large to read as a number: scale it down first")
    ink = whole_ink = ink_map(image)
    inked, rows, cols, _ = find_ink(ink, "write a number")
    window = slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)  # the ink's box: the rest is blank
    ink, inked, left, top = ink[window], inked[window], int(cols[0]), int(rows[0])  # and every step costs by area
    labels = _stroke_labels(inked, stroke_paths(strokes), (left, top)) if strokes is not None else None
    if labels is None:  # no strokes, or strokes that do not match the picture
        labels = ndimage.label(inked, structure=np.ones((3, 3), bool))[0]
    boxes = _largest_pieces(labels)
    height = max(b[3] - b[2] for b in boxes.values())
    if height < MIN_INK_FRACTION * max(image.shape[:2]):
        raise DrawingError("That is only a dot: write the number larger.")
    boxes = {k: b for k, b in boxes.items() if max(b[1] - b[0], b[3] - b[2]) >= DOT * height}
    groups = _overlapping(boxes, height)
    page = _Page(classifier, ink, labels, boxes, max(g[4] - g[3] for g in groups))  # strokes joined: a digit's height
    parts = _joined(groups, page) if len(groups) <= 2 * MAX_DIGITS else groups
    if len(parts) > MAX_DIGITS:
        raise DrawingError(f"that is more than {MAX_DIGITS} digits' worth of separate marks: write a shorter number")
    for _ in range(MAX_ROUNDS):
        if not page.split(parts):
            break
    parts = sorted(parts, key=lambda p: page.crops[p][0][0] + page.crops[p][0][2])[:MAX_DIGITS]
    finished = classifier.by_rule([page.readings[p] for p in parts])  # each digit read as predict reads it
    return NumberReading(tuple(DigitReading(tuple(np.add(page.crops[p][0], (left, top, left, top)).tolist()), f)
                               for p, f in zip(parts, finished)), whole_ink)


@dataclass
class _Page:
    """The picture cut into labelled pieces, and every part of it read so far."""
    classifier: Classifier
    ink: np.ndarray
    labels: np.ndarray  # each ink pixel's piece (a stroke or a connected part), 0 for none
    boxes: dict  # {piece: (x0, x1, y0, y1)}
    height: int  # the number's
    crops: dict = field(default_factory=dict)  # {part: (box, its ink alone)}
    readings: dict = field(default_factory=dict)  # {part: Prediction}

    def read(self, parts: list) -> None:
        """Every part not read yet, read once (enough to choose; read_number finishes those chosen)."""
        new = list(dict.fromkeys(p for p in parts if p not in self.readings))
        self.crops.update({p: _crop(self.ink, self.labels, p) for p in new if p not in self.crops})
        inputs = [fit_ink(self.crops[p][1]) for p in new]  # the crop is an ink map already
        self.readings.update(zip(new, self.classifier.read_inputs(np.stack(inputs), rule=False) if new else []))

    def width(self, part: _Part) -> float:
        return (self.crops[part][0][2] - self.crops[part][0][0]) / self.height

    def split(self, parts: list) -> bool:
        """Each part too wide for a digit, or wide and doubtful (two digits touching?), cut in two
        where both halves read best, if that beats the whole; whether any was cut."""
        doubtful = [p for p in parts if self.width(p) > WIDE or (
            self.width(p) > NARROW and self.readings[p].confidence < DOUBT)]
        if not doubtful or len(parts) >= MAX_DIGITS:
            return False
        options = {p: _splits(p, self) for p in doubtful}
        self.read([half for pairs in options.values() for pair in pairs for half in pair])
        cut = False
        for part, pairs in options.items():
            best = max(pairs, key=lambda pair: sum(_score(self.readings[h]) for h in pair), default=None)
            cost = SPLIT if self.width(part) <= WIDE else SPLIT_WIDE if self.readings[part].is_digit else -np.inf
            if best and sum(_score(self.readings[h]) for h in best) > _score(self.readings[part]) + cost:
                parts[parts.index(part):parts.index(part) + 1] = best
                cut = True
        return cut


def _joined(groups: list, page: _Page) -> list:
    """The groups (left to right) as digits: neighbours that touch or overlap may be one digit (a 4
    whose bar sticks out, a 2 begun with a loop), and a piece too small for a digit (a dot, a tick)
    is part of one or nothing. The best of these readings by the network's sureness (_score),
    found by dynamic programming over runs of at most three neighbours."""
    runs, height, apart = {}, page.height, set()  # apart: runs of groups whose boxes do not all overlap
    for i in range(len(groups)):
        for j in range(i, min(i + 3, len(groups))):
            x0, x1 = groups[i][1], max(g[2] for g in groups[i:j + 1])
            reach = max(g[2] for g in groups[i:j]) if j > i else 0  # how far right the run so far goes
            overlap = min(reach, groups[j][2]) - groups[j][1]
            if j > i and (overlap <= -JOIN_GAP * height or x1 - x0 > JOIN_WIDE * height):
                break
            if j > i and (overlap <= 0 or (i, j - 1) in apart):
                apart.add((i, j))
            small = j == i and max(groups[i][2] - groups[i][1], groups[i][4] - groups[i][3]) < TICK * height
            runs[i, j] = None if small else _Part(tuple(k for g in groups[i:j + 1] for k in g[0]), x0, x1)
    alone = [runs[i, i] for i in range(len(groups))]
    page.read([p for p in alone if p is not None])
    # Groups set apart join only where one alone reads doubtful, and must gain what a split must;
    # groups overlapping are always tried, freely: a 4's two strokes may each read as a sure digit.
    doubtful = [p is None or not page.readings[p].is_digit or page.readings[p].confidence < JOIN_DOUBT for p in alone]
    runs = {(i, j): p for (i, j), p in runs.items() if (i, j) not in apart or any(doubtful[i:j + 1])}
    page.read([p for p in runs.values() if p is not None])
    score = {run: DROP if p is None else _score(page.readings[p]) - SPLIT * (run in apart) for run, p in runs.items()}
    best = [(0.0, [])]  # best[j]: the score and parts of the first j groups
    for j in range(1, len(groups) + 1):
        best.append(max(((best[a][0] + score[a, b], best[a][1] + ([part] if part else []))
                         for (a, b), part in runs.items() if b == j - 1),
                        key=lambda option: option[0]))
    return best[-1][1]


def _score(prediction: Prediction) -> float:
    """How sure the network is that a part is the digit it read: log-probability, less for no digit."""
    return float(np.log(max(prediction.confidence, 1e-9))) - (0.0 if prediction.is_digit else NOT_A_DIGIT)


def _stroke_labels(inked: np.ndarray, paths: list, origin: tuple[int, int]) -> np.ndarray | None:
    """Each ink pixel labelled with the stroke drawn over it (the last one where strokes cross);
    None when the strokes miss much of the ink: they are not this picture's. `inked` starts at `origin`."""
    if not paths:
        return None
    drawn = Image.new("I", (inked.shape[1], inked.shape[0]), 0)
    pen = ImageDraw.Draw(drawn)
    guess = 2 * float(ndimage.distance_transform_edt(inked).max()) if any(w == 0 for _, w in paths) else 0
    for k, (points, width) in enumerate(paths, start=1):
        reach = (width or guess) + 4  # the anti-aliased edge is ink too
        xy = [tuple(p) for p in points - origin]
        if len(xy) > 1:
            pen.line(xy, fill=k, width=max(1, round(reach)))  # joints' notches are inside the reach
        for x, y in (xy[0], xy[-1]):
            pen.ellipse((x - reach / 2, y - reach / 2, x + reach / 2, y + reach / 2), fill=k)
    labels = np.asarray(drawn, np.int32) * inked
    return labels if np.count_nonzero(labels) >= 0.9 * np.count_nonzero(inked) else None


def _largest_pieces(labels: np.ndarray) -> dict[int, tuple[int, int, int, int]]:
    """{label: (x0, x1, y0, y1)} of the MAX_PIECES pieces with the most ink; fewer pixels are dust."""
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    keep = np.flatnonzero(sizes)
    if len(keep) > MAX_PIECES:
        keep = keep[np.argsort(sizes[keep])[-MAX_PIECES:]]
        labels = np.where(np.isin(labels, keep), labels, 0)
    found = ndimage.find_objects(labels)
    return {int(k): (found[k - 1][1].start, found[k - 1][1].stop, found[k - 1][0].start, found[k - 1][0].stop)
            for k in keep}


def _overlapping(boxes: dict, height: int) -> list[tuple]:
    """Pieces merged, left to right, while they overlap horizontally over MERGE of the narrower's
    width: [(ids, x0, x1, y0, y1)]. Written digits side by side overlap little; a digit's own
    strokes (a 4's two, a 7's bar) lie over one another."""
    groups = []
    for k, (x0, x1, y0, y1) in sorted(boxes.items(), key=lambda item: item[1][0]):
        group = (k,), x0, x1, y0, y1
        for i in range(len(groups) - 1, -1, -1):  # the new piece may bridge several groups
            ids, gx0, gx1, gy0, gy1 = groups[i]
            overlap = min(gx1, group[2]) - max(gx0, group[1])
            if overlap > min(MERGE * min(gx1 - gx0, group[2] - group[1]), OVERLAP * height):
                group = ids + group[0], min(gx0, group[1]), max(gx1, group[2]), min(gy0, group[3]), max(gy1, group[4])
                del groups[i]
        groups.append(group)
    return sorted(groups, key=lambda g: g[1])


def _crop(ink: np.ndarray, labels: np.ndarray, part: _Part) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """A part's box in the picture and its ink alone (with the faint rim), as preprocess.fit_ink takes it."""
    mask = np.logical_or.reduce([labels[:, part.x0:part.x1] == k for k in part.ids])  # np.isin: 40 times slower
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):  # a cut left nothing on one side: read as a blank, never chosen
        return (part.x0, 0, part.x0 + 1, 1), np.zeros((3, 3), np.float32)
    y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    window = (slice(y0, y1), slice(part.x0 + x0, part.x0 + x1))
    keep = mask[y0:y1, x0:x1] | (labels[window] == 0)  # the faint rim below the ink threshold belongs to no piece
    return (int(part.x0 + x0), int(y0), int(part.x0 + x1), int(y1)), ink[window] * keep


def _splits(part: _Part, page: _Page) -> list:
    """The ways to cut a part in two: between its pieces (left to right by centre, where their
    centres are furthest apart), at its middle, and at the columns with the least ink that leave
    EDGE of the height on each side; MAX_CUTS of each at most."""
    options = []
    if len(part.ids) > 1:
        order = sorted(part.ids, key=lambda k: page.boxes[k][0] + page.boxes[k][1])
        centres = [page.boxes[k][0] + page.boxes[k][1] for k in order]
        side_by_side = [i for i in range(1, len(order))  # pieces over one another are one digit (an 8's loops)
                        if max(page.boxes[k][1] for k in order[:i]) - min(page.boxes[k][0] for k in order[i:])
                        <= OVERLAP * page.height]
        at = sorted(side_by_side, key=lambda i: centres[i - 1] - centres[i])[:MAX_CUTS]
        options += [(_Part(tuple(order[:i]), part.x0, part.x1), _Part(tuple(order[i:]), part.x0, part.x1)) for i in at]
    (x0, _, x1, _), _ = page.crops[part]
    edge = max(1, int(EDGE * page.height))
    if x1 - x0 > 2 * edge:
        columns = sum(page.labels[:, x0:x1] == k for k in part.ids).sum(axis=0)[edge:x1 - x0 - edge]
        smooth = np.convolve(columns, np.ones(3) / 3, mode="same")
        chosen = [len(columns) // 2]  # the middle too: two round digits touch where the ink is thickest
        for i in np.argsort(smooth, kind="stable"):
            if _local_minimum(smooth, i) and all(abs(i - j) > edge // 2 for j in chosen):
                chosen.append(i)
            if len(chosen) > MAX_CUTS:
                break
        options += [(_Part(part.ids, x0, x0 + edge + i), _Part(part.ids, x0 + edge + i, x1)) for i in chosen]
    page.crops.update({h: _crop(page.ink, page.labels, h) for pair in options for h in pair if h not in page.crops})
    return [pair for pair in options if all(page.crops[h][1].any() for h in pair)]


def _local_minimum(values: np.ndarray, i: int) -> bool:
    return values[i] <= min(values[max(i - 1, 0)], values[min(i + 1, len(values) - 1)])
