"""Teach a saved network one person's handwriting: fine-tune a copy on their personal set.

A fixed number of small steps (Adam, a tenth of the `best` preset's peak learning rate), each
batch mostly MNIST training digits (replay, so the network keeps reading the many writers it
learnt from) and a few of the person's digits, going round their set again and again. The
person's share is small on purpose: a wrongly labelled example (a click on the wrong digit, a
stroke fragment labelled 4) in every batch teaches the network to misread a whole MNIST class,
and an eighth of each batch does not. No augmentation: it cost MNIST accuracy and taught the
held-out digits no better (both measured with bench/personalization.py; see bench/README.md).
Batch normalisation keeps the parent's statistics (its layers run in inference mode), since
batches of one person's digits are not what the network will see.

Runs in the training process: TensorFlow is imported only when a function here needs it.
"""

import dataclasses
import math
import threading
import time
from typing import Callable

import numpy as np

from mnist_core.config import TrainConfig
from mnist_core.personal import PersonalSet
from mnist_core.reading.preprocess import thicken
from mnist_core.training.train import BATCH, EPOCH, STOPPED, Progress, TrainingResult, batch_pipeline

PRESET = "personal"  # what a fine-tuned run's card says it is
STEPS, BATCH_SIZE, PERSONAL_PER_BATCH, LEARNING_RATE = 100, 64, 8, 3e-4


