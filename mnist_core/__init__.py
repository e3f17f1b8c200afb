"""mnist-studio's core: data, models, training, preprocessing, evaluation, model store, CLI.

Importing this package does not import TensorFlow: prediction runs on ONNX Runtime, and only
training (and saving what it trained) loads TensorFlow, when it starts.
"""

from .config import ConfigError, TrainConfig, make_config
from .data import DatasetError, load_mnist, load_test_set
from .evaluate import evaluate_probabilities
from .predict import Classifier, Prediction, load_classifier
from .preprocess import DrawingError, NothingDrawnError, read_image, to_model_input
from .store import StoreError, delete_run, find_run, list_runs

__all__ = [
    "Classifier", "ConfigError", "DatasetError", "DrawingError", "NothingDrawnError", "Prediction",
    "StoreError", "TrainConfig", "delete_run", "evaluate_probabilities", "find_run", "list_runs",
    "load_classifier", "load_mnist", "load_test_set", "make_config", "read_image", "to_model_input",
]
