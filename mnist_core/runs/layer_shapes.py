"""What each allowed Keras layer does to a shape, worked out from its configuration alone.

For every layer class a network file may hold (architecture.py checks the file against this
list), the shape it gives, the parameters it holds (as Keras' count_params counts them) and the
multiply-adds it costs an image. Nothing is built: a declared network of a billion weights costs
nothing to measure here, so it can be refused before Keras allocates any of it. Shapes leave out
the batch dimension.
"""

import math


class ShapeError(ValueError):
    """A layer's configuration does not fit the shape it is given (or is not one Keras writes)."""


def _pair(value) -> tuple[int, int]:
    pair = tuple(value) if isinstance(value, (list, tuple)) else (value, value)
    if len(pair) != 2 or not all(isinstance(v, int) and v >= 0 for v in pair):
        raise ShapeError(f"expected two sizes, found {value!r}")
    return pair


def _size(shape) -> int:
    return math.prod(shape)


def _image(shape: tuple, config: dict) -> tuple[int, int, int, bool]:
    """(height, width, channels, channels first) of a 2-D layer's input."""
    if len(shape) != 3:
        raise ShapeError(f"a 2-D layer needs an image (height, width, channels), given {shape}")
    first = config.get("data_format") == "channels_first"
    return (*shape[1:], shape[0], True) if first else (*shape, False)


def _image_shape(height: int, width: int, channels: int, first: bool) -> tuple:
    if height <= 0 or width <= 0:
        raise ShapeError("the image shrinks to nothing")
    return (channels, height, width) if first else (height, width, channels)


def _window(config: dict, size_key: str, default_strides=None):
    """(kernel or pool size, strides, dilation) of a convolution or pooling layer."""
    kernel = _pair(config.get(size_key, 2))
    strides = config.get("strides", default_strides)
    return kernel, _pair(kernel if strides is None else strides), _pair(config.get("dilation_rate", 1))


