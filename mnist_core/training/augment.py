"""What wraps a preset's network for training: augmentation, input scaling, the optimizer.

The inference network (28x28x1 floats in [0, 1] → 10 softmax probabilities) is what is saved
and exported to ONNX. Scaling and augmentation layers wrap it only for training, so the
exported graph has no random layers in it (tf2onnx cannot convert them) and serving needs no
TensorFlow.
"""

import math

import keras
from keras import layers, ops

from mnist_core.config import PRESETS, TrainConfig
from mnist_core.training.networks import NETWORKS

INPUT_SHAPE = (28, 28, 1)


def build_model(config: TrainConfig) -> keras.Model:
    """The inference network `config.preset` names, with `config.dropout` (see config.PRESETS)."""
    return NETWORKS[PRESETS[config.preset].network](config.dropout)


class RandomStrokeWidth(layers.Layer):
    """Thickens or thins strokes by a random amount in a share of the images (training only).

    People draw on a canvas with round pens of any width; MNIST strokes are a narrow band of
    widths. Blending an image with its 3x3 grey dilation or erosion covers that range; leaving
    the other images as they are keeps MNIST's own strokes well learnt.
    """

    def __init__(self, rate=0.5, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=None):
        if not training:
            return x
        shape = (ops.shape(x)[0], 1, 1, 1)
        amount = keras.random.uniform(shape, -0.8, 1.0, seed=self.seed_generator)
        amount = ops.where(keras.random.uniform(shape, seed=self.seed_generator) < self.rate, amount, 0.0)
        dilated = ops.max_pool(x, 3, strides=1, padding="same")
        eroded = -ops.max_pool(-x, 3, strides=1, padding="same")
        target = ops.where(amount > 0, dilated, eroded)
        return x + ops.abs(amount) * (target - x)


def augmentation(seed: int) -> list[layers.Layer]:
    """Random stroke width, rotation, zoom and shift, filling with background (0), not reflections."""
    fill = dict(fill_mode="constant", fill_value=0.0)
    return [
        RandomStrokeWidth(seed=seed),
        layers.RandomRotation(10 / 360, seed=seed + 1, **fill),
        layers.RandomZoom((-0.1, 0.1), seed=seed + 2, **fill),
        layers.RandomTranslation(0.1, 0.1, seed=seed + 3, **fill),
    ]


def training_model(model: keras.Model, config: TrainConfig) -> keras.Model:
    """`model` behind what only training needs; the weights are shared.

    It takes uint8 images and scales them to [0, 1] itself, so the training data stays uint8 in
    memory (a quarter of float32, in our copy and in Keras' own), then
    applies the augmentation when asked for.
    """
    extra = augmentation(config.seed) if config.augment else []
    return keras.Sequential([keras.Input(INPUT_SHAPE, dtype="uint8"), layers.Rescaling(1 / 255), *extra, model],
                            name="training")


def make_optimizer(config: TrainConfig, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """The optimizer, with a one-cycle schedule (warm up 30%, cosine down) when asked for."""
    lr = config.learning_rate
    if config.lr_schedule == "one-cycle":
        total = max(2, config.epochs * steps_per_epoch)
        warmup = max(1, math.floor(0.3 * total))
        lr = keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=config.learning_rate / 25, decay_steps=total - warmup,
            warmup_target=config.learning_rate, warmup_steps=warmup, alpha=0.0,
        )
    if config.optimizer == "adam":
        return keras.optimizers.Adam(lr)
    if config.optimizer == "sgd":
        return keras.optimizers.SGD(lr, momentum=0.9, nesterov=True)
    return keras.optimizers.RMSprop(lr)
