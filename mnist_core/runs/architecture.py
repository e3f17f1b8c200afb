"""A network file's architecture, checked before Keras loads anything of it: ordinary, one chain, bounded.

Strangers upload networks, and the server reads an imported one on every stroke of the Draw
page. So before Keras builds a network, the configuration its file declares is checked here,
and each refusal names the rule it broke:

- ordinary Keras layers only: every object the configuration names is a layer on the allow-list
  (layer_shapes.SHAPES), or a dtype, initializer, regularizer or constraint of Keras' own, from a
  Keras module. No Lambda, no custom or registered object, nothing whose loading could run code
  from the file or import a module outside Keras (what Keras' safe mode allows, and less);
- one chain of layers: a Sequential, or a functional model whose layers each read the one before;
- 28x28 digits in, ten digits out: inputs (28, 28), (28, 28, 1), (1, 28, 28) or (784,);
- at most MAX_PARAMETERS parameters and MAX_OPERATIONS multiply-adds an image, worked out from
  the shapes, so one visitor cannot make every stroke or the server's memory expensive; and at
  most MAX_VALUES out of any layer and MAX_FEATURES into the last, which bound the import's
  memory (it reads images a thousand at a time, and fits a map and a detector on the features).

No TensorFlow: the server checks an upload here before queueing it, and the import process again.
"""

import math
from dataclasses import dataclass

from mnist_core.runs.layer_shapes import SHAPES, ShapeError, layer_shape
from mnist_core.runs.store import StoreError

INPUT_SHAPES = ((28, 28), (28, 28, 1), (1, 28, 28), (784,))
MAX_PARAMETERS = 3_000_000  # 12 MB of float32 weights; the `best` preset's network has 327k
MAX_OPERATIONS = 50_000_000  # multiply-adds an image; `best` costs 15 million, `quick` 1.1 million
MAX_VALUES = 28 * 28 * 64  # out of any one layer for an image: the import reads 1,000 images at a time
MAX_FEATURES = 2048  # into the last layer: what the digit map and the digit detector read (mnist_convnet: 1,600)
MAX_LAYERS = 100

LAYER_RULE = "ordinary Keras layers only"
CHAIN_RULE = "one chain of layers"
SHAPE_RULE = "28x28 digits in, ten digits out"
PARAMETER_RULE = f"at most {MAX_PARAMETERS:,} parameters"
OPERATION_RULE = f"at most {MAX_OPERATIONS // 1_000_000} million multiply-adds an image"
VALUES_RULE = f"at most {MAX_VALUES:,} values (28x28x64) out of a layer"
FEATURES_RULE = f"at most {MAX_FEATURES:,} features into the last layer"

MODELS = {"Sequential", "Functional", "Model"}
# What else Keras writes in a layer's configuration: dtypes, the tensors a functional model links
# layers by, initial weights, weight penalties and constraints. None of them runs code from the file.
PARTS = {"DTypePolicy", "FloatDTypePolicy", "Policy", "__keras_tensor__", "InputLayer",
         "Zeros", "Ones", "Constant", "GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
         "LecunUniform", "RandomNormal", "RandomUniform", "TruncatedNormal", "Orthogonal", "VarianceScaling",
         "Identity", "L1", "L2", "L1L2", "OrthogonalRegularizer", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}
ACTIVATIONS = {"linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "sigmoid",
               "hard_sigmoid", "hard_silu", "hard_swish", "tanh", "softplus", "softsign", "exponential", "softmax",
               "log_softmax"}
NOT_READ = {"compile_config"}  # the optimizer and loss: never deserialized (networks load with compile=False)


def refusal(label: str, why: str, rule: str) -> StoreError:
    return StoreError(f"{label}: {why} (rule: {rule})")


@dataclass(frozen=True)
class Layer:
    name: str
    kind: str  # its Keras class
    output_shape: tuple
    parameters: int
    operations: int  # multiply-adds an image
    activation: str | None = None  # the function it ends with, when it has one (Dense, convolutions, Activation)

    def to_dict(self) -> dict:
        return dict(name=self.name, layer=self.kind, activation=self.activation, output=list(self.output_shape),
                    parameters=self.parameters)


