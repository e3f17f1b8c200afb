import argparse
import math
import re
from dataclasses import dataclass, replace

import pytest

from mnist_core.config import PRESETS, ConfigError, TrainConfig, config_from_args, make_config, validate_name
from mnist_core.hyperparams import add_flags, card_entries, config_flags, hyperparameter, hyperparameters

DECLARED = hyperparameters(TrainConfig)


def test_seed_mlp_defaults_are_the_notebook():
    config = make_config("seed-mlp")
    assert (config.epochs, config.batch_size, config.learning_rate, config.optimizer) == (10, 32, 1e-3, "adam")
    assert config.dropout == 0 and not config.augment and not config.early_stopping


@pytest.mark.parametrize("preset, params", [("seed-mlp", 101_770), ("quick", 80_202), ("best", None)])
def test_presets_build(preset, params):
    from mnist_core.training.augment import build_model

    model = build_model(make_config(preset))
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1)
    assert tuple(model.outputs[0].shape) == (None, 10)
    if params:
        assert model.count_params() == params
    assert set(PRESETS) == {"seed-mlp", "quick", "best"}


def test_best_halves_with_strided_convs_and_drops_the_border():
    """32C3-32C3-32C5S2 / 64C3-64C3-64C5S2 / Dense 128: 'valid' 3x3 convs take 28 → 26 → 24,
    the stride-2 conv halves to 12; then 10 → 8 → 4. No max pooling, dropout after each block."""
    from mnist_core.training.augment import build_model

    model = build_model(make_config("best"))
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size, c.strides, c.output.shape[1]) for c in convs] == [
        (32, (3, 3), (1, 1), 26), (32, (3, 3), (1, 1), 24), (32, (5, 5), (2, 2), 12),
        (64, (3, 3), (1, 1), 10), (64, (3, 3), (1, 1), 8), (64, (5, 5), (2, 2), 4),
    ]
    assert not any(layer.__class__.__name__ == "MaxPooling2D" for layer in model.layers)
    assert [layer.rate for layer in model.layers if layer.__class__.__name__ == "Dropout"] == [0.4, 0.4, 0.4]
    assert model.count_params() == 326_826


@pytest.mark.parametrize("overrides, message", [
    (dict(epochs=0), "epochs must be between 1 and 500, got 0"),
    (dict(epochs=10**9), "epochs must be between 1 and 500, got 1000000000"),
    (dict(epochs=2.5), "epochs must be a whole number"),
    (dict(batch_size=0), "batch size must be between 1 and 8192, got 0"),
    (dict(batch_size=8193), "batch size must be between 1 and 8192, got 8193"),
    (dict(learning_rate=-0.1), r"learning rate must be in \(0.0, 10.0\], got -0.1"),
    (dict(learning_rate=math.nan), "learning rate must be a finite number, got nan"),
    (dict(learning_rate=0.0), "learning rate must be in"),
    (dict(dropout=1.5), r"dropout must be in \[0.0, 0.9\], got 1.5"),
    (dict(dropout=-0.1), "dropout must be in"),
    (dict(label_smoothing=0.7), r"label smoothing must be in \[0.0, 0.5\], got 0.7"),
    (dict(label_smoothing=float("nan")), "label smoothing must be a finite number"),
    (dict(optimizer="adagrad"), "unknown optimizer 'adagrad'; choose one of adam, sgd, rmsprop"),
    (dict(patience=0), "patience must be between 1 and 100"),
    (dict(seed=-1), "seed must be between 0 and"),
    (dict(augment="yes"), "augment must be on or off"),
    (dict(lr_schedule="cosine"), "unknown learning-rate schedule 'cosine'; choose one of constant, one-cycle"),
    (dict(validation_size=99), "validation size must be between 100 and 30000, got 99"),
    (dict(train_size=60_001), "training images must be between 0 and 60000, got 60001"),
    (dict(train_size=100, batch_size=200), r"batch size \(200\) is larger than the training images \(100\)"),
    (dict(style_images=-1), "style images must be between 0 and 30000, got -1"),
    (dict(style_images=50_000), "style images must be between 0 and 30000"),
    (dict(nondigit_images=30_001), "non-digit images must be between 0 and 30000, got 30001"),
    (dict(early_stopping=1), "early stopping must be on or off, got 1"),
    (dict(seed=True), "seed must be a whole number, got True"),
    (dict(dropout="0.1"), "dropout must be a finite number, got '0.1'"),
    (dict(colour="red"), "unknown hyperparameter"),
])
def test_nonsense_is_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("quick", **overrides)


def _edges(h) -> tuple[list, list]:
    """Values the declaration of `h` allows at its edges, and values just outside it."""
    if h.kind is bool:
        return [True, False], [1, "yes"]
    if h.kind is str:
        return list(h.choices), [h.choices[0].upper(), ""]
    if h.kind is int:
        return [h.low, h.high], [h.low - 1, h.high + 1, float(h.low), True, "1"]
    inside = [h.low if h.low_inclusive else h.low + 1e-9, h.high]
    return inside, [h.low if not h.low_inclusive else h.low - 0.01, h.high + 0.01, math.inf, math.nan, "0.1"]


