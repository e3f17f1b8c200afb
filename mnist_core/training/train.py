"""The training engine: one function from a config and data to a TrainingResult.

It reports progress through a plain callback, per batch and per epoch, so a page can draw live
curves; it hands the result so far to a checkpoint callback after every whole epoch, so a killed
process loses at most one epoch; and it honours a stop signal within one batch, keeping the
partial model and history. It runs in any thread: nothing here touches a UI.
"""

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from mnist_core.config import TrainConfig, validate
from mnist_core.progress import BATCH, EPOCH, FINISHED, STOPPED, EARLY_STOPPED, Progress, ThinnedList
from mnist_core.data import Mnist

@dataclass
class TrainingResult:
    """What training produced, not yet saved. `history` holds whole epochs; `batch_history` batches."""

    model: object  # the Keras inference network
    config: TrainConfig
    history: dict = field(default_factory=lambda: {k: [] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
    batch_history: list = field(default_factory=ThinnedList)  # dicts: epoch, batch, loss, accuracy
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


def one_hot(labels: np.ndarray) -> np.ndarray:
    """Targets: a digit's row of the identity; a non-digit's (label 10) flat, every digit at 0.1."""
    return np.vstack([np.eye(10), np.full((1, 10), 0.1)]).astype(np.float32)[labels]


def batch_pipeline(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int | None = None):
    """uint8 images (N x 28 x 28) and labels as a tf.data pipeline of (images, one-hot) batches,
    reshuffled every epoch when a seed is given.

    It runs in the training thread, with no background threads: the pipeline Keras builds from
    NumPy arrays (a parallel map and autotuned prefetching) can stall the whole process at an
    epoch start while TensorFlow shuts down the previous epoch's iterator (bench/README.md),
    and gathering a batch from memory is too cheap for background threads to pay off.
    """
    import tensorflow as tf

    x, y = tf.constant(images[..., None]), tf.constant(one_hot(labels))
    order = tf.data.Dataset.range(len(images))
    if seed is not None:
        order = order.shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
    options = tf.data.Options()
    options.autotune.enabled = False
    return order.batch(batch_size).map(lambda i: (tf.gather(x, i), tf.gather(y, i))).with_options(options)


def reporter(result: TrainingResult, batches_per_epoch: int, report: Callable[[Progress], None],
             stop: threading.Event, started: float, checkpoint: Callable[[TrainingResult], None] | None = None):
    """The Keras callback a training or a fine-tune runs with: it keeps each batch's and each whole
    epoch's figures on `result`, reports them as Progress, hands each whole epoch to `checkpoint`,
    and ends the fit within a batch once `stop` is set."""
    import keras

    epochs = result.config.epochs

    class Reporter(keras.callbacks.Callback):
        epoch = batch = 0  # 1-based: the epoch and batch in progress

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch + 1

        def on_train_batch_end(self, batch, logs=None):
            self.batch = batch + 1
            logs = {k: float(v) for k, v in (logs or {}).items()}
            result.batch_history.append(dict(epoch=self.epoch, batch=self.batch, loss=logs.get("loss"),
                                             accuracy=logs.get("accuracy")))
            report(Progress(BATCH, self.epoch, epochs, self.batch, batches_per_epoch, time.perf_counter() - started,
                            logs))
            if stop.is_set():
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if stop.is_set() and self.batch < batches_per_epoch:
                return  # a partial epoch: its batches are kept, its averages would mislead
            logs = {k: float(v) for k, v in (logs or {}).items()}
            for key in result.history:
                if key in logs:  # a fine-tune validates nothing
                    result.history[key].append(logs[key])
            result.wall_time = time.perf_counter() - started
            if checkpoint is not None:
                checkpoint(result)
            report(Progress(EPOCH, epoch + 1, epochs, batches_per_epoch, batches_per_epoch,
                            time.perf_counter() - started, logs))

    return Reporter()


def train(config: TrainConfig, data: Mnist, on_progress: Callable[[Progress], None] | None = None,
          stop: threading.Event | None = None,
          checkpoint: Callable[[TrainingResult], None] | None = None,
          handwritten_nondigits: list[dict] | None = None) -> TrainingResult:
    """Train `config` on `data` (its train and validation splits; never the test split);
    `handwritten_nondigits` (nondigits.load_handwritten) are half of its non-digit images."""
    validate(config)
    import keras

    from mnist_core.training.augment import build_model, make_optimizer, training_model

    keras.utils.set_random_seed(config.seed)
    x_train, y_train = data.x_train, data.y_train
    if config.train_size:
        x_train, y_train = x_train[: config.train_size], y_train[: config.train_size]
    if config.style_images:
        from mnist_core.training.styles import styled_examples

        x_style, y_style = styled_examples(x_train, y_train, config.style_images, config.seed)
        x_train, y_train = np.concatenate([x_train, x_style]), np.concatenate([y_train, y_style])
    if config.nondigit_images:
        from mnist_core.training.nondigits import NOT_A_DIGIT, nondigit_images

        x_other = nondigit_images(config.nondigit_images, config.seed, data.x_train, handwritten_nondigits)
        x_train = np.concatenate([x_train, x_other])
        y_train = np.concatenate([y_train, np.full(len(x_other), NOT_A_DIGIT, np.uint8)])
    batches_per_epoch = math.ceil(len(x_train) / config.batch_size)

    model = build_model(config)
    fit_model = training_model(model, config)
    fit_model.compile(optimizer=make_optimizer(config, batches_per_epoch),
                      loss=keras.losses.CategoricalCrossentropy(label_smoothing=config.label_smoothing),
                      metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")])
    # With no distribution strategy, Keras' TensorFlow backend creates the optimizer's and the
    # metrics' variables inside the first traced training step, and tf.function then traces the
    # whole step a second time. Creating them now (the metric above already holds its own)
    # halves that start-up, which matters to a one-epoch preset.
    fit_model.optimizer.build(fit_model.trainable_variables)
    result = TrainingResult(model=model, config=config)
    stop = stop or threading.Event()
    started = time.perf_counter()
    report = on_progress or (lambda progress: None)

    callbacks = [reporter(result, batches_per_epoch, report, stop, started, checkpoint)]
    early = None
    if config.early_stopping:
        early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=config.patience,
                                              restore_best_weights=True)
        callbacks.append(early)
    if not stop.is_set():
        fit_model.fit(batch_pipeline(x_train, y_train, config.batch_size, seed=config.seed), epochs=config.epochs,
                      verbose=0, callbacks=callbacks, shuffle=False,  # the pipeline shuffles
                      validation_data=batch_pipeline(data.x_val, data.y_val, config.batch_size))
    result.wall_time = time.perf_counter() - started
    if stop.is_set():
        result.ended = STOPPED
    elif early is not None and early.stopped_epoch > 0:
        result.ended = EARLY_STOPPED
    return result
