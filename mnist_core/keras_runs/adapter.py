"""A notebook's network made into a run's: the app's 28x28x1 pixels in [0, 1] in, ten probabilities out.

Notebooks feed MNIST in their own ways: 28x28 arrays, flat 784-vectors or channels-first
images; pixels as they are (0-255), divided by 255 (0-1), normalised by MNIST's mean and standard
deviation, or spread over -1 to 1; and many end in logits (trained with `from_logits=True`). The
shape is in the file, the pixel scale is not: it is found by reading a sample of MNIST training
digits at each scale and keeping the one the network reads best (find_reading), and a network
that reads too few of them there is refused. Logits are told
from probabilities by what the network answers at that scale.

The adapter is part of the network: the app's pixels are rescaled and reshaped by layers in front
of the notebook's, and logits end in a softmax, so the `.keras` file, the ONNX export and every
reader downstream see the network every run is. The last layer stays the notebook's own where it
can (its input is what the digit map and the digit detector read, its last hidden layer).
"""

from dataclasses import dataclass

import numpy as np

from mnist_core.runs.architecture import INPUT_SHAPES, refusal
from mnist_core.runs.layer_shapes import AUGMENTATION

# How the app's pixels in [0, 1] become those a network was trained on: x * scale + offset.
PIXEL_SCALES = {"0-1": (1.0, 0.0), "0-255": (255.0, 0.0), "MNIST mean/std": (1 / 0.3081, -0.1307 / 0.3081),
                "-1 to 1": (2.0, -1.0)}
READ_RULE = "reads MNIST at one pixel scale"
MIN_READ = 0.80  # of the sample a network must read right at its best scale
SAMPLE = 5000  # MNIST training digits read at each scale: even a network right on 99.9% gets a few wrong


@dataclass(frozen=True)
class Reading:
    """How the app reads a network: the pixel scale it was trained on, and whether it gave logits."""
    input_shape: tuple
    scale: str  # a key of PIXEL_SCALES
    softmax_added: bool
    accuracies: dict  # each scale → the share of the sample it read right
    losses: dict  # each scale → its cross-entropy on the sample (the lowest is kept)


def network_answers(model, images: np.ndarray, input_shape: tuple, scale: str) -> np.ndarray:
    """The network's own outputs for N x 28 x 28 pixels in [0, 1], given it at `scale`."""
    factor, offset = PIXEL_SCALES[scale]
    x = (np.asarray(images, np.float32) * np.float32(factor) + np.float32(offset)).reshape(-1, *input_shape)
    return np.asarray(model.predict(x, batch_size=500, verbose=0), np.float64)


def are_probabilities(outputs: np.ndarray) -> bool:
    return bool(outputs.min() >= 0 and np.allclose(outputs.sum(axis=1), 1, atol=1e-3))


def log_probabilities(outputs: np.ndarray) -> np.ndarray:
    """The log of answers as probabilities: of them when they are, else of their softmax (logits);
    a probability rounded to 0 counts as 1e-30 (float64, so that being sure and wrong costs much)."""
    if are_probabilities(outputs):
        return np.log(np.clip(outputs, 1e-30, 1))
    shifted = outputs - outputs.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def find_reading(model, input_shape: tuple, x_train: np.ndarray, y_train: np.ndarray, label: str) -> Reading:
    """The pixel scale at which `model` reads a sample of MNIST training digits (uint8) best, and
    whether its answers there need a softmax; StoreError when it reads fewer than MIN_READ of them
    there, or answers with something other than numbers.

    Best is the lowest cross-entropy, what the network was trained to lower, not the most digits
    right: a ReLU network given pixels 255 times too bright reads about as many right, its biases
    drowned, but hundreds of times too sure, and pays for that on each digit it gets wrong; and a
    convnet given another scale may read a few more right, less surely (notebook_networks bench). Digits
    changed (moved, thickened) would not help: they make errors a network too dark pays less
    for. A network right on all SAMPLE digits at two scales would be read at the brighter."""
    if tuple(input_shape) not in INPUT_SHAPES:
        raise refusal(label, f"it takes input {tuple(input_shape)}", "28x28 digits in, ten digits out")
    pick = np.random.default_rng(0).choice(len(x_train), min(SAMPLE, len(x_train)), replace=False)
    images, labels = x_train[pick] / np.float32(255), y_train[pick]
    answers = {scale: network_answers(model, images, input_shape, scale) for scale in PIXEL_SCALES}
    if not all(np.all(np.isfinite(out)) for out in answers.values()):
        raise refusal(label, "its answers are not all numbers (NaN or infinite)", READ_RULE)
    accuracies = {scale: round(float((out.argmax(axis=1) == labels).mean()), 4) for scale, out in answers.items()}
    losses = {scale: float(-log_probabilities(out)[np.arange(len(labels)), labels].mean())
              for scale, out in answers.items()}
    best = min(PIXEL_SCALES, key=losses.get)
    if accuracies[best] < MIN_READ:
        read = ", ".join(f"{scale}: {accuracy:.0%}" for scale, accuracy in accuracies.items())
        raise refusal(label, f"it reads {accuracies[best]:.0%} of {len(labels):,} MNIST training digits at the pixel "
                             f"scale it reads best ({read}); a network must read {MIN_READ:.0%}", READ_RULE)
    return Reading(tuple(input_shape), best, not are_probabilities(answers[best]), accuracies,
                   {scale: round(loss, 4) for scale, loss in losses.items()})


