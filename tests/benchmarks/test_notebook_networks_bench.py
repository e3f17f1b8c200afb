"""bench.measure.accuracy.notebook_networks, run briefly so it cannot rot (its figures come from a full run)."""

import re
import subprocess
import sys

import pytest

from tests.support.data import ROOT

pytestmark = [pytest.mark.mnist, pytest.mark.slow]  # trains a network and imports it twice


def test_notebook_networks_briefly(mnist_path):
    result = subprocess.run([sys.executable, "-m", "bench.measure.accuracy.notebook_networks", "--epochs", "1", "--networks",
                             "mlp-28x28", "--drawings", "40"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    rows = re.findall(r"^(mlp-28x28\.(?:keras|h5)) +\(28, 28\) +0-1 +0-1 +its own +([\d.]+)% +([\d.]+)% +([+-][\d.]+) +"
                      r"([\d.]+)% +[\d.]+s$", result.stdout, re.MULTILINE)
    assert [row[0] for row in rows] == ["mlp-28x28.keras", "mlp-28x28.h5"], result.stdout
    assert all(abs(float(row[3])) <= 0.3 and float(row[1]) > 85 for row in rows), result.stdout
    assert re.search(r"largest difference between Keras' and the app's test accuracy: [\d.]+ points", result.stdout)
