"""Fine-tuning a copy of a network on a person's digits: the split, the batches, the mechanics, and a
synthetic writer the bundled model misreads, taught without losing MNIST."""

import threading

import numpy as np
import pytest

from bench.harness.drawings.canvas_digits import styled_digit
from mnist_core import personal
from mnist_core.training import finetune
from mnist_core.data import load_mnist
from mnist_core.training.keras_reader import keras_reader
from mnist_core.runs.gallery import build_gallery
from mnist_core.personal import PersonalSet
from mnist_core.reading.preprocess import to_model_input
from mnist_core.runs.store import find_run
from mnist_core.keras_runs.importing import load_keras_model
from mnist_core.keras_runs.saving import save_model, training_card
from mnist_core.progress import BATCH, EPOCH, FINISHED, STOPPED
from tests.support.data import tiny_arrays


def labelled(labels) -> PersonalSet:
    """A set whose images tell the examples apart: example i has i + 1 ink pixels."""
    x = np.zeros((len(labels), 28, 28), np.uint8)
    for i in range(len(labels)):
        x[i].flat[:i + 1] = 255
    return PersonalSet(x, np.array(labels, np.uint8))


def test_split_halves_each_digit_the_same_way_for_the_same_seed():
    s = labelled([0] * 5 + [1] * 4 + [2] * 1 + [7] * 2)
    taught, held_out = finetune.split(s, seed=3)
    assert taught.counts() == [3, 2, 1, 0, 0, 0, 0, 1, 0, 0]
    assert held_out.counts() == [2, 2, 0, 0, 0, 0, 0, 1, 0, 0]
    ink = lambda part: sorted(int(image.sum()) // 255 for image in part.x)  # which examples, by their ink
    assert sorted(ink(taught) + ink(held_out)) == list(range(1, 13))
    again = finetune.split(s, seed=3)
    np.testing.assert_array_equal(again[1].x, held_out.x)
    assert any(not np.array_equal(finetune.split(s, seed=k)[1].x, held_out.x) for k in range(4, 10))


def test_mixed_batches_put_the_personal_digits_in_every_batch():
    mine = labelled(list(range(10)) * 2)
    mnist_x = np.zeros((1000, 28, 28), np.uint8)
    mnist_y = np.arange(1000) % 10
    mnist_x[:, 27, 27] = np.arange(1000) % 256  # tell MNIST digits apart from personal ones
    mnist_x[:, 26, 27] = np.arange(1000) // 256
    x, y = finetune.mixed_batches(mine.x, mine.y, mnist_x, mnist_y, steps=30, batch_size=32, personal_per_batch=8,
                                  rng=np.random.default_rng(0))
    assert x.shape == (30 * 32, 28, 28) and y.shape == (30 * 32,)
    batches = x.reshape(30, 32, 28, 28)
    ink = batches[:, :8].reshape(30, 8, -1).sum(axis=2) // 255
    assert (ink >= 1).all() and np.bincount(ink.ravel(), minlength=21)[1:].tolist() == [12] * 20  # each seen 12 times
    replay = batches[:, 8:, 27, 27].astype(int) + 256 * batches[:, 8:, 26, 27].astype(int)
    assert len(np.unique(replay)) == 30 * 24  # no MNIST digit twice while there are enough
    np.testing.assert_array_equal(y.reshape(30, 32)[:, 8:], replay % 10)


def small_network():
    import keras
    from keras import layers

    return keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(4, 3, use_bias=False), layers.BatchNormalization(),
                             layers.ReLU(), layers.Dropout(0.25), layers.Flatten(),
                             layers.Dense(10, activation="softmax", name="probabilities")], name="small")


