"""The served ONNX file: the answer first, then the activation maps and final-layer features."""

import numpy as np
import onnxruntime as ort

from mnist_core.config import make_config
from mnist_core.keras_runs.export import export_onnx, inspection_model
from mnist_core.training.augment import build_model
from mnist_core.reading.predict import load_classifier


def test_onnx_carries_each_convolutions_maps_and_the_final_features(tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    model = build_model(make_config("quick"))
    export_onnx(model, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    shapes = [tuple(o.shape[1:]) for o in session.get_outputs()]
    assert shapes == [(10,), (24, 24, 16), (8, 8, 32), (128,)]  # answer, two convs (after ReLU), dense head
    x = np.random.default_rng(0).random((3, 28, 28, 1), np.float32)
    onnx_out = session.run(None, {session.get_inputs()[0].name: x})
    keras_out = inspection_model(model)(x)
    for ours, theirs in zip(onnx_out, keras_out):
        assert np.allclose(ours, np.asarray(theirs), atol=1e-4)
    assert np.allclose(onnx_out[0], np.asarray(model(x)), atol=1e-5)  # the answer is the network's own
    assert (onnx_out[1] >= 0).all()  # maps are taken after the activation


def test_the_bundled_model_shows_six_layers_of_maps():
    clf = load_classifier()
    drawing = np.zeros((28, 28), np.float32)
    drawing[6:22, 12:16] = 1.0
    maps = clf.feature_maps(drawing)
    assert [m.shape for m in maps] == [(26, 26, 32), (24, 24, 32), (12, 12, 32), (10, 10, 64), (8, 8, 64), (4, 4, 64)]
    assert clf.probabilities(drawing).shape == (1, 10)


def test_a_network_without_convolutions_has_no_maps(tmp_path):
    model = build_model(make_config("seed-mlp"))
    export_onnx(model, tmp_path / "mlp.onnx")
    session = ort.InferenceSession(str(tmp_path / "mlp.onnx"), providers=["CPUExecutionProvider"])
    assert [tuple(o.shape[1:]) for o in session.get_outputs()] == [(10,), (128,)]
