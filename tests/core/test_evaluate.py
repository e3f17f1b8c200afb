import numpy as np

from mnist_core.evaluate import (cell_examples, compare_probabilities, confusion_sentences, evaluate_probabilities,
                                 plural, suspicious_labels)


def one_hot_probabilities(predicted, confidence):
    p = np.full((len(predicted), 10), 0.0, np.float32)
    for i, (d, c) in enumerate(zip(predicted, confidence)):
        p[i] = (1 - c) / 9
        p[i, d] = c
    return p


LABELS = np.array([4, 4, 4, 4, 2, 2, 7, 7, 0, 1])
PREDICTED = np.array([9, 9, 4, 9, 7, 2, 7, 7, 0, 1])
CONFIDENCE = np.array([0.6, 0.9, 0.8, 0.7, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9])


def test_figures_are_exact():
    result = evaluate_probabilities(LABELS, one_hot_probabilities(PREDICTED, CONFIDENCE))
    assert result.accuracy == 0.6 and result.errors == 4
    assert result.confusion[4, 9] == 3 and result.confusion[2, 7] == 1 and result.confusion.sum() == 10
    assert result.recall[4] == 0.25 and result.precision[7] == 2 / 3
    assert result.f1[7] == 2 * (2 / 3) * 1.0 / (2 / 3 + 1.0)
    assert result.precision[9] == 0.0 and result.support[4] == 4
    assert result.top_confusions() == [(4, 9, 3), (2, 7, 1)]
    assert confusion_sentences(result) == ["4 read as 9: 3 times", "2 read as 7: 1 time"]
    payload = result.to_dict()
    assert payload["confusion_matrix"][4][9] == 3 and payload["per_class"][4]["support"] == 4


def test_suspicious_labels_are_the_confidently_disputed_ones_most_confident_first():
    probabilities = one_hot_probabilities(PREDICTED, [0.6, 0.99, 0.8, 0.97, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9])
    # given labels get (1 - c) / 9: 0.044 (#0), 0.0011 (#1), 0.0033 (#3), 0.056 (#4); only #0, #1, #3 are < 5%
    assert suspicious_labels(LABELS, probabilities) == [
        dict(index=1, given=4, predicted=9, confidence=0.99),
        dict(index=3, given=4, predicted=9, confidence=0.97),
        dict(index=0, given=4, predicted=9, confidence=0.6),
    ]
    assert suspicious_labels(LABELS, probabilities, limit=1)[0]["index"] == 1
    assert suspicious_labels(LABELS, one_hot_probabilities(LABELS, [0.99] * 10)) == []


def test_compare_finds_what_b_fixed_and_broke():
    a = one_hot_probabilities(PREDICTED, CONFIDENCE)
    b_predicted = PREDICTED.copy()
    b_predicted[[0, 4]] = [4, 2]  # fixes #0 (4) and #4 (2)
    b_predicted[9] = 7  # breaks #9 (1 read as 7)
    result = compare_probabilities(LABELS, a, one_hot_probabilities(b_predicted, CONFIDENCE))
    assert result.fixed.tolist() == [0, 4] and result.broke.tolist() == [9]
    assert result.a.accuracy == 0.6 and result.b.accuracy == 0.7
    expected = np.zeros((10, 10), int)
    expected[4, 9], expected[4, 4], expected[2, 7], expected[2, 2], expected[1, 7], expected[1, 1] = -1, 1, -1, 1, 1, -1
    assert np.array_equal(result.difference, expected)


def test_plural():
    assert [plural(1, "test image"), plural(0, "mistake"), plural(10000, "test image")] == [
        "1 test image", "0 mistakes", "10,000 test images"]


def test_cell_examples_most_confident_first():
    probabilities = one_hot_probabilities(PREDICTED, CONFIDENCE)
    assert cell_examples(LABELS, probabilities, 4, 9).tolist() == [1, 3, 0]
    assert cell_examples(LABELS, probabilities, 3, 5).tolist() == []
