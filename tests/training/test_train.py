import threading

import numpy as np
import pytest

from mnist_core.config import make_config
from mnist_core.data import load_mnist
from mnist_core.training.keras_reader import keras_reader
from mnist_core.progress import STOPPED, ThinnedList
from mnist_core.training.train import batch_pipeline, train
from tests.support.training import tiny_split


@pytest.fixture(scope="module")
def tiny_data():
    return tiny_split()


def test_batch_pipeline_covers_every_image_once_per_epoch_in_a_new_order():
    images = np.arange(10, dtype=np.uint8)[:, None, None] * np.ones((1, 28, 28), np.uint8)  # image i is all i
    labels = np.arange(10)
    pipeline = batch_pipeline(images, labels, batch_size=4, seed=3)
    epochs = [[(x.numpy(), y.numpy()) for x, y in pipeline] for _ in range(2)]
    for epoch in epochs:
        assert [x.shape for x, _ in epoch] == [(4, 28, 28, 1), (4, 28, 28, 1), (2, 28, 28, 1)]
        order = np.concatenate([x[:, 0, 0, 0] for x, _ in epoch])
        assert sorted(order) == list(range(10))
        assert np.array_equal(np.concatenate([y for _, y in epoch]).argmax(1), order)  # labels travel with images
    first, second = (np.concatenate([x[:, 0, 0, 0] for x, _ in epoch]) for epoch in epochs)
    assert not np.array_equal(first, second)  # reshuffled
    in_order = np.concatenate([x[:, 0, 0, 0] for x, _ in batch_pipeline(images, labels, batch_size=4)])
    assert list(in_order) == list(range(10))  # validation: no seed, no shuffle


def test_one_epoch_records_batches_and_epochs(tiny_data):
    seen = []
    result = train(make_config("seed-mlp", epochs=1, batch_size=50), tiny_data, on_progress=seen.append)
    assert result.ended == "finished" and result.epochs_done == 1
    assert len(result.batch_history) == 10  # 500 training images / 50
    assert [b["batch"] for b in result.batch_history] == list(range(1, 11))
    assert all(b["loss"] > 0 and 0 <= b["accuracy"] <= 1 for b in result.batch_history)
    assert set(result.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 1 for v in result.history.values())
    assert [p.kind for p in seen].count("batch") == 10 and seen[-1].kind == "epoch"
    assert {p.batches_per_epoch for p in seen} == {10} and [p.step for p in seen[:3]] == [1, 2, 3]
    assert seen[-1].fraction == 1.0
    assert result.model.predict(np.zeros((2, 28, 28, 1)), verbose=0).shape == (2, 10)


def test_stop_within_one_batch(tiny_data):
    stop = threading.Event()

    def stop_at_third(progress):
        if progress.kind == "batch" and progress.batch == 3:
            stop.set()

    result = train(make_config("quick", epochs=5, batch_size=20), tiny_data, on_progress=stop_at_third, stop=stop)
    assert result.ended == STOPPED
    assert len(result.batch_history) == 3  # the batch in flight finished; no further batch ran
    assert result.epochs_done == 0  # the partial epoch is not reported as an epoch
    assert result.model.count_params() > 0


def test_augmented_training_runs(tiny_data):
    result = train(make_config("best", epochs=1, batch_size=100, train_size=200, style_images=0), tiny_data)
    assert result.epochs_done == 1 and len(result.batch_history) == 2
    assert [layer.name for layer in result.model.layers if "random" in layer.name] == []  # not in the saved net


def test_label_smoothing_softens_the_targets(tiny_data):
    """With smoothing 0.5 the target is 0.55 for the true class and 0.05 for each other one, so the
    loss can never fall below that target's entropy (1.677), however well the net learns."""
    smoothed_entropy = -(0.55 * np.log(0.55) + 9 * 0.05 * np.log(0.05))
    plain = train(make_config("seed-mlp", epochs=5, batch_size=50), tiny_data)
    smoothed = train(make_config("seed-mlp", epochs=5, batch_size=50, label_smoothing=0.5), tiny_data)
    assert plain.history["loss"][-1] < 1.0
    assert smoothed.history["loss"][-1] >= smoothed_entropy - 1e-4
    assert smoothed.history["val_accuracy"][-1] >= 0.9  # still learns the classes


def test_early_stopping_reports_it(tiny_data):
    result = train(make_config("seed-mlp", epochs=30, batch_size=100, learning_rate=5.0, early_stopping=True,
                               patience=1), tiny_data)
    assert result.ended == "early-stopped" and result.epochs_done < 30


@pytest.mark.mnist
@pytest.mark.slow
def test_seed_mlp_reaches_97_percent_by_epoch_three(mnist_path):
    """The notebook's MLP passes 97% test accuracy early: after 2 epochs it is 96.4-97.1% across
    seeds and shuffles, after 3 epochs 97.2-97.4%. Our validation split comes from the training
    set (harder: ~96.7% at epoch 3), so both are checked."""
    data = load_mnist(mnist_path)
    result = train(make_config("seed-mlp", epochs=3), data)
    test_accuracy = (keras_reader(result.model).pixel_probabilities(data.x_test).argmax(1) == data.y_test).mean()
    assert test_accuracy >= 0.97, test_accuracy
    assert result.history["val_accuracy"][2] >= 0.96, result.history


def test_thinned_list_stays_bounded_and_evenly_spaced():
    points = ThinnedList(limit=10)
    for i in range(1000):
        points.append(i)
    assert len(points) <= 10 and points[0] == 0
    gaps = {b - a for a, b in zip(points, points[1:])}
    assert gaps == {128} and points[-1] >= 1000 - 128  # 1000 points at a stride of 128, up to the end
    short = ThinnedList(limit=10)
    for i in range(7):
        short.append(i)
    assert short == list(range(7))  # under the limit nothing is dropped
