"""Seconds per epoch of each preset on this machine (the second epoch: no start-up costs).

    python -m bench.measure.cost.epoch_times [--presets seed-mlp quick best]
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from mnist_core.config import PRESETS, make_config
from mnist_core.data import load_mnist
from mnist_core.training.train import train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    args = parser.parse_args()
    data = load_mnist()
    for preset in args.presets:
        ends = []
        run = train(make_config(preset, epochs=2),
                    data, on_progress=lambda p: ends.append(p.elapsed) if p.kind == "epoch" else None)
        print(f"{preset:9s} epoch 1 {ends[0]:6.1f} s (with start-up), epoch 2 {ends[1] - ends[0]:6.1f} s, "
              f"{len(data.x_train)} images, batch {run.config.batch_size}, "
              f"{run.model.count_params():,} parameters", flush=True)


if __name__ == "__main__":
    main()
