"""The Models page's upload: what it accepts in one line, and a network refused by its rule before it is queued."""

import pytest

from mnist_core import jobs
from tests.support.apptest import app_test, page_text
from tests.support.networks import keras_file


def upload(at, path, name="mine"):
    at.get("file_uploader")[0].set_value((path.name, path.read_bytes(), "application/octet-stream"))
    at.text_input[0].set_value(name)
    next(x for x in at.button if x.label == "Import").click().run()
    return page_text(at)


@pytest.mark.parametrize("make, refusal", [
    (lambda tmp: keras_file(tmp, lambda_layer=True, trained=False)[0],
     "Not imported: the file: layer 'doubled' is a Lambda, not one of the ordinary Keras layers the app reads"),
    (lambda tmp: keras_file(tmp, input_shape=(32, 32, 1), trained=False)[0],
     "Not imported: the file: it takes input (32, 32, 1); the app reads 28x28 digits"),
])
def test_a_network_breaking_a_rule_is_refused_before_it_is_queued(store, tmp_path, make, refusal):
    at = app_test("models")
    assert 'saved in a notebook with `model.save("mine.keras")` (or an older .h5)' in page_text(at)
    before = jobs.current_job()
    text = upload(at, make(tmp_path))
    assert refusal in text and "(rule: " in text
    assert jobs.current_job() is before and not jobs.waiting_jobs()
