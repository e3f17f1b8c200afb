"""Size of a run's Explore gallery (gallery.npz), built from the MNIST test set and the run's
stored test probabilities, with what each array takes.

    MNIST_PATH=/path/to/mnist.npz python bench/gallery_size.py [--model NAME]
"""

import argparse
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from mnist_core import find_run, load_test_set  # noqa: E402
from mnist_core.gallery import build_gallery, write_gallery  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    x_test, y_test = load_test_set()
    run = find_run(args.model)
    gallery = build_gallery(x_test, y_test, run.test_probabilities())
    with tempfile.TemporaryDirectory() as folder:
        path = write_gallery(gallery, folder)
        wrong = int((gallery.probabilities.argmax(1) != gallery.labels).sum())
        print(f"{args.model}: gallery.npz {path.stat().st_size:,} bytes, {len(gallery.indices)} images "
              f"({wrong} misclassified, {len(gallery.indices) - wrong} correct)")
        for info in zipfile.ZipFile(path).infolist():
            print(f"  {info.filename:<18} {info.compress_size:>9,} bytes ({info.file_size:,} uncompressed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
