"""Small networks saved as a notebook saves them, for the import and the Models page."""


def keras_file(tmp_path, name="model", input_shape=(28, 28, 1), outputs=10, activation="softmax", lambda_layer=False):
    """A small untrained network saved as `name`.keras (what the Models page's download gives)."""
    import keras

    inputs = keras.Input(input_shape)
    x = keras.layers.Lambda(lambda v: v * 2)(inputs) if lambda_layer else inputs
    x = keras.layers.Dense(outputs, activation=activation)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, x)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    return path, model
