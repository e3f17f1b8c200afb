"""Teach a saved network one person's handwriting: fine-tune a copy on their personal set.

A few hundred steps at a small learning rate, every batch half the person's digits (oversampled,
each seen many times, lightly augmented so the network learns the hand rather than the exact
drawings) and half MNIST training digits (replay, so the network does not forget the many
writers it learnt from while it learns one more). Batch normalisation keeps the parent's
statistics: its layers run in inference mode, since half-personal batches are not the images
the network will see. Runs in the training process: TensorFlow is imported only when called.
"""

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .config import TrainConfig
from .personal import PersonalSet
from .train import BATCH, EPOCH, FINISHED, STOPPED, Progress, TrainingResult, batch_pipeline

PRESET = "personal"  # what a fine-tuned run's card says it is
STEPS, BATCH_SIZE, LEARNING_RATE = 150, 64, 3e-4


def split(personal: PersonalSet, seed: int = 0) -> tuple[PersonalSet, PersonalSet]:
    """(taught, held out): each digit's examples shuffled and halved, the odd one taught, so every
    digit held out is also taught and both halves are the same for the same seed."""
    rng = np.random.default_rng(seed)
    taught, held_out = [], []
    for digit in range(10):
        order = rng.permutation(np.flatnonzero(personal.y == digit))
        half = len(order) // 2
        held_out.append(order[:half])
        taught.append(order[half:])
    pick = lambda parts: np.sort(np.concatenate(parts)).astype(np.int64)
    return tuple(PersonalSet(personal.x[i], personal.y[i]) for i in (pick(taught), pick(held_out)))


def copy_network(parent):
    """A new network with the parent's layers and weights; training it leaves the parent as it was."""
    import keras

    model = keras.models.clone_model(parent)
    model.set_weights(parent.get_weights())
    return model


def personal_config(parent, steps: int, batch_size: int, learning_rate: float, seed: int) -> TrainConfig:
    """What a fine-tune's card records under `hyperparameters`: one epoch of `steps` batches."""
    import keras

    dropout = next((layer.rate for layer in parent.layers if isinstance(layer, keras.layers.Dropout)), 0.0)
    return TrainConfig(PRESET, epochs=1, batch_size=batch_size, learning_rate=learning_rate, optimizer="adam",
                       dropout=float(dropout), early_stopping=False, patience=1, augment=True, seed=seed,
                       lr_schedule="constant")


def mixed_batches(personal_x: np.ndarray, personal_y: np.ndarray, mnist_x: np.ndarray, mnist_y: np.ndarray,
                  steps: int, batch_size: int, rng: np.random.Generator, share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """`steps` batches in order, each half personal digits (going round a reshuffled set) and half
    MNIST digits (none used twice while there are enough)."""
    half = round(batch_size * share)
    rounds = max(1, math.ceil(steps * half / len(personal_y)))
    mine = np.concatenate([rng.permutation(len(personal_y)) for _ in range(rounds)])[:steps * half]
    replay = rng.choice(len(mnist_y), steps * (batch_size - half), replace=steps * (batch_size - half) > len(mnist_y))
    x = np.concatenate([personal_x[mine].reshape(steps, half, 28, 28),
                        mnist_x[replay].reshape(steps, -1, 28, 28)], axis=1).reshape(-1, 28, 28)
    y = np.concatenate([personal_y[mine].reshape(steps, half), mnist_y[replay].reshape(steps, -1)], axis=1)
    return x, y.reshape(-1)


def finetune(parent, personal_x: np.ndarray, personal_y: np.ndarray, mnist_x: np.ndarray, mnist_y: np.ndarray, *,
             steps: int = STEPS, batch_size: int = BATCH_SIZE, learning_rate: float = LEARNING_RATE, seed: int = 0, share: float = 0.5, freeze: int = 0, sgd: bool = False, nodrop: bool = False, distill: float = 0.0, augment: bool = True,
             on_progress: Callable[[Progress], None] | None = None,
             stop: threading.Event | None = None) -> TrainingResult:
    """A copy of the Keras network `parent` taught the personal digits (uint8 N x 28 x 28 and labels,
    as a PersonalSet holds them) with MNIST training digits replayed (uint8, as data.Mnist holds them).

    The result is a TrainingResult of preset "personal" (one epoch of `steps` batches), saved with
    store.save_run like any other; progress and stop work as in train.train.
    """
    if not len(personal_y):
        raise ValueError("there are no personal digits to learn from")
    import keras

    from .models import training_model

    keras.utils.set_random_seed(seed)
    config = personal_config(parent, steps, batch_size, learning_rate, seed)
    import dataclasses; config = dataclasses.replace(config, augment=augment)
    model = copy_network(parent)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # Keras then runs it in inference mode, with the parent's statistics
    if nodrop:
        for layer in model.layers:
            if isinstance(layer, keras.layers.Dropout): layer.rate = 0.0
    for layer in model.layers[:freeze]:
        layer.trainable = False
    fit_model = training_model(model, config)
    fit_model.compile(optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9) if sgd else keras.optimizers.Adam(learning_rate), loss=keras.losses.CategoricalCrossentropy(),
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    fit_model.optimizer.build(fit_model.trainable_variables)  # one trace of the step, not two (see train.py)
    x, y = mixed_batches(personal_x, personal_y, mnist_x, mnist_y, steps, batch_size, np.random.default_rng(seed), share)
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

    if distill:
        import tensorflow as tf
        from .train import one_hot
        from .evaluate import model_probabilities
        half = round(batch_size * share)
        targets = one_hot(y).reshape(steps, batch_size, 10)
        xr = x.reshape(steps, batch_size, 28, 28)[:, half:].reshape(-1, 28, 28)
        soft = model_probabilities(parent, xr).reshape(steps, -1, 10)
        targets[:, half:] = distill * soft + (1 - distill) * targets[:, half:]
        ds = tf.data.Dataset.from_tensor_slices((x[..., None], targets.reshape(-1, 10))).batch(batch_size)
    else:
        ds = batch_pipeline(x, y, batch_size)
    if not stop.is_set():
        fit_model.fit(ds, epochs=1, verbose=0, callbacks=[Reporter()], shuffle=False)
    result.wall_time = time.perf_counter() - started
    result.ended = STOPPED if stop.is_set() else FINISHED
    if result.batch_history and not stop.is_set():
        last = result.batch_history[-1]
        result.history["loss"].append(last["loss"])
        result.history["accuracy"].append(last["accuracy"])
        report(Progress(EPOCH, 1, 1, steps, steps, result.wall_time, dict(loss=last["loss"], accuracy=last["accuracy"])))
    return result


@dataclass(frozen=True)
class Scores:
    """How a network reads a person's held-out digits and the MNIST test set."""

    personal: float  # accuracy on the held-out personal digits (NaN when there are none)
    mnist: float  # accuracy on the MNIST test set
    test_probabilities: np.ndarray  # (N, 10) float32: what a saved run's gallery is built from


def scores(model, held_out: PersonalSet, x_test: np.ndarray, y_test: np.ndarray) -> Scores:
    """`model` (Keras) on the held-out personal digits and on the test set (uint8 images)."""
    from .evaluate import model_probabilities

    test_probabilities = model_probabilities(model, x_test)
    personal = (float((model_probabilities(model, held_out.x).argmax(axis=1) == held_out.y).mean())
                if len(held_out) else math.nan)
    return Scores(personal, float((test_probabilities.argmax(axis=1) == y_test).mean()), test_probabilities)
