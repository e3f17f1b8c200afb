"""Every CLI command through a real subprocess, as a person would run it."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from tests.support.data import ROOT, draw_digit


def cli(*args, env=None, check_code=None):
    result = subprocess.run([sys.executable, "-m", "mnist_core", *map(str, args)], cwd=ROOT, capture_output=True,
                            text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}, timeout=600)
    if check_code is not None:
        assert result.returncode == check_code, result.stderr[-3000:]
    return result


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "explain", "list", "compare", "import"])
def test_help(command, capsys):
    from mnist_core.cli import parser

    with pytest.raises(SystemExit) as exited:  # in process: the other tests start `python -m mnist_core`
        parser().parse_args([command, "--help"])
    assert exited.value.code == 0 and capsys.readouterr().out.startswith("usage: python -m mnist_core " + command)


@pytest.mark.slow
def test_train_then_evaluate_then_list(store, tiny_npz):
    crashed = store / ".tmp-crashed-save"  # left by a save killed an hour ago: train sweeps it
    crashed.mkdir(parents=True)
    os.utime(crashed, (time.time() - 3601, time.time() - 3601))
    result = cli("train", "--preset", "quick", "--epochs", "1", "--batch-size", "64", "--validation-size", "100",
                 "--augment", "--name", "cli-run", "--data", tiny_npz, check_code=0)
    assert "saved cli-run" in result.stdout and "epoch 1/1" in result.stderr
    assert sorted(os.listdir(store)) == ["cli-run"]
    card = json.loads((store / "cli-run" / "card.json").read_text())
    assert card["command"] == (
        "python -m mnist_core train --preset quick --epochs 1 --batch-size 64 --lr 0.02 --lr-schedule one-cycle "
        "--optimizer adam --label-smoothing 0.1 --dropout 0.0 --no-early-stopping --early-stopping-patience 3 "
        "--augment --seed 0 --style-images 0 "
        f"--validation-size 100 --train-size 0 --nondigit-images 0 --name cli-run --data {tiny_npz}")
    assert card["hyperparameters"]["batch_size"] == 64 and card["epochs_done"] == 1
    assert card["three_widths"] is True  # trained with random stroke widths: read, and evaluated, at three
    result = cli("evaluate", "--model", "cli-run", "--data", tiny_npz, "--json", check_code=0)
    report = json.loads(result.stdout)
    assert report["accuracy"] == pytest.approx(card["test_accuracy"], abs=1e-4)
    assert np.array(report["confusion_matrix"]).shape == (10, 10) and np.sum(report["confusion_matrix"]) == 200
    text = cli("evaluate", "--model", "cli-run", "--data", tiny_npz, check_code=0).stdout
    assert "accuracy" in text and "top confusions" in text and "precision" in text
    assert "cli-run" in cli("list", check_code=0).stdout


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "error: epochs must be between 1 and 500, got 0"),  # every range: test_config
    (["--name", "default"], "error: a model called 'default' already exists"),  # every name: test_config, test_store
])
def test_train_refuses_a_bad_value_or_a_taken_name_before_training(store, args, message):
    result = cli("train", "--preset", "quick", "--name", "bad", *args, check_code=2)
    assert message in result.stderr and "epoch 1/" not in result.stderr and not store.exists()


def test_evaluate_without_data_says_so(tmp_path):
    result = cli("evaluate", "--data", tmp_path / "none.npz", check_code=2)
    assert "none.npz: no such file" in result.stderr


def test_predict_json_keeps_order_and_reports_bad_files(tmp_path):
    folder = tmp_path / "digits"
    folder.mkdir()
    draw_digit().save(folder / "a_seven.png")
    (folder / "b_broken.png").write_bytes(b"not a png")
    draw_digit(ink=0, background=255).save(folder / "c_seven_inverted.jpg")
    extra = tmp_path / "extra.png"
    draw_digit(box=(10, 10, 90, 170)).save(extra)
    result = cli("predict", folder, extra, "--json", check_code=1)
    entries = json.loads(result.stdout)
    assert [os.path.basename(e["file"]) for e in entries] == ["a_seven.png", "b_broken.png",
                                                               "c_seven_inverted.jpg", "extra.png"]
    assert "not a readable image" in entries[1]["error"] and "digit" not in entries[1]
    for entry in entries[:1] + entries[2:]:
        assert entry["digit"] == 7 and len(entry["probabilities"]) == 10
        assert sum(entry["probabilities"]) == pytest.approx(1, abs=1e-4)
    ok = cli("predict", folder / "a_seven.png", check_code=0)
    assert ok.stdout.startswith(f"{folder / 'a_seven.png'}: 7 (")


def test_explain_json_gives_a_map_per_file(tmp_path):
    draw_digit().save(tmp_path / "seven.png")
    Image.new("L", (50, 50), 0).save(tmp_path / "blank.png")
    result = cli("explain", tmp_path / "seven.png", tmp_path / "blank.png", "--json", check_code=1)
    seven, blank = json.loads(result.stdout)
    assert sorted(seven) == ["digit", "file", "probabilities", "saliency"] and seven["digit"] == 7
    saliency = np.array(seven["saliency"])
    assert saliency.shape == (28, 28) and saliency.max() > 0  # some ink pushed toward 7
    assert seven["probabilities"][7] == max(seven["probabilities"])
    assert blank["file"].endswith("blank.png") and "Nothing drawn" in blank["error"]
    text = cli("explain", tmp_path / "seven.png", check_code=0).stdout
    assert text.startswith(f"{tmp_path / 'seven.png'}: 7 (") and "#" in text


@pytest.mark.mnist
@pytest.mark.slow
def test_compare_agrees_with_evaluate(store, mnist_path):
    cli("train", "--preset", "quick", "--epochs", "1", "--train-size", "3000", "--name", "small",
        "--data", mnist_path, check_code=0)
    env = {"MNIST_PATH": str(mnist_path)}
    evaluated = {name: json.loads(cli("evaluate", "--model", name, "--json", env=env, check_code=0).stdout)
                 for name in ("default", "small")}
    compared = json.loads(cli("compare", "default", "small", "--json", check_code=0).stdout)
    assert sorted(compared) == ["a", "b", "broke", "difference", "fixed"]
    for side, name in (("a", "default"), ("b", "small")):
        assert compared[side]["name"] == name
        assert compared[side]["confusion_matrix"] == evaluated[name]["confusion_matrix"]
        assert compared[side]["accuracy"] == pytest.approx(evaluated[name]["accuracy"], abs=1e-4)
    difference = np.array(evaluated["small"]["confusion_matrix"]) - np.array(evaluated["default"]["confusion_matrix"])
    assert compared["difference"] == difference.tolist()
    assert len(compared["fixed"]) - len(compared["broke"]) == np.trace(difference)
    assert set(compared["fixed"]).isdisjoint(compared["broke"])
    suspicious = evaluated["default"]["suspicious_labels"]
    assert suspicious and all(s["given"] != s["predicted"] for s in suspicious)
    assert [s["confidence"] for s in suspicious] == sorted((s["confidence"] for s in suspicious), reverse=True)


def test_predict_unknown_model(tmp_path):
    draw_digit().save(tmp_path / "x.png")
    result = cli("predict", tmp_path / "x.png", "--model", "ghost", check_code=2)
    assert "no saved model called 'ghost'" in result.stderr


def test_a_failed_save_keeps_the_trained_network_and_says_where(store, tiny_npz, monkeypatch, capsys):
    import keras

    from mnist_core import cli

    def broken_export(*args, **kwargs):
        raise RuntimeError("no ONNX today")

    monkeypatch.setattr(signal, "signal", lambda *args: None)  # in-process: leave pytest's handlers alone
    monkeypatch.setattr(keras.Model, "export", broken_export)
    code = cli.main(["train", "--preset", "seed-mlp", "--epochs", "2", "--validation-size", "100",
                     "--name", "unexported", "--data", str(tiny_npz), "--store", str(store)])
    (kept,) = os.listdir(store)  # the network, kept; no run and no checkpoint left
    assert code == 2 and kept.startswith(".unsaved-unexported-")
    assert capsys.readouterr().err.endswith(
        "error: could not save 'unexported' (exporting it to ONNX failed: RuntimeError: no ONNX today); "
        f"the trained network is kept in the model store as {kept}/model.keras\n")
    assert keras.saving.load_model(store / kept / "model.keras").count_params() > 0


def test_interrupted_trainings_that_cannot_be_saved_are_kept_once(store, capsys):
    from mnist_core.keras_runs.saving import recover_abandoned

    (store / ".checkpoint-empty").mkdir(parents=True)  # killed before its first whole epoch
    (store / ".checkpoint-broken").mkdir()
    (store / ".checkpoint-broken" / "state.json").write_text("{not json")
    recover_abandoned(store)
    (kept,) = os.listdir(store)
    assert kept.startswith(".unsaved-broken-") and sorted(os.listdir(store / kept)) == ["lock", "state.json"]
    assert capsys.readouterr().err == ("warning: could not save the interrupted training 'broken': Expecting "
                                       "property name enclosed in double quotes: line 1 column 2 (char 1); it is "
                                       f"kept in the model store as {kept}\n")
    recover_abandoned(store)  # not tried again
    assert os.listdir(store) == [kept] and capsys.readouterr().err == ""


def test_file_system_errors_are_messages_not_tracebacks(tmp_path, monkeypatch, capsys):
    from mnist_core.cli import main

    monkeypatch.setenv("MNIST_STORE_DIR", str(tmp_path / "store"))
    (tmp_path / "empty").mkdir()
    too_long = str(tmp_path / ("a" * 300))
    for argv, message in ((["predict", too_long], "File name too long"), (["explain", too_long], "File name too long"),
                          (["predict", tmp_path / "empty"], "no images (.bmp, .gif, .jpeg, .jpg, .png, .webp) in")):
        assert main(list(map(str, argv))) == 2
        assert message in capsys.readouterr().err
    # In its own process: an import caps its process's memory, which must not stay on the test's
    result = cli("import", tmp_path / "missing.keras", "--name", "mine", env={"MNIST_STORE_DIR": str(tmp_path / "store")},
                 check_code=2)
    assert "No such file or directory" in result.stderr and not (tmp_path / "store" / "mine").exists()


@pytest.mark.parametrize("argv, message", [
    (["train", "--preset", "quick", "--name", "q", "--nice", "-5"], "argument --nice: -5 is not between 0 and 19"),
    (["train", "--preset", "quick", "--name", "q", "--threads", "two"], "argument --threads: 'two' is not a whole number"),
    (["import", "x.keras", "--name", "x", "--memory-limit", "99999999999999"],
     "argument --memory-limit: 99999999999999 is not between 100 and 1000000"),
])
def test_process_flags_out_of_range_are_usage_errors(argv, message, capsys):
    from mnist_core.cli import parser

    with pytest.raises(SystemExit) as exited:
        parser().parse_args(argv)
    assert exited.value.code == 2 and message in capsys.readouterr().err
