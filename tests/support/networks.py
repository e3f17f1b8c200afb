"""Small networks saved as a notebook saves them, for the import and the Models page."""

from tests.support.data import tiny_arrays


def keras_file(tmp_path, name="model", input_shape=(28, 28, 1), outputs=10, activation="softmax", lambda_layer=False,
               trained=True, suffix=".keras"):
    """A small network saved as `name`.keras (what the Models page's download gives), trained a
    moment on tiny_arrays' digits at pixels in [0, 1] (an import refuses a network that reads
    nothing) when `trained` and its shape allows."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    inputs = keras.Input(input_shape)
    x = keras.layers.Lambda(lambda v: v * 2, name="doubled")(inputs) if lambda_layer else inputs
    x = keras.layers.Dense(outputs, activation=activation)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, x)
    if trained:
        arrays = tiny_arrays()
        model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(
            from_logits=activation != "softmax"))
        images = (arrays["x_train"] / np.float32(255)).reshape(-1, *input_shape)
        model.fit(images, arrays["y_train"], epochs=5, batch_size=50, verbose=0)
    path = tmp_path / f"{name}{suffix}"
    model.save(path)
    return path, model
