import math

import pytest

from mnist_core.config import PRESETS, ConfigError, make_config, validate_name


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
    (dict(colour="red"), "unknown hyperparameter"),
])
def test_nonsense_is_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        make_config("quick", **overrides)


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
