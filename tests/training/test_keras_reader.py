"""A Keras network read in the training process, by the server's rule."""

import numpy as np

from mnist_core.training.keras_reader import keras_reader


def test_a_network_sees_scaled_images_and_gives_float32_probabilities():
    images = np.array([np.full((28, 28), 0), np.full((28, 28), 51), np.full((28, 28), 255)], np.uint8)

    class Network:  # what a Keras model offers: predict(batch, batch_size=, verbose=)
        def predict(self, batch, batch_size, verbose):
            self.seen = batch
            return np.repeat(batch[:, :1, 0, 0].astype(np.float64), 10, axis=1)

    network = Network()
    probabilities = keras_reader(network).pixel_probabilities(images)
    assert network.seen.dtype == np.float32 and network.seen.shape == (3, 28, 28, 1)
    assert np.array_equal(network.seen[:, 0, 0, 0], np.float32([0.0, 0.2, 1.0]))
    assert probabilities.dtype == np.float32 and probabilities.shape == (3, 10)
    assert probabilities[1, 9] == np.float32(0.2)
