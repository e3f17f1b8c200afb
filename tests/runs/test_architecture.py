"""A network file's architecture, checked before Keras loads it: what it declares, and each rule it may break."""

import io
import json
import re
import zipfile

import pytest

from mnist_core.runs.architecture import (CHAIN_RULE, FEATURES_RULE, LAYER_RULE, OPERATION_RULE, PARAMETER_RULE,
                                          SHAPE_RULE, VALUES_RULE, check_architecture)
from mnist_core.runs.network_file import check_upload, declared_weight_bytes
from mnist_core.runs.store import StoreError
from mnist_core.training.networks import NETWORKS


def config_of(model) -> dict:
    """A network's configuration as its file declares it."""
    import keras

    return json.loads(json.dumps(keras.saving.serialize_keras_object(model)))


def sequential(input_shape, *layers):
    import keras

    return keras.Sequential([keras.Input(input_shape), *layers])


def zoo() -> dict:
    """Networks with every kind of layer the app reads, and the four input shapes."""
    import keras
    from keras import layers as L

    image = keras.Input((28, 28))
    functional = keras.Model(image, L.Dense(10)(L.Dense(64, activation="relu")(L.Flatten()(image))))
    return {**{name: make(0.1) for name, make in NETWORKS.items()}, "functional": functional, "every-layer": sequential(
        (1, 28, 28), L.Reshape((28, 28, 1)), L.ZeroPadding2D(((1, 2), (0, 1))), L.Cropping2D(1),
        L.SeparableConv2D(8, 3, depth_multiplier=2, padding="same", strides=2), L.DepthwiseConv2D(3),
        L.Conv2D(16, 3, groups=2, dilation_rate=2), L.AveragePooling2D(2, strides=1, padding="same"),
        L.LayerNormalization(), L.PReLU(shared_axes=[1, 2]), L.LeakyReLU(), L.GlobalMaxPooling2D(keepdims=True),
        L.Flatten(), L.BatchNormalization(center=False), L.Normalization(), L.GaussianNoise(0.1), L.Dense(10),
        L.Softmax()), "augmented": sequential(
        (784,), L.Reshape((28, 28, 1)), keras.Sequential([L.RandomRotation(0.1), L.RandomZoom(0.1)]),
        L.Rescaling(1 / 255), L.Conv2D(8, 3), L.MaxPooling2D(), L.ELU(), L.SpatialDropout2D(0.1),
        L.GlobalAveragePooling2D(), L.Activation("relu"), L.Dense(10, activation="softmax"))}


def test_the_declared_shapes_and_parameters_are_what_keras_builds():
    import keras

    for name, model in zoo().items():
        architecture = check_architecture(config_of(model), name)
        assert architecture.parameters == model.count_params(), name
        layers = [layer for layer in model.layers if not isinstance(layer, keras.Sequential)]
        built = {layer.name: tuple(layer.output.shape[1:]) for layer in layers}
        declared = {layer.name: layer.output_shape for layer in architecture.layers}
        assert {k: v for k, v in built.items() if k in declared} == {k: v for k, v in declared.items() if k in built}
        assert architecture.input_shape == tuple(model.inputs[0].shape[1:])
    best = check_architecture(config_of(NETWORKS["best"](0.1)), "best")
    assert 15_000_000 < best.operations < 16_000_000  # multiply-adds an image: a third of the bound
    assert check_architecture(config_of(zoo()["functional"]), "f").describe() == "Flatten → Dense(64, relu) → Dense(10)"


def refused(model_or_config, rule: str, why: str = ""):
    config = model_or_config if isinstance(model_or_config, dict) else config_of(model_or_config)
    with pytest.raises(StoreError, match=rf"^mine\.keras: .*{why}.*\(rule: {re.escape(rule)}\)$"):
        check_architecture(config, "mine.keras")


def test_layers_that_run_code_or_come_from_outside_keras_are_refused():
    from keras import layers as L

    refused(sequential((28, 28), L.Lambda(lambda x: x * 2, name="doubled"), L.Flatten(), L.Dense(10)), LAYER_RULE,
            "layer 'doubled' is a Lambda, not one of the ordinary Keras layers")
    config = config_of(sequential((28, 28), L.Flatten(), L.Dense(10, activation="softmax")))
    dense = config["config"]["layers"][-1]
    refused({**config, "config": {**config["config"], "layers": [*config["config"]["layers"][:-1], {
        **dense, "module": "my_notebook", "class_name": "Dense"}]}}, LAYER_RULE, "from 'my_notebook'")
    dense["config"]["kernel_initializer"] = {"module": "keras.initializers", "class_name": "MyInit", "config": {}}
    refused(config, LAYER_RULE, "a MyInit")
    dense["config"]["kernel_initializer"] = None
    dense["config"]["activation"] = {"module": "builtins", "class_name": "function", "config": "my_activation"}
    refused(config, LAYER_RULE, "the function 'my_activation'")
    dense["config"]["activation"] = "my_activation"
    refused(config, LAYER_RULE, "the activation 'my_activation'")
    dense["config"]["activation"], dense["registered_name"] = "softmax", "Custom>Dense"
    refused(config, LAYER_RULE, "a Dense")
    refused(sequential((28, 28, 1), L.Conv2D(4, 3), L.UpSampling2D(), L.Flatten(), L.Dense(10)), LAYER_RULE,
            "is an UpSampling2D")  # an ordinary layer, but not on the allow-list


