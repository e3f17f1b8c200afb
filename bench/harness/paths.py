"""Where things are: the repository, and the data folder beside it (../shared/data: MNIST, UNIPEN)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"
