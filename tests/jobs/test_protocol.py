"""The training process's protocol: both sides read and write the same lines."""

import io

import pytest

from mnist_core.jobs import protocol
from mnist_core.cli import parser
from mnist_core.cli.training import config_from_args
from mnist_core.config import PRESETS, TrainConfig, make_config
from mnist_core.hyperparams import hyperparameters
from mnist_core.progress import Progress


def test_messages_round_trip_and_foreign_lines_are_ignored():
    progress = Progress("batch", 2, 5, 3, 10, 1.5, {"loss": 0.25, "accuracy": 0.875})
    for message in (progress, protocol.Saving("stopped"), protocol.Saved("run-1", 0.9912)):
        line = protocol.encode(message)
        assert "\n" not in line and protocol.decode(line + "\n") == message
    assert protocol.decode('{"kind": "saving", "ended": "finished"}') == protocol.Saving("finished")
    assert progress.step == 13 and progress.fraction == 13 / 50
    for foreign in ["", "Epoch 1/3", "[1, 2]", '{"no": "kind"}', '{"kind": "other"}', '{"kind": "saved"}',
                    '{"kind": "batch", "epoch": 1}']:
        assert protocol.decode(foreign) is None


def test_stop_line_or_end_of_input():
    stream = io.StringIO()
    protocol.send_stop(stream)
    stream.write("more\n")
    stream.seek(0)
    protocol.wait_for_stop(stream)
    assert stream.readline() == "more\n"  # it returned at the stop line
    protocol.wait_for_stop(io.StringIO("noise\n"))  # the end of input returns too


def _other_values(config: TrainConfig) -> dict:
    """Every hyperparameter at a valid value other than `config`'s, read off its declaration."""
    others = {}
    for h in hyperparameters(TrainConfig):
        value = getattr(config, h.name)
        candidates = ((not value,) if h.kind is bool else h.choices if h.kind is str
                      else (h.high, h.low + 1 if h.kind is int else (h.low + h.high) / 3))
        others[h.name] = next(v for v in candidates if v != value)
    return others


def _round_trip(config: TrainConfig) -> TrainConfig:
    args = parser().parse_args(protocol.train_args(config, "x", "data.npz"))
    assert args.name == "x" and args.data == "data.npz"
    return config_from_args(args)


@pytest.mark.parametrize("preset", list(PRESETS))
def test_config_args_reproduce_every_hyperparameter_exactly(preset):
    """config → `train` flags → parser → config is the identity: for each preset, for each field
    changed alone, and for all of them changed at once."""
    config = make_config(preset)
    assert _round_trip(config) == config
    others = _other_values(config)
    for name, value in others.items():
        changed = make_config(preset, **{name: value})
        assert _round_trip(changed) == changed and getattr(changed, name) == value
    everything = make_config(preset, **others)
    assert _round_trip(everything) == everything
    assert all(getattr(everything, name) != getattr(config, name) for name in others)


def test_the_command_a_card_records_keeps_its_flags_and_their_order():
    """Recorded commands stay valid and a retrained run's command reads as before."""
    assert protocol.reproduce_command(make_config("quick"), "x", None) == (
        "python -m mnist_core train --preset quick --epochs 1 --batch-size 192 --lr 0.02 --lr-schedule one-cycle "
        "--optimizer adam --label-smoothing 0.1 --dropout 0.0 --no-early-stopping --early-stopping-patience 3 "
        "--no-augment --seed 0 --style-images 0 --validation-size 5000 --train-size 0 --nondigit-images 0 --name x")
    older = ("train --preset quick --epochs 1 --batch-size 64 --lr 0.02 --lr-schedule one-cycle --optimizer adam "
             "--label-smoothing 0.1 --dropout 0.0 --no-early-stopping --early-stopping-patience 3 --augment --seed 0 "
             "--style-images 0 --validation-size 100 --train-size 0 --name cli-run")  # before --nondigit-images
    assert config_from_args(parser().parse_args(older.split())) == make_config(
        "quick", batch_size=64, augment=True, validation_size=100)


@pytest.mark.parametrize("flags, early_stopping, patience", [
    (["--early-stopping-patience", "4"], True, 4),  # a patience turns early stopping on
    (["--early-stopping-patience", "4", "--no-early-stopping"], False, 4),  # unless told otherwise
    (["--early-stopping"], True, 5),
    ([], False, 5),
])
def test_a_patience_turns_early_stopping_on(flags, early_stopping, patience):
    config = config_from_args(parser().parse_args(["train", "--preset", "best", "--name", "x", *flags]))
    assert (config.early_stopping, config.patience) == (early_stopping, patience)


def test_train_help_lists_every_hyperparameter(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["train", "--help"])
    shown = capsys.readouterr().out
    for h in hyperparameters(TrainConfig):
        assert h.flag in shown and (h.kind is not bool or "--no-" + h.flag[2:] in shown)


def test_batch_messages_are_throttled_epoch_messages_never():
    now = [0]
    sent = []
    send = protocol.throttled(sent.append, interval=100, clock=lambda: now[0])  # a clock in milliseconds
    for batch in range(1, 36):  # a batch every 10 ms
        now[0] = 10 * batch
        send(Progress("batch", 1, 1, batch, 35, now[0] / 1000, {}))
    send(Progress("epoch", 1, 1, 35, 35, now[0] / 1000, {}))  # 40 ms after the last message sent
    assert [(m.kind, m.batch) for m in sent] == [("batch", 1), ("batch", 11), ("batch", 21), ("batch", 31),
                                                 ("epoch", 35)]
