"""One tiny training (a second of TensorFlow), made once per test process and shared."""

import functools

from mnist_core.data import Mnist, split_validation
from mnist_core.evaluate import evaluate_probabilities
from tests.support.data import tiny_arrays


def tiny_split() -> Mnist:
    """tiny_arrays as train, validation and test splits."""
    return split_validation(tiny_arrays(), validation_size=100, seed=0)


@functools.cache
def tiny_training():
    """(data, TrainingResult, test probabilities, test accuracy) of the quick preset, one epoch."""
    from mnist_core.config import make_config
    from mnist_core.training.keras_reader import keras_reader
    from mnist_core.training.train import train

    data = tiny_split()
    result = train(make_config("quick", epochs=1, batch_size=50), data)
    probabilities = keras_reader(result.model).pixel_probabilities(data.x_test)
    return data, result, probabilities, evaluate_probabilities(data.y_test, probabilities).accuracy


def save_tiny(name: str, store=None, **fields):
    """Save the tiny training as the run `name` with its test figures, as the train command does;
    `fields` go on its card."""
    from mnist_core.runs.gallery import build_gallery
    from mnist_core.keras_runs.saving import save_model, training_card

    data, result, probabilities, accuracy = tiny_training()
    card = training_card(result, name, accuracy, **fields)
    return save_model(result.model, card, build_gallery(data.x_test, data.y_test, probabilities), store=store)
