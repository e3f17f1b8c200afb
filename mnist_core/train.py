"""The training engine: one function from a config and data to a finished (or stopped) run.

It reports progress through a plain callback, per batch and per epoch, so a page can draw live
curves, and it honours a stop signal within one batch, keeping the partial model and history.
It runs in any thread: nothing here touches a UI.
"""

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .config import TrainConfig, validate
from .data import Mnist

FINISHED, EARLY_STOPPED, STOPPED = "finished", "early-stopped", "stopped"


@dataclass
class Progress:
    """A snapshot sent to the progress callback after every batch and every epoch."""

    kind: str  # "batch" or "epoch"
    epoch: int  # 1-based
    epochs: int
    batch: int  # 1-based, within the epoch
    batches: int
    elapsed: float
    logs: dict

    @property
    def fraction(self) -> float:
        return min(1.0, ((self.epoch - 1) * self.batches + self.batch) / (self.epochs * self.batches))

    @property
    def eta(self) -> float:
        return self.elapsed * (1 - self.fraction) / self.fraction if self.fraction else math.nan


@dataclass
class Run:
    """What training produced. `history` holds only whole epochs; `batch_history` every batch."""

    model: object  # the keras inference network
    config: TrainConfig
    history: dict = field(default_factory=lambda: {k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
    batch_history: list = field(default_factory=list)  # dicts: epoch, batch, loss, accuracy
    wall_time: float = 0.0
    ended: str = FINISHED

    @property
    def epochs_done(self) -> int:
        return len(self.history["loss"])


def limit_threads(threads: int) -> None:
    """Cap TensorFlow's CPU threads so a server keeps a core for answering people.

    Must run before TensorFlow executes its first op; later calls are ignored by TensorFlow.
    """
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        pass  # TensorFlow is already initialised: its thread pools are fixed for this process


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 N x 28 x 28 → float32 N x 28 x 28 x 1 in [0, 1]."""
    return (images.astype(np.float32) / 255.0)[..., None]


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[labels]


def batches(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int | None = None):
    """uint8 images (N x 28 x 28) and labels as a tf.data pipeline of (images, one-hot) batches,
    reshuffled every epoch when a seed is given.

    It runs in the training thread, with no background threads: the pipeline Keras builds from
    NumPy arrays (a parallel map and prefetching, autotuned) froze the whole process for 8-10 s
    at some epoch starts here, while TensorFlow shut down the previous epoch's iterator. Taking
    a batch of indices from memory costs microseconds, so the background threads bought nothing.
    """
    import tensorflow as tf

    x, y = tf.constant(images[..., None]), tf.constant(one_hot(labels))
    order = tf.data.Dataset.range(len(images))
    if seed is not None:
        order = order.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return order.batch(batch_size).map(lambda i: (tf.gather(x, i), tf.gather(y, i))).with_options(options)


def train(config: TrainConfig, data: Mnist, on_progress: Callable[[Progress], None] | None = None,
          stop: threading.Event | None = None) -> Run:
    """Train `config` on `data` (its train and validation splits; never the test split)."""
    validate(config)
    import keras

    from .models import build_model, make_optimizer, training_model

    keras.utils.set_random_seed(config.seed)
    x_train, y_train = data.x_train, data.y_train
    if config.train_size:
        x_train, y_train = x_train[: config.train_size], y_train[: config.train_size]
    if config.style_images:
        from .styles import styled_examples

        x_style, y_style = styled_examples(x_train, y_train, config.style_images, config.seed)
        x_train, y_train = np.concatenate([x_train, x_style]), np.concatenate([y_train, y_style])
    steps = math.ceil(len(x_train) / config.batch_size)

    model = build_model(config)
    fit_model = training_model(model, config)
    fit_model.compile(optimizer=make_optimizer(config, steps),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    # With no distribution strategy, Keras' TensorFlow backend creates the optimizer's and the
    # metrics' variables inside the first traced training step, and tf.function then traces the
    # whole step a second time. Creating them now (the metric above already holds its own)
    # halves that start-up: about 0.4 s, a tenth of a `quick` run.
    fit_model.optimizer.build(fit_model.trainable_variables)
    run = Run(model=model, config=config)
    stop = stop or threading.Event()
    started = time.perf_counter()
    report = on_progress or (lambda progress: None)

    class Reporter(keras.callbacks.Callback):
        epoch = 0

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items()}
            run.batch_history.append(dict(epoch=self.epoch, batch=batch + 1, loss=logs.get("loss"),
                                          accuracy=logs.get("accuracy")))
            report(Progress("batch", self.epoch, config.epochs, batch + 1, steps,
                            time.perf_counter() - started, logs))
            if stop.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if stop.is_set() and run.batch_history[-1]["batch"] < steps:
                return  # a partial epoch: its batches are kept, its averages would mislead
            logs = {k: float(v) for k, v in (logs or {}).items()}
            for key in run.history:
                run.history[key].append(logs.get(key))
            report(Progress("epoch", epoch + 1, config.epochs, steps, steps,
                            time.perf_counter() - started, logs))

    callbacks = [Reporter()]
    early = None
    if config.early_stopping:
        early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                              restore_best_weights=True)
        callbacks.append(early)
    if not stop.is_set():
        fit_model.fit(batches(x_train, y_train, config.batch_size, seed=config.seed), epochs=config.epochs,
                      verbose=0, callbacks=callbacks, shuffle=False,  # batches() shuffles
                      validation_data=batches(data.x_val, data.y_val, config.batch_size))
    run.wall_time = time.perf_counter() - started
    if stop.is_set():
        run.ended = STOPPED
    elif early is not None and early.stopped_epoch > 0:
        run.ended = EARLY_STOPPED
    return run
