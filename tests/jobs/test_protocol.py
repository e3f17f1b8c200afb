"""The training process's protocol: both sides read and write the same lines."""

import io

from mnist_core.jobs import protocol
from mnist_core.cli import parser
from mnist_core.cli.training import config_from_args
from mnist_core.config import make_config
from mnist_core.training.train import Progress


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


def test_config_args_reproduce_the_config_exactly():
    config = make_config("best", epochs=7, batch_size=33, learning_rate=0.0123, optimizer="sgd", dropout=0.15,
                         early_stopping=True, patience=4, augment=False, seed=99, lr_schedule="constant",
                         label_smoothing=0.05, validation_size=777, train_size=5000)
    args = parser().parse_args(protocol.train_args(config, "x", "data.npz"))
    assert config_from_args(args) == config and args.name == "x" and args.data == "data.npz"
    assert protocol.reproduce_command(config, "x", None).startswith("python -m mnist_core train --preset best ")


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
