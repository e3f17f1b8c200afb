"""Presets and training hyperparameters as plain values, checked before any training starts.

Each hyperparameter is declared once, as a field of TrainConfig made by `hyperparameter(...)`:
its range or choices, its `train` flag, its label on the Train page, its help and how a card says
it. The rest is derived from those fields (hyperparams.py): `validate` here, the flags of a config
(`config_flags`, the command a card records), the `train` command's flags and their inverse, the
Train page's form and a card's line. So a new hyperparameter is one new field (with a default,
which keeps the presets, recorded commands and older cards valid) and the code that uses it.

A preset names its network (training/networks.py: config never imports Keras, the pages read
it) and gives every hyperparameter a value. `make_config` merges a person's overrides into a
preset and refuses nonsense with a ConfigError whose message can be shown as it is, on the
command line or on a page.
"""

import re
from dataclasses import KW_ONLY, asdict, dataclass

# ConfigError is defined with the checks that raise it, and imported from here by everyone else.
from mnist_core.hyperparams import ConfigError, check, flag_values, hyperparameter, hyperparameters

OPTIMIZERS = ("adam", "sgd", "rmsprop")
LR_SCHEDULES = ("constant", "one-cycle")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class TrainConfig:
    """What one run uses: its preset and its hyperparameters, in the order of their `train` flags."""

    preset: str
    _: KW_ONLY  # hyperparameters are passed by name, so they keep the flags' order, default or not
    epochs: int = hyperparameter("Epochs", low=1, high=500, help="passes over the training images",
                                 card="{} epoch(s)")
    batch_size: int = hyperparameter("Batch size", low=1, high=8192, help="images per step", card="batch {}")
    learning_rate: float = hyperparameter("Learning rate", low=0.0, high=10.0, low_inclusive=False, flag="--lr",
                                          help="(peak) learning rate", step=1e-4, format="%.5f",
                                          card="{optimizer} lr {} ({lr_schedule})")
    lr_schedule: str = hyperparameter("Learning-rate schedule", choices=LR_SCHEDULES, default="constant",
                                      what="learning-rate schedule", card="",
                                      help="one-cycle: warm up for 30% of the steps, then cosine down to 0")
    optimizer: str = hyperparameter("Optimizer", choices=OPTIMIZERS, card="")
    label_smoothing: float = hyperparameter("Label smoothing", low=0.0, high=0.5, default=0.0, step=0.05,
                                            help="share of each target spread over all ten classes (0 = off)")
    dropout: float = hyperparameter("Dropout", low=0.0, high=0.9, step=0.05,
                                    help="share of activations dropped after each block")
    early_stopping: bool = hyperparameter("Early stopping", default=False, card="early stopping, patience {patience}",
                                          help="stop when the validation loss stops improving")
    patience: int = hyperparameter("Patience (epochs)", low=1, high=100, flag="--early-stopping-patience",
                                   turns_on="early_stopping", card="",
                                   help="epochs without improvement; turns early stopping on")
    augment: bool = hyperparameter("Augmentation", card="augmentation {}",
                                   help="random stroke width, rotation, zoom and shift")
    seed: int = hyperparameter("Seed", low=0, high=MAX_SEED, default=0,
                               help="for the validation split, the weights, shuffling and synthesised images")
    style_images: int = hyperparameter(
        "Handwriting-style images", low=0, high=30000, default=0, step=500,  # styles.py
        help="synthesised digits in styles MNIST lacks (slashed 0, flagged 1, crossed 7, open 4, straight-stem 9)")
    validation_size: int = hyperparameter("Validation images", low=100, high=30000, default=5000, step=500,
                                          help="training images held out to measure each epoch")
    train_size: int = hyperparameter("Training images (0 = all)", low=0, high=60000, default=0, step=1000,
                                     what="training images",  # fewer make quick demos and tests
                                     help="use only this many training images (0 = all)")
    nondigit_images: int = hyperparameter(
        "Non-digit images", low=0, high=30000, default=0, step=500, what="non-digit images",  # nondigits.py
        help="drawings that are not digits (scribbles, pairs, letters), taught a flat answer")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    network: str  # a key of training.networks.NETWORKS: dropout rate → the inference network
    defaults: TrainConfig


PRESETS = {
    p.name: p
    for p in (
        Preset(
            "seed-mlp", "The original notebook: Flatten → Dense(128, relu) → Dense(10, softmax), Adam.", "seed-mlp",
            TrainConfig("seed-mlp", epochs=10, batch_size=32, learning_rate=1e-3, optimizer="adam",
                        dropout=0.0, early_stopping=False, patience=3, augment=False),
        ),
        Preset(
            "quick", "A slim CNN, one epoch, one-cycle learning rate and label smoothing: 99% in about 5 s on two CPU cores.",
            "quick",
            TrainConfig("quick", epochs=1, batch_size=192, learning_rate=2e-2, optimizer="adam",
                        dropout=0.0, early_stopping=False, patience=3, augment=False,
                        lr_schedule="one-cycle", label_smoothing=0.1),
        ),
        Preset(
            "best", "A deeper CNN with stride-2 convs, batch norm, dropout, augmentation and handwriting styles "
            "MNIST lacks: 99.6-99.7% on MNIST in 40 epochs, and reads real people's digits.",
            "best",
            TrainConfig("best", epochs=40, batch_size=128, learning_rate=3e-3, optimizer="adam",
                        dropout=0.4, early_stopping=False, patience=5, augment=True,
                        lr_schedule="one-cycle", style_images=4500),
        ),
    )
}


def validate(config: TrainConfig) -> TrainConfig:
    """Raise ConfigError for the first nonsense value; return the config unchanged otherwise."""
    if config.preset not in PRESETS:
        raise ConfigError(f"unknown preset {config.preset!r}; choose one of {', '.join(PRESETS)}")
    for declared in hyperparameters(type(config)):
        check(declared, getattr(config, declared.name))
    if config.train_size and config.batch_size > config.train_size:  # the one rule that spans two fields
        raise ConfigError(f"batch size ({config.batch_size}) is larger than the training images ({config.train_size})")
    return config


def make_config(preset: str, *, config_type: type = TrainConfig, **overrides) -> TrainConfig:
    """The preset's defaults with the given overrides (None means 'keep the default'), validated.
    `config_type` is TrainConfig, or a subclass adding hyperparameters (a test's, say)."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}")
    unknown = set(overrides) - {declared.name for declared in hyperparameters(config_type)}
    if unknown:
        raise ConfigError(f"unknown hyperparameter(s): {', '.join(sorted(unknown))}")
    changes = {k: v for k, v in overrides.items() if v is not None}
    return validate(config_type(**{**PRESETS[preset].defaults.to_dict(), **changes}))


def config_from_args(args, config_type: type = TrainConfig) -> TrainConfig:
    """The config the `train` flags ask for (hyperparams.add_flags; protocol.config_args is the inverse), validated."""
    return make_config(args.preset, config_type=config_type, **flag_values(args, config_type))


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