def _slid(height: int, width: int, config: dict, kernel, strides, dilation) -> tuple[int, int]:
    """The output size of a window slid over an image, as Keras pads ("valid" or "same")."""
    if min(strides) < 1 or min(kernel) < 1:
        raise ShapeError("a window needs a positive size and stride")
    if config.get("padding", "valid") == "same":
        return -(-height // strides[0]), -(-width // strides[1])
    return tuple((n - d * (k - 1) - 1) // s + 1 for n, k, s, d in zip((height, width), kernel, strides, dilation))


def _conv(config: dict, shape: tuple):
    height, width, channels, first = _image(shape, config)
    kernel, strides, dilation = _window(config, "kernel_size", 1)
    groups, filters = config.get("groups", 1), config["filters"]
    if channels % groups or filters % groups:
        raise ShapeError(f"{channels} channels cannot be split into {groups} groups")
    out = _slid(height, width, config, kernel, strides, dilation)
    per_position = kernel[0] * kernel[1] * (channels // groups) * filters
    return (_image_shape(*out, filters, first), per_position + filters * bool(config.get("use_bias", True)),
            _size(out) * per_position)


def _depthwise(config: dict, shape: tuple, pointwise: bool):
    height, width, channels, first = _image(shape, config)
    kernel, strides, dilation = _window(config, "kernel_size", 1)
    depth = channels * config.get("depth_multiplier", 1)
    out = _slid(height, width, config, kernel, strides, dilation)
    depthwise = kernel[0] * kernel[1] * depth
    filters = config["filters"] if pointwise else depth
    per_position = depthwise + (depth * filters if pointwise else 0)
    return (_image_shape(*out, filters, first), per_position + filters * bool(config.get("use_bias", True)),
            _size(out) * per_position)


def _pool(config: dict, shape: tuple):
    height, width, channels, first = _image(shape, config)
    pool, strides, _ = _window(config, "pool_size")
    out = _slid(height, width, config, pool, strides, (1, 1))
    return _image_shape(*out, channels, first), 0, _size(out) * channels * pool[0] * pool[1]


def _global_pool(config: dict, shape: tuple):
    height, width, channels, first = _image(shape, config)
    kept = _image_shape(1, 1, channels, first) if config.get("keepdims") else (channels,)
    return kept, 0, height * width * channels


def _dense(config: dict, shape: tuple):
    units, inputs = config["units"], shape[-1]
    return ((*shape[:-1], units), inputs * units + units * bool(config.get("use_bias", True)),
            _size(shape[:-1]) * inputs * units)


def _reshape(config: dict, shape: tuple):
    target = list(config["target_shape"])
    if target.count(-1) == 1:
        known = _size(v for v in target if v != -1)
        target[target.index(-1)] = _size(shape) // known if known else 0
    if _size(target) != _size(shape) or min(target) < 1:
        raise ShapeError(f"cannot reshape {shape} to {tuple(config['target_shape'])}")
    return tuple(target), 0, 0


def _axes(config: dict, shape: tuple) -> list[int]:
    """The sizes along a normalisation layer's axis (one int or a list; negative from the end)."""
    axis = config.get("axis", -1)
    axes = axis if isinstance(axis, list) else [axis]
    try:  # the batch axis (0) is not in `shape`: Keras' axis 1 is shape[0]
        return [shape[a if a < 0 else a - 1] for a in axes]
    except (IndexError, TypeError) as exc:
        raise ShapeError(f"axis {axis} does not fit {shape}") from exc


def _batch_norm(config: dict, shape: tuple):
    per_channel = 2 + bool(config.get("center", True)) + bool(config.get("scale", True))  # and mean, variance
    return shape, per_channel * _size(_axes(config, shape)), 2 * _size(shape)


def _layer_norm(config: dict, shape: tuple):
    scaled = bool(config.get("center", True)) + bool(config.get("scale", True))
    return shape, scaled * _size(_axes(config, shape)), 4 * _size(shape)


def _normalization(config: dict, shape: tuple):
    """Normalization: its mean and variance are weights (and a count) unless its config gives them."""
    given = config.get("mean") is not None
    return shape, 0 if given else 2 * _size(_axes(config, shape)) + 1, 2 * _size(shape)


def _prelu(config: dict, shape: tuple):
    shared = {a - 1 for a in (config.get("shared_axes") or [])}
    return shape, _size(1 if i in shared else n for i, n in enumerate(shape)), _size(shape)


def _padding(config: dict, shape: tuple, sign: int):
    """ZeroPadding2D (sign 1) and Cropping2D (sign -1): an int, two ints, or two pairs."""
    height, width, channels, first = _image(shape, config)
    value = config.get("padding" if sign > 0 else "cropping", 1)
    rows, cols = (_pair(v) for v in value) if isinstance(value, list) and isinstance(value[0], list) else (
        (v, v) for v in _pair(value))
    return _image_shape(height + sign * sum(rows), width + sign * sum(cols), channels, first), 0, 0


def _same(operations_per_value: int):
    return lambda config, shape: (shape, 0, operations_per_value * _size(shape))


# Class name → (config, input shape) → (output shape, parameters, multiply-adds an image).
SHAPES = {
    "Dense": _dense, "Conv2D": _conv,
    "DepthwiseConv2D": lambda c, s: _depthwise(c, s, False), "SeparableConv2D": lambda c, s: _depthwise(c, s, True),
    "MaxPooling2D": _pool, "AveragePooling2D": _pool,
    "GlobalAveragePooling2D": _global_pool, "GlobalMaxPooling2D": _global_pool,
    "Flatten": lambda c, s: ((_size(s),), 0, 0), "Reshape": _reshape,
    "ZeroPadding2D": lambda c, s: _padding(c, s, 1), "Cropping2D": lambda c, s: _padding(c, s, -1),
    "BatchNormalization": _batch_norm, "LayerNormalization": _layer_norm, "Normalization": _normalization,
    "Rescaling": _same(1), "Activation": _same(1), "ReLU": _same(1), "LeakyReLU": _same(1), "ELU": _same(1),
    "Softmax": _same(3), "PReLU": _prelu,
    "Dropout": _same(0), "SpatialDropout2D": _same(0), "GaussianNoise": _same(0), "GaussianDropout": _same(0),
    "AlphaDropout": _same(0), "ActivityRegularization": _same(0),
}
# Random augmentation: each leaves an image as it is when the network reads (it acts only in training).
AUGMENTATION = {"RandomRotation", "RandomTranslation", "RandomZoom", "RandomFlip", "RandomContrast",
                "RandomBrightness"}
SHAPES.update({name: _same(0) for name in AUGMENTATION})


def layer_shape(kind: str, config: dict, shape: tuple) -> tuple[tuple, int, int]:
    """(output shape, parameters, multiply-adds an image) of the layer class `kind` given `shape`."""
    try:
        out, parameters, operations = SHAPES[kind](config, tuple(shape))
    except ShapeError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as exc:
        raise ShapeError(f"{type(exc).__name__}: {exc}") from exc
    if not out or min(out) < 1:
        raise ShapeError(f"gives the empty shape {out}")
    return tuple(int(v) for v in out), int(parameters), int(operations)