def split(personal: PersonalSet, seed: int = 0) -> tuple[PersonalSet, PersonalSet]:
    """(taught, held out): each digit's examples shuffled and halved, the odd one taught, so every
    digit held out is also taught; the same halves for the same seed."""
    rng = np.random.default_rng(seed)
    taught, held_out = [], []
    for digit in range(10):
        order = rng.permutation(np.flatnonzero(personal.y == digit))
        held_out.append(order[:len(order) // 2])
        taught.append(order[len(order) // 2:])
    picks = (np.sort(np.concatenate(part)).astype(np.int64) for part in (taught, held_out))
    return tuple(PersonalSet(personal.x[i], personal.y[i]) for i in picks)


def as_read(pixels: np.ndarray) -> np.ndarray:
    """A person's uint8 digits as the Draw page reads their drawings (preprocess.thicken)."""
    return np.round(thicken(pixels.astype(np.float32) / 255) * 255).astype(np.uint8)


def mixed_batches(personal_x: np.ndarray, personal_y: np.ndarray, mnist_x: np.ndarray, mnist_y: np.ndarray,
                  steps: int, batch_size: int, personal_per_batch: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """`steps` batches in order, each `personal_per_batch` personal digits first (going round the
    set, reshuffled each time round) then MNIST digits (none used twice while there are enough)."""
    mine_count, replay_count = steps * personal_per_batch, steps * (batch_size - personal_per_batch)
    rounds = max(1, math.ceil(mine_count / len(personal_y)))
    mine = np.concatenate([rng.permutation(len(personal_y)) for _ in range(rounds)])[:mine_count]
    replay = rng.choice(len(mnist_y), replay_count, replace=replay_count > len(mnist_y))
    x = np.concatenate([personal_x[mine].reshape(steps, -1, 28, 28), mnist_x[replay].reshape(steps, -1, 28, 28)],
                       axis=1)
    y = np.concatenate([personal_y[mine].reshape(steps, -1), mnist_y[replay].reshape(steps, -1)], axis=1)
    return x.reshape(-1, 28, 28), y.reshape(-1)


def personal_config(parent, batch_size: int, learning_rate: float, seed: int) -> TrainConfig:
    """What a fine-tune's card records under `hyperparameters`: one epoch (of `steps` batches), the
    parent's dropout (its layers are kept as they are)."""
    import keras

    dropout = next((layer.rate for layer in parent.layers if isinstance(layer, keras.layers.Dropout)), 0.0)
    return TrainConfig(PRESET, epochs=1, batch_size=batch_size, learning_rate=learning_rate, optimizer="adam",
                       dropout=float(dropout), early_stopping=False, patience=1, augment=False, seed=seed)


def copy_network(parent):
    """A new network with the parent's layers and weights; training it leaves the parent as it was."""
    import keras

    model = keras.models.clone_model(parent)
    model.set_weights(parent.get_weights())
    return model


def finetune(parent, personal_x: np.ndarray, personal_y: np.ndarray, mnist_x: np.ndarray, mnist_y: np.ndarray, *,
             steps: int = STEPS, batch_size: int = BATCH_SIZE, personal_per_batch: int = PERSONAL_PER_BATCH,
             learning_rate: float = LEARNING_RATE, seed: int = 0,
             on_progress: Callable[[Progress], None] | None = None,
             stop: threading.Event | None = None) -> TrainingResult:
    """A copy of the Keras network `parent` taught the personal digits (uint8 N x 28 x 28 and labels,
    as a PersonalSet holds them, read as the Draw page reads drawings), with MNIST training digits
    replayed (uint8, as data.Mnist holds them).

    The result is a TrainingResult of preset "personal": one epoch of `steps` batches, its history
    the epoch's training loss and accuracy (no validation), its wall time the training's alone.
    Progress and stop work as in train.train: a stop ends it within a batch, marked stopped.
    """
    if not len(personal_y):
        raise ValueError("there are no personal digits to learn from")
    if not 0 < personal_per_batch < batch_size:
        raise ValueError(f"personal digits per batch must be between 1 and {batch_size - 1}, got {personal_per_batch}")
    import keras

    from mnist_core.training.augment import training_model

    keras.utils.set_random_seed(seed)
    config = personal_config(parent, batch_size, learning_rate, seed)
    model = copy_network(parent)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # Keras then runs it in inference mode, with the parent's statistics
    fit_model = training_model(model, config)  # scales the uint8 images; config.augment is off
    fit_model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=keras.losses.CategoricalCrossentropy(),
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    fit_model.optimizer.build(fit_model.trainable_variables)  # one trace of the step, not two (see train.py)
    x, y = mixed_batches(as_read(personal_x), personal_y, mnist_x, mnist_y, steps, batch_size, personal_per_batch,
                         np.random.default_rng(seed))
    result = TrainingResult(model=model, config=config)
    stop = stop or threading.Event()
    report = on_progress or (lambda progress: None)
    started = time.perf_counter()

    class Reporter(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            result.batch_history.append(dict(epoch=1, batch=batch + 1, loss=logs.get("loss"),
                                             accuracy=logs.get("accuracy")))
            report(Progress(BATCH, 1, 1, batch + 1, steps, time.perf_counter() - started, logs))
            if stop.is_set():
                self.model.stop_training = True

    if not stop.is_set():
        fit_model.fit(batch_pipeline(x, y, batch_size), epochs=1, verbose=0, callbacks=[Reporter()], shuffle=False)
    result.wall_time = time.perf_counter() - started
    if stop.is_set():
        result.ended = STOPPED  # a partial epoch: its batches are kept, its averages would mislead
    else:
        logs = {k: result.batch_history[-1][k] for k in ("loss", "accuracy")}  # Keras' running means: the epoch's
        for key, value in logs.items():
            result.history[key].append(value)
        report(Progress(EPOCH, 1, 1, steps, steps, result.wall_time, logs))
    return result


def accuracy(model, images: np.ndarray, labels: np.ndarray, three_widths: bool = False) -> float:
    """A Keras network's accuracy on uint8 N x 28 x 28 images (NaN when there are none), read at
    three stroke widths when asked."""
    from mnist_core.evaluate import model_probabilities

    if not len(labels):
        return math.nan
    return float((model_probabilities(model, images, three_widths=three_widths).argmax(axis=1) == labels).mean())


@dataclasses.dataclass(frozen=True)
class BeforeAfter:
    """How the parent and its fine-tuned copy read the person's held-out digits and the MNIST test set."""

    personal_before: float  # accuracy on the held-out personal digits (NaN when none are held out)
    personal_after: float
    mnist_before: float
    mnist_after: float
    test_probabilities: np.ndarray  # (N, 10) float32, the copy's: what its run's gallery is built from


def before_after(parent, child, held_out: PersonalSet, x_test: np.ndarray, y_test: np.ndarray,
                 parent_test_probabilities: np.ndarray | None = None, three_widths: bool = False) -> BeforeAfter:
    """Both Keras networks on `held_out` (read as drawings are) and on the test set (uint8), each
    read at three stroke widths when the parent is (the copy is read as its parent). The parent's
    test probabilities may be given (its run's gallery holds them) to spare running it on the test
    set again."""
    from mnist_core.evaluate import model_probabilities

    if parent_test_probabilities is None:
        parent_test_probabilities = model_probabilities(parent, x_test, three_widths=three_widths)
    test_probabilities = model_probabilities(child, x_test, three_widths=three_widths)
    mnist = [float((p.argmax(axis=1) == y_test).mean()) for p in (parent_test_probabilities, test_probabilities)]
    held_out_x = as_read(held_out.x)
    return BeforeAfter(accuracy(parent, held_out_x, held_out.y, three_widths),
                       accuracy(child, held_out_x, held_out.y, three_widths), *mnist, test_probabilities)