def _chain(model) -> list:
    """The network's layers in order: nested Sequentials opened, the input and random augmentation
    left out (augmentation leaves an image as it is when the network reads)."""
    import keras

    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Sequential):
            layers += _chain(layer)
        elif not isinstance(layer, keras.layers.InputLayer) and type(layer).__name__ not in AUGMENTATION:
            layers.append(layer)
    return layers


def _activation(layer) -> str | None:
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None)


def _ending_in_softmax(layers: list, add: bool) -> tuple[list, str | None]:
    """(`layers`, "softmax" when the last is to be copied with a softmax activation): the network
    ends in a softmax its last layer with weights applies itself, where it can. A separate softmax
    after a linear layer is folded into it, and a softmax that must be `add`ed becomes the linear
    last layer's activation (else a Softmax layer is appended). The answers are the same either
    way, and the last layer's input stays the last hidden layer, what the map and detector read."""
    import keras

    last = layers[-1]
    separate = ((isinstance(last, keras.layers.Softmax) and last.axis in (-1, [-1]))
                or (isinstance(last, keras.layers.Activation) and _activation(last) == "softmax"))
    if separate and len(layers) > 1 and _activation(layers[-2]) == "linear":
        return layers[:-1], "softmax"
    if add and _activation(last) == "linear":
        return layers, "softmax"
    if add:
        return [*layers, keras.layers.Softmax(name=_unique("softmax", {layer.name for layer in layers}))], None
    return layers, None


def _unique(name: str, taken: set) -> str:
    number = 0
    while f"{name}{number or ''}" in taken:
        number += 1
    return f"{name}{number or ''}"


def _copied(layer, x, activation: str | None):
    """`layer` copied (with `activation`, if given) and applied to `x`, given its weights. A copy,
    not the layer itself: a Keras layer called in two networks answers `.input` for the first."""
    import keras

    config = keras.layers.serialize(layer)
    if activation:
        config["config"]["activation"] = activation
    copy = keras.layers.deserialize(config)
    y = copy(x)
    copy.set_weights(layer.get_weights())
    return y


def adapted_network(model, reading: Reading):
    """`model` reading the app's 28x28x1 pixels in [0, 1] and answering ten probabilities: copies
    of its layers with their weights, after a rescaling and a reshape when `reading` needs them,
    ending in a softmax."""
    import keras

    layers, last_activation = _ending_in_softmax(_chain(model), reading.softmax_added)
    taken = {layer.name for layer in layers}
    inputs = keras.Input((28, 28, 1), name=_unique("pixels", taken))
    x = inputs
    factor, offset = PIXEL_SCALES[reading.scale]
    if (factor, offset) != (1.0, 0.0):
        x = keras.layers.Rescaling(factor, offset, name=_unique("pixel_scale", taken))(x)
    if reading.input_shape != (28, 28, 1):
        x = keras.layers.Reshape(reading.input_shape, name=_unique("input_shape", taken))(x)
    for number, layer in enumerate(layers, 1):
        x = _copied(layer, x, last_activation if number == len(layers) else None)
    return keras.Model(inputs, x, name=model.name)
