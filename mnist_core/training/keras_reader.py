"""A Keras network in the training process, read by the same rule as the server's ONNX Classifier."""

import numpy as np

from mnist_core.reading.reader import Reader


def keras_reader(model, three_widths: bool = False, batch_size: int = 1000) -> Reader:
    """`model` (28x28x1 floats in [0, 1] → 10 probabilities) as a Reader; `three_widths` as its card says."""
    def network_probabilities(images: np.ndarray) -> np.ndarray:
        batch = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
        return model.predict(batch, batch_size=batch_size, verbose=0).astype(np.float32)

    return Reader(network_probabilities, three_widths)


def network_outputs(model, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A Keras network's (float32 N x D features, what its last layer reads; N x 10 probabilities) for
    N x 28 x 28 floats in [0, 1], each read once, in batches small enough that the training process
    stays within the memory a visitor's training is allowed."""
    import keras

    both = keras.Model(model.inputs, [model.layers[-1].input, model.outputs[0]])
    features, probabilities = both.predict(np.asarray(images, np.float32)[..., None], batch_size=250, verbose=0)
    return features.reshape(len(images), -1).astype(np.float32), probabilities.astype(np.float32)


def read_test_set(model, three_widths: bool, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(features, probabilities by the rule) of uint8 N x 28 x 28 MNIST digits: the features for the
    run's map and its answers for its gallery come from one pass of the network."""
    x = np.asarray(images, np.float32) / np.float32(255)
    features, first = network_outputs(model, x)
    return features, keras_reader(model, three_widths).probabilities(x, first)
