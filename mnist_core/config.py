"""Presets and training hyperparameters as plain values, checked before any training starts.

A preset is a network, written out layer by layer, and its default hyperparameters; a
TrainConfig is what one run uses. `make_config` merges a person's overrides into a preset and refuses nonsense with a
ConfigError whose message can be shown as it is, on the command line or on a page.
"""

import math
import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Callable

OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "one-cycle")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_SEED = 2**31 - 1


class ConfigError(ValueError):
    """A hyperparameter or name is out of range; the message says which and why."""


@dataclass(frozen=True)
class TrainConfig:
    preset: str
    epochs: int
    batch_size: int
    learning_rate: float
    optimizer: str
    dropout: float
    early_stopping: bool
    patience: int
    augment: bool
    seed: int = 0
    lr_schedule: str = "constant"
    label_smoothing: float = 0.0  # share of each target spread over all ten classes
    style_images: int = 0  # synthesised digits in styles MNIST lacks, added to the training set (styles.py)
    validation_size: int = 5000
    train_size: int = 0  # 0 = the whole training split; smaller values make quick demos and tests
    nondigit_images: int = 0  # drawings that are not digits, taught a flat answer (nondigits.py)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    network: Callable  # dropout rate → the inference network (28x28x1 floats in [0, 1] → 10 probabilities)
    defaults: TrainConfig


# Each preset below is its network, layer by layer, then its hyperparameters. Keras is imported
# only when a network is built, so the pages can read presets without loading TensorFlow.

def _dropout(rate: float) -> list:
    from keras import layers

    return [layers.Dropout(rate)] if rate else []


def _input_and_output():
    import keras
    from keras import layers

    return keras.Input((28, 28, 1), name="image"), layers.Dense(10, activation="softmax", name="probabilities")


def seed_mlp_network(dropout: float):
    """The original notebook's network: every pixel into one hidden layer."""
    import keras
    from keras import layers

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
    import keras
    from keras import layers

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
    from keras import layers

    padding = "same" if strides > 1 else "valid"
    return [layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False),
            layers.BatchNormalization(momentum=0.95), layers.ReLU()]  # 0.95: statistics keep up in short runs


def best_network(dropout: float):
    """Two blocks of two 3x3 convs and a 5x5 stride-2 conv, then a dense head; dropout after each."""
    import keras
    from keras import layers

    image, probabilities = _input_and_output()
    return keras.Sequential([
        image,
        *_conv_bn(32, 3), *_conv_bn(32, 3), *_conv_bn(32, 5, strides=2), *_dropout(dropout),  # 28 → 26 → 24 → 12
        *_conv_bn(64, 3), *_conv_bn(64, 3), *_conv_bn(64, 5, strides=2), *_dropout(dropout),  # 12 → 10 → 8 → 4
        layers.Flatten(),
        layers.Dense(128, use_bias=False), layers.BatchNormalization(momentum=0.95), layers.ReLU(), *_dropout(dropout),
        probabilities,
    ], name="best")


PRESETS = {
    p.name: p
    for p in (
        Preset(
            "seed-mlp", "The original notebook: Flatten → Dense(128, relu) → Dense(10, softmax), Adam.",
            seed_mlp_network,
            TrainConfig("seed-mlp", epochs=10, batch_size=32, learning_rate=1e-3, optimizer="adam",
                        dropout=0.0, early_stopping=False, patience=3, augment=False),
        ),
        Preset(
            "quick", "A slim CNN, one epoch, one-cycle learning rate and label smoothing: 99% in about 5 s on two CPU cores.",
            quick_network,
            TrainConfig("quick", epochs=1, batch_size=192, learning_rate=2e-2, optimizer="adam",
                        dropout=0.0, early_stopping=False, patience=3, augment=False,
                        lr_schedule="one-cycle", label_smoothing=0.1),
        ),
        Preset(
            "best", "A deeper CNN with stride-2 convs, batch norm, dropout, augmentation and handwriting styles "
            "MNIST lacks: 99.6-99.7% on MNIST in 40 epochs, and reads real people's digits.",
            best_network,
            TrainConfig("best", epochs=40, batch_size=128, learning_rate=3e-3, optimizer="adam",
                        dropout=0.4, early_stopping=False, patience=5, augment=True,
                        lr_schedule="one-cycle", style_images=4500),
        ),
    )
}


def _check_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")


def _check_float(name: str, value, low: float, high: float, *, low_inclusive: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    too_low = value < low if low_inclusive else value <= low
    if too_low or value > high:
        bracket = "[" if low_inclusive else "("
        raise ConfigError(f"{name} must be in {bracket}{low}, {high}], got {value}")


def validate(config: TrainConfig) -> TrainConfig:
    """Raise ConfigError for the first nonsense value; return the config unchanged otherwise."""
    if config.preset not in PRESETS:
        raise ConfigError(f"unknown preset {config.preset!r}; choose one of {', '.join(PRESETS)}")
    _check_int("epochs", config.epochs, 1, 500)
    _check_int("batch size", config.batch_size, 1, 8192)
    _check_float("learning rate", config.learning_rate, 0.0, 10.0, low_inclusive=False)
    if config.optimizer not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer {config.optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    _check_float("dropout", config.dropout, 0.0, 0.9, low_inclusive=True)
    for flag in ("early_stopping", "augment"):
        if not isinstance(getattr(config, flag), bool):
            raise ConfigError(f"{flag.replace('_', ' ')} must be on or off, got {getattr(config, flag)!r}")
    _check_int("patience", config.patience, 1, 100)
    _check_int("seed", config.seed, 0, MAX_SEED)
    if config.lr_schedule not in LR_SCHEDULES:
        raise ConfigError(f"unknown learning-rate schedule {config.lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}")
    _check_float("label smoothing", config.label_smoothing, 0.0, 0.5, low_inclusive=True)
    _check_int("validation size", config.validation_size, 100, 30000)
    _check_int("training images", config.train_size, 0, 60000)
    _check_int("style images", config.style_images, 0, 30000)
    _check_int("non-digit images", config.nondigit_images, 0, 30000)
    if config.train_size and config.batch_size > config.train_size:
        raise ConfigError(f"batch size ({config.batch_size}) is larger than the training images ({config.train_size})")
    return config


def make_config(preset: str, **overrides) -> TrainConfig:
    """The preset's defaults with the given overrides (None means 'keep the default'), validated."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    known = {f.name for f in fields(TrainConfig)} - {"preset"}
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(f"unknown hyperparameter(s): {', '.join(sorted(unknown))}")
    changes = {k: v for k, v in overrides.items() if v is not None}
    return validate(replace(PRESETS[preset].defaults, **changes))


def validate_name(name) -> str:
    """A run name safe to use as a folder name: no path separators, no '..', no hidden files."""
    if not isinstance(name, str) or not name:
        raise ConfigError("run name must not be empty")
    if "\x00" in name or "/" in name or "\\" in name or ".." in name:
        raise ConfigError(f"run name {name[:80]!r} may not contain '/', '\\', '..' or null bytes")
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"run name {name[:80]!r} must be 1-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name
