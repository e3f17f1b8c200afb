"""Each preset's network, layer by layer: dropout rate → the inference network (28x28x1 floats
in [0, 1] → 10 softmax probabilities). A preset names its network (config.Preset.network);
NETWORKS maps the name to the function here, so config.py (which the pages read) never
imports Keras: only the training process imports this module.
"""

import keras
from keras import layers


def _dropout(rate: float) -> list:
    return [layers.Dropout(rate)] if rate else []


def _input_and_output():
    return keras.Input((28, 28, 1), name="image"), layers.Dense(10, activation="softmax", name="probabilities")


def seed_mlp_network(dropout: float):
    """The original notebook's network: every pixel into one hidden layer."""
    image, probabilities = _input_and_output()
    return keras.Sequential([
        image,
        layers.Flatten(),
        layers.Dense(128, activation="relu"), *_dropout(dropout),
        probabilities,
    ], name="seed-mlp")


def quick_network(dropout: float):
    """Two 5x5 convolutions with max pooling: "valid" padding skips the empty border MNIST digits sit
    in, and no batch norm, which costs more per step than it gains in one epoch."""
    image, probabilities = _input_and_output()
    return keras.Sequential([
        image,
        layers.Conv2D(16, 5, activation="relu"), layers.MaxPooling2D(), *_dropout(dropout),   # 28 → 24 → 12
        layers.Conv2D(32, 5, activation="relu"), layers.MaxPooling2D(), *_dropout(dropout),   # 12 → 8 → 4
        layers.Flatten(),
        layers.Dense(128, activation="relu"), *_dropout(dropout),
        probabilities,
    ], name="quick")


def _conv_bn(filters: int, kernel: int, strides: int = 1) -> list:
    """Conv (no bias: batch norm adds one) → batch norm → ReLU. A stride-2 conv halves the image with
    learnt weights where max pooling would only pick; it pads to keep the halving exact."""
    padding = "same" if strides > 1 else "valid"
    return [layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False),
            layers.BatchNormalization(momentum=0.95), layers.ReLU()]  # 0.95: statistics keep up in short runs


def best_network(dropout: float):
    """Two blocks of two 3x3 convs and a 5x5 stride-2 conv, then a dense head; dropout after each."""
    image, probabilities = _input_and_output()
    return keras.Sequential([
        image,
        *_conv_bn(32, 3), *_conv_bn(32, 3), *_conv_bn(32, 5, strides=2), *_dropout(dropout),  # 28 → 26 → 24 → 12
        *_conv_bn(64, 3), *_conv_bn(64, 3), *_conv_bn(64, 5, strides=2), *_dropout(dropout),  # 12 → 10 → 8 → 4
        layers.Flatten(),
        layers.Dense(128, use_bias=False), layers.BatchNormalization(momentum=0.95), layers.ReLU(), *_dropout(dropout),
        probabilities,
    ], name="best")


NETWORKS = {"seed-mlp": seed_mlp_network, "quick": quick_network, "best": best_network}