@dataclass(frozen=True)
class Architecture:
    input_shape: tuple
    layers: tuple  # of Layer, from the input to the ten outputs

    @property
    def parameters(self) -> int:
        return sum(layer.parameters for layer in self.layers)

    @property
    def operations(self) -> int:
        return sum(layer.operations for layer in self.layers)

    def describe(self) -> str:
        """One line: "Flatten → Dense(128, relu) → Dense(10)"."""
        return " → ".join(map(_short, self.layers))


def _short(layer: Layer) -> str:
    if layer.kind in ("Dense", "Conv2D", "SeparableConv2D", "DepthwiseConv2D"):
        activation = "" if layer.activation in (None, "linear") else f", {layer.activation}"
        return f"{layer.kind}({layer.output_shape[-1]}{activation})"
    return f"{layer.kind}({layer.activation})" if layer.kind == "Activation" else layer.kind


def _check_objects(value, label: str) -> None:
    """Refuse anything in a configuration that is not an ordinary part of Keras (LAYER_RULE)."""
    if isinstance(value, list):
        for item in value:
            _check_objects(item, label)
        return
    if not isinstance(value, dict):
        return
    if "class_name" in value:
        kind, module = value["class_name"], value.get("module")
        registered = value.get("registered_name")
        from_keras = module is None or (isinstance(module, str) and module.split(".")[0] == "keras")
        if kind == "function":  # how Keras may write a built-in activation
            if value.get("config") not in ACTIVATIONS or module not in (None, "builtins", "keras.activations"):
                raise refusal(label, f"it names the function {value.get('config')!r} from {module!r}; only Keras' "
                                     "own activations may be named", LAYER_RULE)
        elif kind not in SHAPES and kind not in PARTS and kind not in MODELS or not from_keras or (
                isinstance(registered, str) and ">" in registered):
            name = (value.get("config") or {}).get("name") if isinstance(value.get("config"), dict) else None
            article = "an" if str(kind)[:1] in "AEIOU" else "a"
            raise refusal(label, f"{'layer ' + repr(name) + ' is' if name else 'it names'} {article} {kind}"
                                 f"{' from ' + repr(module) if not from_keras else ''}, not one of the ordinary Keras "
                                 "layers the app reads (Dense, convolutions, pooling, normalisation, dropout, "
                                 "activations, Flatten, Reshape, Rescaling…); nothing from the file may run code",
                          LAYER_RULE)
    for key, item in value.items():
        if key == "activation" and isinstance(item, str) and item not in ACTIVATIONS:
            raise refusal(label, f"it uses the activation {item!r}, not one of Keras' own", LAYER_RULE)
        if key not in NOT_READ:
            _check_objects(item, label)


def _batch_shape(config: dict, *keys: str) -> tuple | None:
    for key in keys or ("batch_shape", "batch_input_shape"):
        shape = config.get(key)
        if isinstance(shape, list) and len(shape) >= 2 and all(isinstance(v, int) for v in shape[1:]):
            return tuple(shape[1:])
    return None


def _name(entry: dict) -> str:
    return str(entry.get("name") or (entry.get("config") or {}).get("name") or entry.get("class_name"))


def _flattened(entries: list, label: str) -> list:
    """A chain's layer entries with each nested Sequential's layers in its place (its InputLayer dropped)."""
    flat = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise refusal(label, "its configuration is not one Keras writes", CHAIN_RULE)
        if entry.get("class_name") == "Sequential":
            flat += [e for e in _flattened((entry.get("config") or {}).get("layers") or [], label)
                     if e.get("class_name") != "InputLayer"]
        elif entry.get("class_name") in MODELS:
            raise refusal(label, f"layer {_name(entry)!r} is a functional model inside the network", CHAIN_RULE)
        else:
            flat.append(entry)
    return flat


def _sources(value) -> list[str]:
    """The layers a functional model's inbound nodes name (Keras 3's keras_history, or older
    files' [layer name, node index, tensor index, kwargs])."""
    if isinstance(value, dict):
        history = value.get("keras_history")
        if isinstance(history, list) and history and isinstance(history[0], str):
            return [history[0]]
        return [name for item in value.values() for name in _sources(item)]
    if isinstance(value, list):
        if len(value) >= 3 and isinstance(value[0], str) and isinstance(value[1], int):
            return [value[0]]
        return [name for item in value for name in _sources(item)]
    return []


