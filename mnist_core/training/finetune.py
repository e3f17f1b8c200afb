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
from mnist_core.progress import STOPPED, Progress
from mnist_core.training.train import TrainingResult, batch_pipeline, reporter

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

    if not stop.is_set():
        fit_model.fit(batch_pipeline(x, y, batch_size), epochs=1, verbose=0, shuffle=False,
                      callbacks=[reporter(result, steps, report, stop, started)])
    result.wall_time = time.perf_counter() - started
    if stop.is_set():
        result.ended = STOPPED
    return result


@dataclasses.dataclass(frozen=True)
class BeforeAfter:
    """How the parent and its fine-tuned copy read the person's held-out digits and the MNIST test set."""

    personal_before: float  # accuracy on the held-out personal digits (NaN when none are held out)
    personal_after: float
    mnist_before: float
    mnist_after: float
    test_probabilities: np.ndarray  # (N, 10) float32, the copy's: what its run's gallery is built from
    held_out_answers: np.ndarray  # the copy's digit for each held-out drawing


def before_after(parent, child, held_out: PersonalSet, x_test: np.ndarray, y_test: np.ndarray,
                 parent_test_probabilities: np.ndarray | None = None,
                 test_probabilities: np.ndarray | None = None) -> BeforeAfter:
    """Both networks (Readers: the copy is read as its parent) on `held_out` (read as drawings are)
    and on the uint8 test set. Either's test probabilities may be given (the parent's run's gallery
    holds them; the copy's come with its features) to spare running it on the test set again."""
    if parent_test_probabilities is None:
        parent_test_probabilities = parent.pixel_probabilities(x_test)
    if test_probabilities is None:
        test_probabilities = child.pixel_probabilities(x_test)
    mnist = [float((p.argmax(axis=1) == y_test).mean()) for p in (parent_test_probabilities, test_probabilities)]
    drawings = np.asarray(held_out.x, np.float32) / np.float32(255)
    before, after = (reader.drawing_probabilities(drawings).argmax(axis=1) if len(held_out.y) else
                     np.zeros(0, np.int64) for reader in (parent, child))
    personal = [float((answers == held_out.y).mean()) if len(held_out.y) else math.nan for answers in (before, after)]
    return BeforeAfter(*personal, *mnist, test_probabilities, after)


@dataclasses.dataclass(frozen=True)
class Teaching:
    """A copy of a run taught half of a person's digits and measured on the other half; not saved yet."""

    parent: str
    three_widths: bool  # the copy is read as its parent is
    result: TrainingResult
    taught: PersonalSet
    held_out: PersonalSet
    counts: dict  # the person's digits, how many of each
    figures: BeforeAfter
    test_features: np.ndarray  # (N, D) float32, the copy's features of the test digits: its run's map

    def summary(self) -> dict:
        """The figures as plain JSON values (NaN, when no digit was held out, as None)."""
        def figure(value: float) -> float | None:
            return None if math.isnan(value) else round(value, 6)

        f = self.figures
        return dict(parent=self.parent, taught=len(self.taught), held_out=len(self.held_out), counts=self.counts,
                    personal_before=figure(f.personal_before), personal_after=figure(f.personal_after),
                    mnist_before=figure(f.mnist_before), mnist_after=figure(f.mnist_after),
                    seconds=round(self.result.wall_time, 2), ended=self.result.ended)


def teach(parent_run, parent, personal: PersonalSet, mnist: dict, seed: int = 0, stop: threading.Event | None = None,
          on_progress: Callable[[Progress], None] | None = None, parent_test_probabilities: np.ndarray | None = None,
          **options) -> Teaching:
    """Teach a copy of the stored run `parent_run` (its Keras network: `parent`, which stays as it
    is) half of each digit in `personal` and measure it on
    the other half and on the MNIST test set (`mnist`: x_train, y_train, x_test, y_test, uint8);
    `options` go to finetune(). The parent's test probabilities are taken from its gallery when it
    has one for this test set."""
    from mnist_core.runs.store import StoreError
    from mnist_core.training.keras_reader import keras_reader, read_test_set

    taught, held_out = split(personal, seed)
    x_test, y_test = mnist["x_test"], mnist["y_test"]
    if parent_test_probabilities is None:
        try:
            gallery = parent_run.gallery()
            if np.array_equal(gallery.labels, y_test):
                parent_test_probabilities = gallery.probabilities
        except StoreError:
            pass  # no gallery: the parent is run on the test set again
    result = finetune(parent, taught.x, taught.y, mnist["x_train"], mnist["y_train"], seed=seed, stop=stop,
                      on_progress=on_progress, **options)
    three_widths = parent_run.card.three_widths
    features, test_probabilities = read_test_set(result.model, three_widths, x_test)
    figures = before_after(keras_reader(parent, three_widths), keras_reader(result.model, three_widths), held_out,
                           x_test, y_test, parent_test_probabilities, test_probabilities)
    return Teaching(parent_run.name, three_widths, result, taught, held_out, personal.counts(), figures, features)
