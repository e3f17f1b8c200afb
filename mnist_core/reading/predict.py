"""Serving predictions with ONNX Runtime, so the server never imports TensorFlow.

TensorFlow alone needs more memory than a small Streamlit Cloud instance can spare beside the
app, and a Keras call costs far more than the network's arithmetic; the ONNX export of each
saved network answers the same (to 1e-5) for a fraction of both (figures: bench/README.md).
"""

import dataclasses
from dataclasses import dataclass

import numpy as np

from mnist_core.card import RunCard
from mnist_core.reading.detector import DetectorError, DigitDetector, read_detector
from mnist_core.reading.preprocess import thicken, to_model_input
from mnist_core.reading.reader import Reader
from mnist_core.runs.store import StoreError, StoredRun, check_shapes, find_run


@dataclass(frozen=True)
class Prediction:
    digit: int
    probabilities: np.ndarray  # 10 floats summing to 1
    model_input: np.ndarray  # the drawing as a 28x28 MNIST-style image
    network_input: np.ndarray  # what the network read: model_input thickened (preprocess.thicken)
    is_digit: bool = True  # False when the run's detector says the drawing is no digit at all
    digit_score: float | None = None  # the detector's log-odds (higher: more like a digit); None without one

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.digit])


@dataclass
class Classifier:
    run: StoredRun
    session: object  # onnxruntime.InferenceSession
    input_name: str
    output_names: list  # probabilities first, then what keras_runs/export.py adds: activation maps, final-layer features
    detector: DigitDetector | None = None  # None for a run saved without one: every drawing counts as a digit

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def card(self) -> RunCard:
        return self.run.card

    @property
    def reader(self) -> Reader:
        """The network read as its card says (reading/reader.py)."""
        return Reader(self.network_probabilities, self.run.card.three_widths)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """N x 28 x 28 floats in [0, 1] → N x 10 probabilities, read by the rule (Reader.probabilities)."""
        return self.reader.probabilities(images)

    def network_probabilities(self, images: np.ndarray) -> np.ndarray:
        """The network's own answers for N x 28 x 28 floats in [0, 1], each image read once as it is."""
        return self._run(images, self.output_names[:1])[0]

    def digit_scores(self, images: np.ndarray) -> np.ndarray | None:
        """(N,) digit scores of N x 28 x 28 inputs in [0, 1], each read as it is (for drawings: as
        Prediction.network_input); None for a run without a detector."""
        if self.detector is None:
            return None
        first, features = self._run(images, [self.output_names[0], self.output_names[-1]])
        return self.detector.scores(features, first)

    def feature_maps(self, network_input: np.ndarray) -> list[np.ndarray]:
        """Each convolution's activation maps for one 28x28 input (Prediction.network_input for a
        drawing), as H x W x channels arrays; empty for a network without convolutions or a file
        exported without them."""
        names = [o.name for o in self.session.get_outputs()[1:] if len(o.shape) == 4]
        return [maps[0] for maps in self._run(network_input, names)] if names else []

    def final_features(self, network_input: np.ndarray) -> np.ndarray | None:
        """What the last layer reads for one 28x28 input (Prediction.network_input for a drawing),
        as a (D,) vector (what places it on the map); None for a file exported without it."""
        last = self.session.get_outputs()[-1]
        if len(self.output_names) < 2 or len(last.shape) != 2:
            return None
        return self._run(network_input, [last.name])[0][0]

    def _run(self, images: np.ndarray, names: list) -> list[np.ndarray]:
        batch = np.ascontiguousarray(np.asarray(images, np.float32).reshape(-1, 28, 28, 1))
        return self.session.run(names, {self.input_name: batch})

    def predict(self, image: np.ndarray) -> Prediction:
        """A drawing or photo of any size (see preprocess) → the digit, its probabilities and whether
        it is a digit at all; the network's answers and features come from one call."""
        return self.predict_many([image])[0]

    def predict_many(self, images: list[np.ndarray]) -> list[Prediction]:
        """Several drawings (the digits of a number, say) read as predict reads one, in one network call
        (and one more for the answers read at three widths)."""
        return self.read_inputs(np.stack([to_model_input(image) for image in images]))

    def read_inputs(self, model_inputs: np.ndarray, rule: bool = True) -> list[Prediction]:
        """N x 28 x 28 drawings made MNIST-style (preprocess.to_model_input) → as predict_many reads
        them; with rule=False each is read once, at the drawing's width only: a first look for
        choosing among many crops (reading/number.py), which by_rule then finishes for those kept."""
        network_inputs = thicken(model_inputs)
        if self.detector is None:
            probabilities = (self.probabilities if rule else self.network_probabilities)(network_inputs)
            return [Prediction(int(p.argmax()), p, m, n) for p, m, n in zip(probabilities, model_inputs, network_inputs)]
        first, features = self._run(network_inputs, [self.output_names[0], self.output_names[-1]])
        probabilities = self.reader.probabilities(network_inputs, first=first) if rule else first
        scores = self.detector.scores(features, first)
        return [Prediction(int(p.argmax()), p, m, n, float(s) >= self.detector.threshold, float(s))
                for p, m, n, s in zip(probabilities, model_inputs, network_inputs, scores)]

    def by_rule(self, once: list[Prediction]) -> list[Prediction]:
        """Predictions read once (read_inputs with rule=False) → as predict gives them: the unsure
        ones read at the other widths too when the card says so (the detector reads the first only)."""
        if not once:
            return []
        probabilities = self.reader.probabilities(np.stack([p.network_input for p in once]),
                                                  first=np.stack([p.probabilities for p in once]))
        return [dataclasses.replace(p, digit=int(q.argmax()), probabilities=q) for p, q in zip(once, probabilities)]


def load_classifier(name: str | None = None, store=None, threads: int = 1) -> Classifier:
    """The saved run `name` (the bundled default when None), ready to predict."""
    import onnxruntime as ort

    run = find_run(name, store)
    if run.problem:
        raise StoreError(f"model {run.name!r} cannot be used: {run.problem}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        session = ort.InferenceSession(str(run.onnx_path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
        raise StoreError(f"{run.onnx_path}: not a usable ONNX model ({exc})"[:600]) from exc
    model_input, output = session.get_inputs()[0], session.get_outputs()[0]
    check_shapes(tuple(model_input.shape), tuple(output.shape), run.onnx_path)
    classifier = Classifier(run, session, model_input.name, [o.name for o in session.get_outputs()])
    try:
        detector = read_detector(run.path, f"run {run.name!r}")
    except DetectorError as exc:
        raise StoreError(f"model {run.name!r} cannot be used: {exc}") from exc
    if detector is not None and classifier.final_features(np.zeros((28, 28), np.float32)) is None:
        raise StoreError(f"model {run.name!r} cannot be used: it has a digit detector but its ONNX file no features")
    return dataclasses.replace(classifier, detector=detector)