def _chain(config: dict, label: str) -> tuple[tuple | None, list]:
    """(input shape, layer entries in order) of a Sequential or a functional chain."""
    kind, inner = config.get("class_name"), config.get("config")
    if kind not in MODELS or not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise refusal(label, f"it holds a {kind}, not a Keras model of layers", CHAIN_RULE)
    entries = list(inner["layers"])
    if not entries or not isinstance(entries[0], dict):
        raise refusal(label, "it holds no layers", CHAIN_RULE)
    first = entries[0]
    if kind == "Sequential":
        shape = _batch_shape(first.get("config") or {}) or _batch_shape(inner, "build_input_shape")
        entries = _flattened(entries[1:] if first.get("class_name") == "InputLayer" else entries, label)
        return shape, entries
    if first.get("class_name") != "InputLayer":
        raise refusal(label, "its first layer is no input", CHAIN_RULE)
    previous = _name(first)
    for entry in entries[1:]:
        nodes = entry.get("inbound_nodes") if isinstance(entry, dict) else None
        if not isinstance(nodes, list) or len(nodes) != 1 or _sources(nodes) != [previous]:
            raise refusal(label, f"layer {_name(entry) if isinstance(entry, dict) else '?'!r} does not read the "
                                 f"layer before it ({previous!r}) alone: branches, shared layers and several inputs "
                                 "or outputs are not read", CHAIN_RULE)
        previous = _name(entry)
    if _sources(inner.get("output_layers")) not in ([previous], []):
        raise refusal(label, "its output is not its last layer", CHAIN_RULE)
    return _batch_shape(first.get("config") or {}), _flattened(entries[1:], label)


def check_architecture(config: dict, label: str) -> Architecture:
    """The Architecture a Keras model configuration declares (config.json of a .keras file, the
    model_config of an .h5 file), or StoreError naming the rule it breaks."""
    if not isinstance(config, dict):
        raise refusal(label, "its configuration is not one Keras writes", CHAIN_RULE)
    _check_objects(config, label)
    input_shape, entries = _chain(config, label)
    if input_shape not in INPUT_SHAPES:
        raise refusal(label, f"it takes input {input_shape}; the app reads 28x28 digits as "
                             f"{', '.join(map(str, INPUT_SHAPES))}", SHAPE_RULE)
    if len(entries) > MAX_LAYERS:
        raise refusal(label, f"it has {len(entries)} layers", f"at most {MAX_LAYERS} layers")
    shape, layers = input_shape, []
    for entry in entries:
        layer_config = entry.get("config") if isinstance(entry.get("config"), dict) else {}
        try:
            shape, parameters, operations = layer_shape(entry.get("class_name"), layer_config, shape)
        except ShapeError as exc:
            raise refusal(label, f"layer {_name(entry)!r} ({entry.get('class_name')}) does not fit its input: {exc}",
                          CHAIN_RULE) from exc
        activation = layer_config.get("activation")
        layers.append(Layer(_name(entry), entry["class_name"], shape, parameters, operations,
                            activation if isinstance(activation, str) else None))
    architecture = Architecture(input_shape, tuple(layers))
    if shape != (10,):
        raise refusal(label, f"it gives {shape} outputs, not ten digits", SHAPE_RULE)
    if architecture.parameters > MAX_PARAMETERS:
        raise refusal(label, f"it has {architecture.parameters:,} parameters", PARAMETER_RULE)
    if architecture.operations > MAX_OPERATIONS:
        raise refusal(label, f"it costs {architecture.operations / 1e6:,.0f} million multiply-adds an image",
                      OPERATION_RULE)
    widest = max(layers, key=lambda layer: math.prod(layer.output_shape))
    if math.prod(widest.output_shape) > MAX_VALUES:
        raise refusal(label, f"layer {widest.name!r} gives {math.prod(widest.output_shape):,} values "
                             f"{widest.output_shape}", VALUES_RULE)
    shapes = [input_shape] + [layer.output_shape for layer in layers]
    last = max((i for i, layer in enumerate(layers) if layer.parameters), default=0)  # a softmax after it is folded
    features = math.prod(shapes[last])
    if features > MAX_FEATURES:
        raise refusal(label, f"its last layer reads {features:,} features", FEATURES_RULE)
    return architecture
