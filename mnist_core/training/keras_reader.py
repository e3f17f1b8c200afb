"""A Keras network in the training process, read by the same rule as the server's ONNX Classifier."""

import numpy as np

from mnist_core.reading.reader import Reader


def keras_reader(model, three_widths: bool = False, batch_size: int = 1000) -> Reader:
    """`model` (28x28x1 floats in [0, 1] → 10 probabilities) as a Reader; `three_widths` as its card says."""
    def network_probabilities(images: np.ndarray) -> np.ndarray:
        batch = np.asarray(images, np.float32).reshape(-1, 28, 28, 1)
        return model.predict(batch, batch_size=batch_size, verbose=0).astype(np.float32)

    return Reader(network_probabilities, three_widths)


def model_features(model, images: np.ndarray, batch_size: int = 1000) -> np.ndarray:
    """A Keras network's float32 N x D features, what its last layer reads, for uint8 N x 28 x 28 images."""
    import keras

    features_of = keras.Model(model.inputs, model.layers[-1].input)
    x = (np.asarray(images, np.float32) / np.float32(255))[..., None]
    features = features_of.predict(x, batch_size=batch_size, verbose=0)
    return features.reshape(len(images), -1).astype(np.float32)
