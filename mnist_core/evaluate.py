"""Test-set figures from labels and predicted probabilities, in NumPy only.

Everything here works from stored probabilities, so the app can draw a confusion matrix and its
galleries without loading TensorFlow or running the network again.
"""

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Evaluation:
    accuracy: float
    confusion: np.ndarray  # 10 x 10 counts, rows = true digit, columns = predicted digit
    precision: np.ndarray  # per class, 0 where a class was never predicted
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray  # test images per true class

    @property
    def errors(self) -> int:
        return int(self.confusion.sum() - np.trace(self.confusion))

    def top_confusions(self, k: int = 5) -> list[tuple[int, int, int]]:
        """The k largest off-diagonal cells as (true, predicted, count), largest first."""
        off = self.confusion.copy()
        np.fill_diagonal(off, 0)
        order = np.argsort(-off, axis=None, kind="stable")[:k]
        return [(int(i // 10), int(i % 10), int(off.flat[i])) for i in order if off.flat[i] > 0]

    def to_dict(self) -> dict:
        return dict(
            accuracy=self.accuracy,
            errors=self.errors,
            confusion_matrix=self.confusion.tolist(),
            per_class=[dict(digit=d, precision=float(self.precision[d]), recall=float(self.recall[d]),
                            f1=float(self.f1[d]), support=int(self.support[d])) for d in range(10)],
            top_confusions=[dict(true=t, predicted=p, count=c) for t, p, c in self.top_confusions()],
        )


def _safe_divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0)


def evaluate_probabilities(labels: np.ndarray, probabilities: np.ndarray) -> Evaluation:
    labels = np.asarray(labels).astype(np.int64)
    predicted = np.asarray(probabilities).argmax(axis=1)
    if probabilities.shape != (len(labels), 10):
        raise ValueError(f"probabilities have shape {probabilities.shape}, expected ({len(labels)}, 10)")
    confusion = np.bincount(labels * 10 + predicted, minlength=100).reshape(10, 10)
    hits = np.diag(confusion).astype(float)
    precision = _safe_divide(hits, confusion.sum(axis=0))
    recall = _safe_divide(hits, confusion.sum(axis=1))
    f1 = _safe_divide(2 * precision * recall, precision + recall)
    return Evaluation(float(hits.sum() / max(1, len(labels))), confusion, precision, recall, f1,
                      confusion.sum(axis=1))


def cell_examples(labels: np.ndarray, probabilities: np.ndarray, true: int, predicted: int) -> np.ndarray:
    """Indices of test images of digit `true` predicted as `predicted`, most confident first."""
    hits = np.flatnonzero((labels == true) & (probabilities.argmax(axis=1) == predicted))
    return hits[np.argsort(-probabilities[hits, predicted], kind="stable")]


def suspicious_labels(labels: np.ndarray, probabilities: np.ndarray, doubt: float = 0.05,
                      limit: int = 100) -> list[dict]:
    """Test digits whose given label the network strongly disputes: it gives that label less than
    `doubt` (confident learning's self-confidence) and answers something else, most confident
    first. Some are the network's mistakes, some are MNIST's."""
    labels = np.asarray(labels).astype(np.int64)
    self_confidence = probabilities[np.arange(len(labels)), labels]
    predicted = probabilities.argmax(axis=1)
    disputed = np.flatnonzero((self_confidence < doubt) & (predicted != labels))
    order = disputed[np.argsort(-probabilities[disputed, predicted[disputed]], kind="stable")][:limit]
    return [dict(index=int(i), given=int(labels[i]), predicted=int(predicted[i]),
                 confidence=round(float(probabilities[i, predicted[i]]), 6)) for i in order]


@dataclass(frozen=True)
class Comparison:
    """Run B against run A on the same test set."""

    a: Evaluation
    b: Evaluation
    fixed: np.ndarray  # test indices A got wrong and B right
    broke: np.ndarray  # test indices A got right and B wrong

    @property
    def difference(self) -> np.ndarray:
        return self.b.confusion - self.a.confusion


def compare_probabilities(labels: np.ndarray, a: np.ndarray, b: np.ndarray) -> Comparison:
    """Compare two runs' test probabilities for the same labels."""
    labels = np.asarray(labels).astype(np.int64)
    right_a, right_b = a.argmax(axis=1) == labels, b.argmax(axis=1) == labels
    return Comparison(evaluate_probabilities(labels, a), evaluate_probabilities(labels, b),
                      np.flatnonzero(~right_a & right_b), np.flatnonzero(right_a & ~right_b))


def plural(count: int, noun: str) -> str:
    """'1 test image', '3 test images'."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def confusion_sentences(evaluation: Evaluation, k: int = 5) -> list[str]:
    """The top confusions in words, as the seed notebook wrote them."""
    return [f"{t} read as {p}: {plural(c, 'time')}"
            for t, p, c in evaluation.top_confusions(k)]