@pytest.mark.parametrize("h", DECLARED, ids=[h.name for h in DECLARED])
def test_every_hyperparameter_is_kept_at_its_edges_and_refused_beyond_them(h):
    """Each declared range or set of choices is what validation enforces, naming the field as
    its declaration does (the exact messages: test_nonsense_is_refused)."""
    inside, outside = _edges(h)
    for value in inside:
        assert getattr(make_config("quick", **{h.name: value}), h.name) == value
    for value in outside:
        with pytest.raises(ConfigError, match=f"^(unknown )?{re.escape(h.what)} "):
            make_config("quick", **{h.name: value})


def test_presets_give_every_hyperparameter_a_valid_value():
    for preset in PRESETS.values():
        assert make_config(preset.name) == preset.defaults and preset.defaults.preset == preset.name


@dataclass(frozen=True)
class WithMomentum(TrainConfig):
    """TrainConfig plus one made-up hyperparameter: the one edit a new hyperparameter takes."""

    momentum: float = hyperparameter("Momentum", low=0.0, high=0.99, default=0.0, step=0.01,
                                     help="SGD's momentum")


def test_one_more_field_is_one_edit_away_from_a_flag_a_check_and_a_card_entry():
    config = make_config("best", config_type=WithMomentum, momentum=0.9, optimizer="sgd")
    flags = config_flags(config)
    assert flags[-2:] == ["--momentum", "0.9"] and flags[:-2] == config_flags(replace(make_config("best"),
                                                                                      optimizer="sgd"))
    command = argparse.ArgumentParser()
    command.add_argument("--preset")
    add_flags(command, WithMomentum)
    assert "--momentum X" in command.format_help() and "SGD's momentum; [0.0, 0.99]" in command.format_help()
    assert config_from_args(command.parse_args(["--preset", "best", *flags]), WithMomentum) == config
    assert config_from_args(command.parse_args(["--preset", "best"]), WithMomentum).momentum == 0.0
    with pytest.raises(ConfigError, match=r"^momentum must be in \[0.0, 0.99\], got 1.5$"):
        make_config("best", config_type=WithMomentum, momentum=1.5)
    assert card_entries(config.to_dict(), WithMomentum)[-1] == "momentum 0.9"
    assert "momentum" not in " ".join(card_entries(make_config("best", config_type=WithMomentum).to_dict(),
                                                   WithMomentum))  # at its default it goes unsaid
    assert [h.label for h in hyperparameters(WithMomentum)][-1] == "Momentum"  # what the Train page shows


def test_a_declaration_missing_its_range_or_choices_is_refused():
    @dataclass(frozen=True)
    class Unbounded(TrainConfig):
        width: int = hyperparameter("Width", default=1)

    with pytest.raises(TypeError, match="hyperparameter width: an int or float needs low and high"):
        hyperparameters(Unbounded)


def test_every_hyperparameter_is_said_on_the_card():
    """Each field changes the card's line when it changes, in its own entry or another's."""
    base = make_config("quick", early_stopping=True)  # patience is said only with early stopping on
    line = card_entries(base.to_dict(), TrainConfig)
    for h in DECLARED:
        other = next(v for v in _edges(h)[0] if v != getattr(base, h.name))
        changed = card_entries(replace(base, **{h.name: other}).to_dict(), TrainConfig)
        assert changed != line, h.name


def test_an_older_card_says_what_it_holds():
    assert card_entries(dict(epochs=1, batch_size=64, learning_rate=0.01, augment=False), TrainConfig) == [
        "1 epoch", "batch 64", "? lr 0.01 (?)", "augmentation off"]


def test_the_train_page_asks_for_every_hyperparameter_with_its_presets_values(store):
    """A widget per declared field, showing the preset's value, and another preset's once it is chosen."""
    from tests.support.apptest import app_test

    at = app_test("train")
    for preset in ("quick", "best"):
        next(box for box in at.main.selectbox if box.label == "Preset").set_value(preset).run()
        widgets = {w.key: w for kind in ("number_input", "selectbox", "toggle") for w in getattr(at.main, kind)}
        for h in DECLARED:
            widget = widgets[f"{preset}.{h.name}"]
            assert (widget.label, widget.value) == (h.label, getattr(PRESETS[preset].defaults, h.name))


def test_unknown_preset():
    with pytest.raises(ConfigError, match="unknown preset 'huge'; choose one of seed-mlp, quick, best"):
        make_config("huge")


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "a/b", "nul\x00byte", "x" * 500, "", ".hidden", "a b",
                                  "default\n", "run\nname", "ok\r"])
def test_bad_names(name):
    with pytest.raises(ConfigError):
        validate_name(name)


def test_good_names():
    for name in ("default", "best-2026.11.25", "my_run_1"):
        assert validate_name(name) == name
