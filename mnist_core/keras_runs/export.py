"""The ONNX file a run is served from: the network's answer, and what the pages show of its insides.

Besides the ten probabilities (output 0, all that a prediction reads), the file exports the
activation maps of every convolution (what the Draw page shows as small multiples) and the
features the last layer reads (what places a digit on Explore's map). The server then shows
them with ONNX Runtime alone, never TensorFlow.
"""

import warnings

import numpy as np


def _activation_after(layers: list, index: int):
    """The output of the conv at `index` after its batch norm and activation, before any pooling."""
    import keras

    while index + 1 < len(layers) and isinstance(layers[index + 1], (keras.layers.BatchNormalization,
                                                                     keras.layers.ReLU, keras.layers.Activation)):
        index += 1
    return layers[index].output


def inspection_model(model):
    """`model` with more outputs: probabilities, each conv layer's activation maps, then the
    features its final layer reads. The weights are shared; nothing is copied."""
    import keras

    layers = model.layers
    maps = [_activation_after(layers, i) for i, layer in enumerate(layers) if isinstance(layer, keras.layers.Conv2D)]
    inspected = keras.Model(model.inputs, [model.outputs[0], *maps, layers[-1].input], name=f"{model.name}-inspected")
    inspected(np.zeros((1, 28, 28, 1), np.float32))  # Keras exports only a model that has been called
    return inspected


def export_onnx(model, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf2onnx's FutureWarnings about NumPy aliases
        inspection_model(model).export(str(path), format="onnx", verbose=False)
