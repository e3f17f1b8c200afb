"""Networks as MNIST notebooks build and train them, with plain Keras: for the bench and the tests.

Each is fed as its notebook feeds it: its own input shape and pixel scale, and logits where it
was trained with `from_logits=True`. The app must find all of that out from the saved file
(mnist_core/keras_runs/adapter.py); bench/measure/accuracy/notebook_networks.py and
tests/keras_runs/test_notebook_networks.py check that it does.
"""

import keras
import numpy as np
from keras import layers


def _convnet(*first) -> list:
    """Keras' mnist_convnet example, after whatever comes `first`."""
    return [*first, layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.5)]


# name → (input shape, pixel scale as trained (adapter.PIXEL_SCALES), layers after the input,
#         trained on logits, feed: uint8 N x 28 x 28 → what it reads)
NOTEBOOKS = {
    "mlp-28x28": ((28, 28), "0-1", lambda: [layers.Flatten(), layers.Dense(128, activation="relu"),
                                            layers.Dense(10, activation="softmax")], False, lambda x: x / 255),
    "flat-784-logits": ((784,), "0-1", lambda: [layers.Dense(128, activation="relu"), layers.Dense(10)], True,
                        lambda x: x.reshape(-1, 784) / 255),
    "convnet-rescaling-0-255": ((28, 28, 1), "0-255", lambda: _convnet(layers.Rescaling(1 / 255))
                                + [layers.Dense(10, activation="softmax")], False, lambda x: x[..., None] * 1.0),
    "convnet-0-1": ((28, 28, 1), "0-1", lambda: _convnet() + [layers.Dense(10, activation="softmax")], False,
                    lambda x: x[..., None] / 255),
    "mlp-1x28x28-normalised-logits": ((1, 28, 28), "MNIST mean/std", lambda: [
        layers.Flatten(), layers.Dense(256, activation="relu"), layers.Dropout(0.2), layers.Dense(10)], True,
        lambda x: ((x / 255 - 0.1307) / 0.3081)[:, None]),
    "convnet-minus1-1-augmented": ((28, 28), "-1 to 1", lambda: [
        layers.Reshape((28, 28, 1)), layers.RandomRotation(0.03), layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
        layers.Dense(64, activation="relu"), layers.Dense(10), layers.Softmax()], False, lambda x: x / 127.5 - 1),
}


def notebook_network(name: str):
    """The untrained network `name`, as its notebook builds it."""
    shape, _, body, logits, _ = NOTEBOOKS[name]
    model = keras.Sequential([keras.Input(shape), *body()], name=name)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=logits),
                  metrics=["accuracy"])
    return model


def keras_accuracy(name: str, model, x: np.ndarray, y: np.ndarray) -> float:
    """The share of uint8 digits `x` the network reads as `y`, fed as its notebook feeds it."""
    return float((model.predict(NOTEBOOKS[name][4](x), batch_size=1000, verbose=0).argmax(axis=1) == y).mean())


def train_notebook(name: str, mnist: dict, epochs: int, seed: int = 0, train_size: int | None = None):
    """The network `name` trained as its notebook trains it (Adam, batch 128) on the first
    `train_size` training digits (all by default); (model, Keras' own test accuracy)."""
    keras.utils.set_random_seed(seed)
    model = notebook_network(name)
    x, y = mnist["x_train"][:train_size], mnist["y_train"][:train_size]
    model.fit(NOTEBOOKS[name][4](x), y, epochs=epochs, batch_size=128, verbose=0)
    return model, keras_accuracy(name, model, mnist["x_test"], mnist["y_test"])
