"""The benchmarks, run briefly so they cannot rot (the figures come from full runs)."""

import re
import subprocess
import sys

import pytest

from tests.support.data import ROOT

pytestmark = [pytest.mark.mnist, pytest.mark.slow]  # each runs a benchmark script for several seconds


def bench(*args, timeout=600):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.mark.parametrize("clients", ["ws", pytest.param("browser", marks=pytest.mark.e2e)])
def test_load_script_briefly(mnist_path, clients):
    out = bench("-m", "bench.measure.server.load", "--sessions", 2, "--seconds", 6, "--clients", clients)
    sessions = "2 ws sessions, fragment reruns" if clients == "ws" else "2 browser sessions"
    match = re.search(rf"{sessions} for 6 s: (\d+) strokes answered, 0 errors, p50 \d+ ms, p95 \d+ ms, "
                      r"server CPU [\d.]+ ms per stroke", out)
    assert match and int(match.group(1)) >= 2, out


def test_load_script_rerunning_the_page_with_a_training_briefly(mnist_path):
    out = bench("-m", "bench.measure.server.load", "--sessions", 2, "--seconds", 6, "--train", "--reruns", "page")
    assert re.search(r"2 ws sessions, page reruns for 6 s with a training running: \d+ strokes answered, 0 errors",
                     out), out


def test_classroom_script_briefly(mnist_path):
    out = bench("-m", "bench.measure.server.classroom", "--sessions", 3, "--seconds", 6, "--no-train")
    match = re.search(r"3 sessions for 6 s, server on CPU \[0\]: (\d+) strokes answered, 0 errors, p50 \d+ ms, "
                      r"p95 \d+ ms, server CPU [\d.]+ ms per stroke, server peak (\d+) MB, .*\(goals met", out)
    assert match and int(match.group(1)) >= 3 and 100 < int(match.group(2)) <= 400, out


def test_canvas_accuracy_briefly(mnist_path):
    out = bench("-m", "bench.measure.accuracy.canvas_accuracy", "--count", 60)
    accuracy = float(re.search(r"MNIST-style preprocessing: ([\d.]+)%", out).group(1))
    baseline = float(re.search(r"plain resize baseline: +([\d.]+)%", out).group(1))
    assert accuracy > baseline and accuracy > 80, out


def test_predict_latency_briefly(mnist_path):
    out = bench("-m", "bench.measure.cost.predict_latency", "--calls", 100)
    assert re.search(r"clf.predict \(preprocess \+ ONNX Runtime \+ digit detector\) +p50 +[\d.]+ ms", out), out
    assert re.search(r"on RGBA canvas arrays alone \(\d+ of 200\) +p50 +[\d.]+ ms", out), out
    assert "speed-up:" in out


def test_three_widths_briefly(mnist_path):
    from mnist_core import find_run

    out = bench("-m", "bench.measure.accuracy.three_widths", "default")
    match = re.search(r"default +validation \( *500\) errors: once +\d+, three widths +\d+ +test errors: once +\d+, "
                      r"three widths +(\d+) \(", out)
    assert match, out
    assert int(match.group(1)) == round((1 - find_run().card.test_accuracy) * 10000)  # the default reads so


def test_finetune_job_script_briefly(mnist_path):
    out = bench("-m", "bench.measure.cost.finetune_job", "--digits", 20, "--runs", 1)
    assert re.search(r"run 1: job +[\d.]+ s \(its fine-tune +[\d.]+ s\), baseline +[\d.]+ s", out), out
    job, baseline = map(float, re.search(r"job median ([\d.]+) s \(goal <= 30 s\), its fine-tune [\d.]+ s, "
                                         r"TensorFlow and MNIST alone ([\d.]+) s", out).groups())
    assert job > baseline > 0, out
