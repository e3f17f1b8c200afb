"""Strangers sharing one server, through the app's pages in separate AppTest sessions: whose runs and
trainings are whose, the owner's password, a local user, the queue, the budget, uploads."""

import pytest

from mnist_core import jobs

from mnist_core.jobs import access
from ui.access import OWNER_KEY
from tests.support.data import ROOT
from tests.support.apptest import app_test, as_local_user, page_text
from tests.support.runs import fake_run, stand_in_trainings
from tests.support.networks import keras_file

PASSWORD = "correct horse battery staple"
ONLY_ITS_MAKER = "Only the session that made it, or the deployment's owner, can delete it."


@pytest.fixture(autouse=True)
def fresh_server(monkeypatch):
    """No sign-in failures and no waiting jobs carried over from another test."""
    monkeypatch.setattr(access, "_failed_logins", {})
    monkeypatch.delenv(access.ACCESS_ENV, raising=False)
    yield
    for job in jobs.waiting_jobs():
        jobs.cancel(job)


def owner_id(at) -> str:
    return access.owner_id(at.session_state["session_token"])


def select(at, row_name: str):
    """Select the Models table's row called `row_name`, as a click on it does."""
    names = at.run().dataframe[0].value["name"].tolist()
    at.session_state["runs-table"] = {"selection": {"rows": [names.index(row_name)], "columns": [], "cells": []}}
    return at.run()


def labels(at) -> list[str]:
    return [button.label for button in at.button]


def signed_in_owner():
    """A session whose person signed in with the deployment's password (on the first page: AppTest
    keeps the entry point's sidebar only until a page switch)."""
    at = app_test()
    assert not any(t.label == "Owner password" for t in at.sidebar.text_input)  # no secret: no sign-in offered
    at.secrets["owner_password"] = PASSWORD
    at.run()
    at.sidebar.text_input(key="owner_password_input").set_value("a guess")
    at.sidebar.button[0].click().run()
    assert "Wrong password." in [e.value for e in at.sidebar.error]
    at.sidebar.text_input(key="owner_password_input").set_value(PASSWORD)
    at.sidebar.button[0].click().run()
    assert at.session_state[OWNER_KEY] is True
    assert "Signed in as this deployment's owner" in at.sidebar.caption[0].value
    return at


def test_a_visitor_deletes_only_their_own_run(store):
    a, b = app_test("models"), app_test("models")
    assert owner_id(a) != owner_id(b)
    fake_run(store, "a-run", owner=owner_id(a))
    fake_run(store, "b-run", owner=owner_id(b))
    a.run()
    assert "Runs on this public server are temporary" in page_text(a)
    table = a.dataframe[0].value.set_index("name")
    assert table.loc["a-run", "made by"] == "you" and table.loc["b-run", "made by"] == "someone else"
    select(a, "b-run")
    assert "Delete" not in labels(a) and ONLY_ITS_MAKER in page_text(a)
    select(b, "a-run")
    assert "Delete" not in labels(b) and ONLY_ITS_MAKER in page_text(b)
    select(a, "a-run")
    next(x for x in a.button if x.label == "Delete").click().run()
    next(x for x in a.button if x.label == "Yes, delete").click().run()
    assert not (store / "a-run").exists() and (store / "b-run").is_dir()


def test_the_deployments_owner_and_a_local_user_may_delete_anyones_run(store, monkeypatch):
    fake_run(store, "strangers", owner="f" * 32)
    owner = signed_in_owner()
    owner.switch_page(str(ROOT / "pages" / "models.py")).run()
    assert "Runs on this public server are temporary" not in page_text(owner)  # the owner is not a visitor
    select(owner, "strangers")
    next(x for x in owner.button if x.label == "Delete").click().run()
    next(x for x in owner.button if x.label == "Yes, delete").click().run()
    assert not (store / "strangers").exists()
    fake_run(store, "strangers-2", owner="f" * 32)
    as_local_user(monkeypatch)
    local = app_test("models")
    assert "temporary" not in page_text(local)
    select(local, "strangers-2")
    assert "Delete" in labels(local) and ONLY_ITS_MAKER not in page_text(local)


def train_in(at, name: str, epochs: int = 300):
    """Fill the Train form for a small training and press Start."""
    values = {"Epochs": epochs, "Batch size": 10, "Validation images": 100, "Training images (0 = all)": 500}
    for label, value in values.items():
        next(n for n in at.number_input if n.label == label).set_value(value)
    at.text_input[0].set_value(name)
    next(x for x in at.button if x.label == "Start training").click().run()
    return at