def test_finetune_trains_a_copy_and_reports_like_a_training(tmp_path):
    arrays = tiny_arrays(n_train=300, n_test=100)
    parent = small_network()
    before = [w.copy() for w in parent.get_weights()]
    mine = labelled([3] * 6 + [5] * 6)
    seen = []
    result = finetune.finetune(parent, mine.x, mine.y, arrays["x_train"], arrays["y_train"], steps=12,
                               on_progress=seen.append)
    assert result.config.preset == "personal" and result.config.epochs == 1 and result.config.dropout == 0.25
    assert result.ended == FINISHED and result.epochs_done == 1 and len(result.batch_history) == 12
    assert [p.kind for p in seen] == [BATCH] * 12 + [EPOCH] and seen[-1].fraction == 1.0
    for old, new in zip(before, parent.get_weights()):
        np.testing.assert_array_equal(old, new)  # the parent is untouched
    for old, new in zip(parent.layers[1].get_weights(), result.model.layers[1].get_weights()):
        np.testing.assert_array_equal(old, new)  # batch norm keeps the parent's scale, shift and statistics
    assert not np.array_equal(result.model.layers[0].get_weights()[0], parent.layers[0].get_weights()[0])

    probabilities = keras_reader(result.model).pixel_probabilities(arrays["x_test"])
    gallery = build_gallery(arrays["x_test"], arrays["y_test"], probabilities)
    card = training_card(result, "mine", 0.5, command="python -m mnist_core finetune ...", parent="default")
    run = save_model(result.model, card, gallery, store=tmp_path)
    assert (run.card.preset, run.card.parent, run.card.epochs_done) == ("personal", "default", 1)
    assert (run.path / "model.onnx").is_file()


def test_finetune_stopped_before_it_starts_keeps_the_parent_weights():
    arrays = tiny_arrays(n_train=100, n_test=10)
    parent = small_network()
    stop = threading.Event()
    stop.set()
    mine = labelled([1, 2])
    result = finetune.finetune(parent, mine.x, mine.y, arrays["x_train"], arrays["y_train"], steps=5, stop=stop)
    assert result.ended == STOPPED and result.epochs_done == 0 and len(result.batch_history) == 0
    for old, new in zip(parent.get_weights(), result.model.get_weights()):
        np.testing.assert_array_equal(old, new)
    with pytest.raises(ValueError, match="no personal digits"):
        finetune.finetune(parent, mine.x[:0], mine.y[:0], arrays["x_train"], arrays["y_train"])


# A writer with a consistent odd hand: sevens and nines written mirrored, which the bundled model
# reads as 5s and 8s, and three styles it reads right.
WRITER_STYLES = {("7 with a crossbar", True): 7, ("9 with a straight stem", True): 9, ("1 with a long flag", False): 1,
                 ("open 4", False): 4, ("0 with a long slash", False): 0}


def synthetic_writer(per_style: int = 10, seed: int = 0) -> PersonalSet:
    rng = np.random.default_rng(seed)
    s = personal.empty()
    for (style, mirrored), label in WRITER_STYLES.items():
        for _ in range(per_style):
            drawing = styled_digit(style, rng)
            s = personal.add(s, to_model_input(drawing[:, ::-1] if mirrored else drawing), label)
    return s


@pytest.mark.mnist
@pytest.mark.slow
def test_teaching_a_writer_fixes_their_held_out_digits_without_losing_mnist(mnist_path):
    run = find_run()
    parent = load_keras_model(run)
    data = load_mnist(mnist_path)
    taught, held_out = finetune.split(synthetic_writer(), seed=0)
    assert len(taught) == 25 and held_out.counts() == [5, 5, 0, 0, 5, 0, 0, 5, 0, 5]
    result = finetune.finetune(parent, taught.x, taught.y, data.x_train, data.y_train)
    gallery = run.gallery()
    np.testing.assert_array_equal(gallery.labels, data.y_test)
    parent_reader, child_reader = (keras_reader(model, run.card.three_widths) for model in (parent, result.model))
    measured = finetune.before_after(parent_reader, child_reader, held_out, data.x_test, data.y_test,
                                     gallery.probabilities)
    mirrored = np.isin(held_out.y, [7, 9])
    misread = parent_reader.drawing_probabilities(held_out.x[mirrored] / 255).argmax(axis=1) != held_out.y[mirrored]
    assert misread.mean() >= 0.9  # the model misreads them
    assert measured.personal_before <= 0.65 and measured.personal_after == 1.0
    assert measured.mnist_before == pytest.approx(run.card.test_accuracy)
    assert measured.mnist_after >= measured.mnist_before - 0.002
    assert measured.test_probabilities.shape == (10000, 10)
