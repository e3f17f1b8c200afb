"""mnist-studio's core: data, models, training, preprocessing, evaluation, model store, CLI.

Importing this package does not import TensorFlow: prediction runs on ONNX Runtime, and only
training (and saving what it trained) loads TensorFlow, when it starts.
"""

from mnist_core.config import ConfigError, TrainConfig, make_config
from mnist_core.data import DatasetError, load_mnist, load_test_set
from mnist_core.evaluate import evaluate_probabilities
from mnist_core.reading.number import DigitReading, NumberReading, read_number
from mnist_core.reading.predict import Classifier, Prediction, load_classifier
from mnist_core.reading.preprocess import DrawingError, NothingDrawnError, read_image, to_model_input
from mnist_core.runs.store import StoreError, delete_run, find_run, list_runs

__all__ = [
    "Classifier", "ConfigError", "DatasetError", "DigitReading", "DrawingError", "NothingDrawnError", "NumberReading",
    "Prediction", "StoreError", "TrainConfig", "delete_run", "evaluate_probabilities", "find_run", "list_runs",
    "load_classifier", "load_mnist", "load_test_set", "make_config", "read_image", "read_number", "to_model_input",
]