def test_only_its_starter_or_the_owner_stops_a_training_and_the_others_wait_in_line(store, monkeypatch):
    stand_in_trainings(monkeypatch)  # who may stop and who waits: no network needs training here
    owner = signed_in_owner()
    a, b, c, d, e = (train_in(app_test("train"), f"{n}-train") for n in "abcde")
    running = jobs.current_job()
    assert running.name == "a-train" and running.owner == owner_id(a) and running.active
    assert "Stop" in labels(a) and "Stop" not in labels(b)
    assert "Only the session that started it, or the deployment's owner, can stop it." in page_text(b)
    assert "Queued: a training ('a-train') is already running; yours starts when its turn comes." in page_text(b)
    assert "Your training **c-train** is number 2 in the queue, behind a-train (running, about " in page_text(c)
    assert ", b-train (waiting, about " in page_text(c) and "It should start in about" in page_text(c)
    assert "Cancel it" in labels(c) and "Cancel it" not in labels(a)
    assert "Not started: the queue is full: 3 jobs are waiting behind 'a-train'; try again when one has ended." \
        in page_text(e)
    assert "Not started: you already have a job running or waiting" in page_text(train_in(b, "b-again"))
    next(x for x in b.button if x.label == "Cancel it").click().run()
    assert "Your training **b-train** was cancelled." in page_text(b)
    assert "Your training **c-train** is number 1 in the queue, behind a-train (running" in page_text(c.run())
    assert [job.name for job in jobs.waiting_jobs()] == ["c-train", "d-train"]
    owner.switch_page(str(ROOT / "pages" / "train.py")).run()
    assert "Stop" in labels(owner)
    next(x for x in owner.button if x.label == "Stop").click().run()
    running.thread.join(120)
    assert running.status == jobs.SAVED and running.ended == "stopped", running.error
    assert running.saved.card.owner == owner_id(a) and running.saved.card.temporary is True
    assert jobs.current_job().name == "c-train" and jobs.current_job().active  # the next one has started
    assert "Stop" in labels(c.run()) and "Stop" not in labels(a.run())
    assert "Saved **a-train** (stopped)" in page_text(a)  # its starter still sees how it ended
    assert "Your training **d-train** is number 1 in the queue, behind c-train (running" in page_text(d.run())


def test_a_visitor_is_told_the_largest_training_the_budget_allows(store, monkeypatch):
    at = app_test("train")
    assert "a training here may use about 5 CPU-minutes" in page_text(at)
    at.selectbox[0].set_value("best").run()
    next(n for n in at.number_input if n.label == "Epochs").set_value(10)
    next(x for x in at.button if x.label == "Start training").click().run()
    assert ("Not started: 10 epochs of 59,500 images would take about 18 CPU-minutes; a training on this public "
            "server may take 5 CPU-minutes: at most 2 epochs with 59,500 images") in page_text(at)
    next(n for n in at.number_input if n.label == "Batch size").set_value(1024)
    next(x for x in at.button if x.label == "Start training").click().run()
    assert "Not started: batch size must be at most 256 for best on this public server" in page_text(at)
    assert jobs.current_job() is None or not jobs.current_job().active
    as_local_user(monkeypatch)
    assert "CPU-minutes" not in page_text(app_test("train"))  # a local user has no budget