def test_branches_wrong_shapes_and_sizes_are_refused_by_their_rules():
    import keras
    from keras import layers as L

    image, shared = keras.Input((784,)), L.Dense(784)
    twice = keras.Model(image, L.Dense(10)(shared(shared(image))))  # one layer read twice
    refused(twice, CHAIN_RULE, "does not read the layer before it .* alone")
    image = keras.Input((28, 28, 1))
    branches = L.Add(name="merge")([L.Conv2D(4, 3)(image), L.Conv2D(4, 3)(image)])
    refused(keras.Model(image, L.Dense(10)(L.Flatten()(branches))), LAYER_RULE,
            "layer 'merge' is an Add")  # the merge a branch needs is no layer of a chain
    refused(sequential((32, 32, 1), L.Flatten(), L.Dense(10)), SHAPE_RULE, r"it takes input \(32, 32, 1\)")
    refused(sequential((28, 28), L.Flatten(), L.Dense(5)), SHAPE_RULE, r"it gives \(5,\) outputs, not ten digits")
    refused(sequential((784,), L.Dense(4000), L.Dense(10)), PARAMETER_RULE, "it has 3,180,010 parameters")
    heavy = [L.Conv2D(64, 3, padding="same"), L.Conv2D(64, 3, padding="same"), L.Conv2D(64, 3, padding="same")]
    refused(sequential((28, 28, 1), *heavy, L.GlobalAveragePooling2D(), L.Dense(10)), OPERATION_RULE,
            "it costs 58 million multiply-adds an image")  # 28x28 places x (9x64x64) twice
    refused(sequential((28, 28, 1), L.Conv2D(128, 1), L.GlobalAveragePooling2D(), L.Dense(10)), VALUES_RULE,
            r"layer 'conv2d_\d+' gives 100,352 values")
    refused(sequential((28, 28, 1), L.Conv2D(8, 3), L.Flatten(), L.Dense(10)), FEATURES_RULE,
            "its last layer reads 5,408 features")


def keras_bytes(model) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("config.json", json.dumps(config_of(model)))
        archive.writestr("model.weights.h5", bytes(4000))
    return buffer.getvalue()


def test_an_upload_is_checked_in_the_server_without_keras_loading_it():
    from keras import layers as L

    mlp = sequential((28, 28), L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10, activation="softmax"))
    assert check_upload(keras_bytes(mlp), "the file").parameters == 101_770
    assert declared_weight_bytes(keras_bytes(mlp)) == 4000
    h5 = b"\x89HDF\r\n\x1a\n" + bytes(100)
    assert check_upload(h5, "the file") is None and declared_weight_bytes(h5) == len(h5)  # read in the import alone
    with pytest.raises(StoreError, match=r"^the file is neither a .keras nor an .h5 file; save it from the notebook "
                                         r'with model.save\("mine.keras"\)$'):
        check_upload(b"GIF89a" + bytes(100), "the file")
    lambda_net = sequential((28, 28), L.Lambda(lambda x: x), L.Flatten(), L.Dense(10))
    with pytest.raises(StoreError, match=r"\(rule: ordinary Keras layers only\)$"):
        check_upload(keras_bytes(lambda_net), "the file")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", " " * 3_000_000)  # a few kB on disk
    with pytest.raises(StoreError, match=r"^the file declares its network in 3.0 MB of JSON; at most 2 MB$"):
        check_upload(buffer.getvalue(), "the file")


def test_an_older_notebooks_configuration_is_read():
    """tf.keras 2's .h5 files: no InputLayer in a Sequential, the batch shape on the first layer,
    dtypes as strings; a functional model's links as [name, node, tensor, kwargs] lists."""
    dense = lambda name, units, activation: {"class_name": "Dense", "config": {  # noqa: E731
        "name": name, "units": units, "activation": activation, "use_bias": True, "dtype": "float32"}}
    old_sequential = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "Flatten", "config": {"name": "flatten", "batch_input_shape": [None, 28, 28]}},
        dense("dense", 128, "relu"), dense("dense_1", 10, "softmax")]}}
    assert check_architecture(old_sequential, "old.h5").parameters == 101_770
    old_functional = {"class_name": "Functional", "config": {
        "name": "model", "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]], "layers": [
            {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
             "config": {"name": "input_1", "batch_input_shape": [None, 784], "dtype": "float32"}},
            {**dense("dense", 64, "relu"), "name": "dense", "inbound_nodes": [[["input_1", 0, 0, {}]]]},
            {**dense("dense_1", 10, "linear"), "name": "dense_1", "inbound_nodes": [[["dense", 0, 0, {}]]]}]}}
    assert check_architecture(old_functional, "old.h5").input_shape == (784,)
    old_functional["config"]["layers"][2]["inbound_nodes"] = [[["input_1", 0, 0, {}]]]  # skips a layer: a branch
    refused(old_functional, CHAIN_RULE)
