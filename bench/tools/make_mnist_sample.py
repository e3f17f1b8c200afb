"""Regenerate mnist_core/bundled/mnist_sample.npz, Home's offline sample of MNIST test digits.

The sample is the first PER_CLASS test digits of each class, in test-set order, so the same
MNIST always gives the same arrays. Usage:

    MNIST_PATH=/path/to/mnist.npz python -m bench.tools.make_mnist_sample [--data PATH] [--out PATH]
"""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from mnist_core.data import BUNDLED_SAMPLE, load_test_set

PER_CLASS = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="MNIST .npz (default: $MNIST_PATH, then Keras' cached file)")
    parser.add_argument("--out", type=Path, default=BUNDLED_SAMPLE)
    args = parser.parse_args()
    x_test, y_test = load_test_set(args.data)
    indices = np.sort(np.concatenate([np.flatnonzero(y_test == d)[:PER_CLASS] for d in range(10)]))
    fd, temporary = tempfile.mkstemp(dir=args.out.parent, prefix=".sample-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o644)
            np.savez_compressed(out, images=x_test[indices], labels=y_test[indices],
                                indices=indices.astype(np.int32))
        os.replace(temporary, args.out)
    finally:
        Path(temporary).unlink(missing_ok=True)
    print(f"{args.out}: {len(indices)} test digits, {args.out.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