@pytest.mark.slow  # the import evaluates the network and exports it to ONNX in a child process
def test_an_uploaded_keras_file_becomes_a_run_of_the_uploader(store, tiny_npz, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_PATH", str(tiny_npz))
    at = app_test("models")
    path, _ = keras_file(tmp_path)
    at.get("file_uploader")[0].set_value(("garbage.keras", b"not a zip", "application/octet-stream"))
    at.text_input[0].set_value("uploaded")
    next(x for x in at.button if x.label == "Import").click().run()
    assert "Not imported: the file is neither a .keras nor an .h5 file" in page_text(at)
    at.get("file_uploader")[0].set_value(("mine.keras", path.read_bytes(), "application/octet-stream"))
    at.text_input[0].set_value("uploaded")
    next(x for x in at.button if x.label == "Import").click().run()
    assert "Importing **uploaded**: follow it on the Train page." in page_text(at)
    job = jobs.current_job()
    job.thread.join(300)
    assert job.status == jobs.SAVED and job.saved.card.owner == owner_id(at), job.error
    assert job.saved.card.temporary is True and sorted(p.name for p in store.iterdir()) == ["uploaded"]
    table = at.run().dataframe[0].value.set_index("name")
    assert table.loc["uploaded", "made by"] == "you" and table.loc["uploaded", "preset"] == "imported"


def sidebar_text(at) -> str:
    return "\n".join(e.value for kind in ("caption", "error") for e in getattr(at.sidebar, kind))


def test_with_nothing_said_every_session_is_a_visitor_told_how_to_lift_the_limits(monkeypatch):
    text = sidebar_text(app_test())
    assert "This is a shared public server" in text
    assert ("Running the app on your own machine? Start it with `MNIST_STUDIO_ACCESS=local streamlit run "
            "streamlit_app.py --server.address 127.0.0.1` and it has no limits.") in text
    as_local_user(monkeypatch)
    assert "shared public server" not in sidebar_text(app_test())


def test_the_say_so_on_a_server_others_can_reach_is_refused(monkeypatch):
    import ui.access

    monkeypatch.setenv(access.ACCESS_ENV, "local")
    monkeypatch.setattr(ui.access, "listen_address", lambda: "0.0.0.0")
    at = app_test()
    assert "MNIST_STUDIO_ACCESS=local is refused: this server listens on '0.0.0.0', so others can reach it; every " \
           "session is a visitor." in [e.value for e in at.sidebar.error][0]
    assert "This is a shared public server" in sidebar_text(at)
    at.switch_page(str(ROOT / "pages" / "train.py")).run()
    assert "a training here may use about 5 CPU-minutes" in page_text(at)


def test_a_strangers_wrong_guesses_do_not_lock_the_owner_out():
    stranger = app_test()
    stranger.secrets["owner_password"] = PASSWORD
    stranger.run()
    for _ in range(access.MAX_FAILED_LOGINS):
        stranger.sidebar.text_input(key="owner_password_input").set_value("a guess")
        stranger.sidebar.button[0].click().run()
    stranger.sidebar.text_input(key="owner_password_input").set_value(PASSWORD)
    stranger.sidebar.button[0].click().run()  # from here, not even the right one for a minute
    assert "too many wrong passwords from here in the last minute; try again in a minute." in \
        [e.value for e in stranger.sidebar.error]
    assert not stranger.session_state[OWNER_KEY]
    signed_in_owner()  # the owner, in their own session, still signs in


def test_a_pending_delete_never_removes_another_run_that_took_the_name(store):
    """Delete acted on the card read when the page was drawn: after an eviction and the name's
    reuse, a pending "Yes, delete" removed another person's run."""
    import shutil

    a = app_test("models")
    fake_run(store, "shared-name", owner=owner_id(a))
    select(a, "shared-name")
    next(x for x in a.button if x.label == "Delete").click().run()
    assert "Yes, delete" in labels(a)
    shutil.rmtree(store / "shared-name")  # evicted...
    fake_run(store, "shared-name", owner="f" * 32)  # ...and the name taken by someone else's new run
    next(x for x in a.button if x.label == "Yes, delete").click().run()
    assert (store / "shared-name").is_dir() and not a.exception
    assert ("shared-name is no longer the run you chose to delete (it was deleted, and perhaps another run took its "
            "name); nothing was deleted.") in page_text(a)


def test_a_download_whose_file_is_evicted_mid_read_says_so(store, monkeypatch):
    import pathlib

    a = app_test("models")
    fake_run(store, "going", owner=owner_id(a))
    (store / "going" / "model.keras").write_bytes(b"PK")
    read_bytes = pathlib.Path.read_bytes

    def evicted(self):
        if self.name == "model.keras" and self.parent.name == "going":
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return read_bytes(self)

    monkeypatch.setattr(pathlib.Path, "read_bytes", evicted)
    select(a, "going")
    assert not a.exception and "Download .keras" not in [b.label for b in a.get("download_button")]
    assert "going was deleted just now (the store keeps a few visitors' runs); nothing to download." in page_text(a)
    monkeypatch.setattr(pathlib.Path, "read_bytes", read_bytes)
    assert "Download .keras" in [b.label for b in select(a, "going").get("download_button")]


def test_on_a_python_without_tensorflow_training_says_what_it_needs_and_the_rest_works(store, monkeypatch):
    """TensorFlow 2.21 has no release for Python 3.14: requirements.txt installs without it there,
    and the server, which never imports it, serves everything but training, imports and fine-tunes."""
    import sys

    import numpy as np

    from mnist_core.config import ConfigError, make_config
    from tests.support.apptest import canvas_value
    from tests.support.data import draw_digit

    monkeypatch.setitem(sys.modules, "tensorflow", None)  # importlib.util.find_spec then finds none
    reason = jobs.training_unavailable()
    version = ".".join(map(str, sys.version_info[:2]))
    assert reason == (f"training needs TensorFlow, which is not installed here: it has no release for Python {version}, "
                      "which this server runs. Run the app on Python 3.11-3.13 to train, import or fine-tune a "
                      "network; drawing, Explore and Models work as they are")
    for submit in (lambda: jobs.submit_training(make_config("quick"), "t"),
                   lambda: jobs.submit_import(b"PK", "i"),
                   lambda: jobs.submit_finetune(None, "default", "f")):
        with pytest.raises(ConfigError, match="^training needs TensorFlow"):
            submit()
    train = app_test("train")
    assert "Training needs TensorFlow, which is not installed here" in page_text(train)
    assert next(x for x in train.button if x.label == "Start training").disabled
    models = app_test("models")
    assert "Importing needs TensorFlow, which is not installed here" in page_text(models)
    assert next(x for x in models.button if x.label == "Import").disabled
    seven = np.zeros((280, 280, 4), np.uint8)
    seven[..., 3], seven[..., :3] = np.asarray(draw_digit()), 255  # white ink on the canvas, as drawn
    draw = app_test("draw")
    draw.session_state["canvas-0"] = canvas_value(seven)
    assert "Model default · from the drawing" in "".join(h.proto.body for h in draw.run().get("html"))
    explore = app_test("explore")
    assert "mistakes in 10,000 test images" in page_text(explore) and not explore.exception
