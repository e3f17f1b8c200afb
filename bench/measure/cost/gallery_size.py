"""Size of a run's Explore gallery (gallery.npz: its test probabilities and the test digits Explore
shows), with what each array takes.

    python -m bench.measure.cost.gallery_size [--model NAME]
"""

import argparse
import sys
import zipfile

from mnist_core import find_run
from mnist_core.runs.gallery import GALLERY_FILE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    args = parser.parse_args()
    run = find_run(args.model)
    gallery, path = run.gallery(), run.path / GALLERY_FILE
    wrong = int((gallery.probabilities.argmax(1) != gallery.labels).sum())
    print(f"{args.model}: gallery.npz {path.stat().st_size:,} bytes, {len(gallery.indices)} images "
          f"({wrong} misclassified, {len(gallery.indices) - wrong} correct)")
    for info in zipfile.ZipFile(path).infolist():
        print(f"  {info.filename:<18} {info.compress_size:>9,} bytes ({info.file_size:,} uncompressed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
