"""The layout's rules, per folder: TensorFlow only in the training wing, Streamlit only in the UI."""

import ast
import subprocess
import sys
from pathlib import Path

from tests.support.data import ROOT

PACKAGE = ROOT / "mnist_core"
# The server's wing: what the app's process imports. The training wing (training/, and keras_runs/,
# which makes its networks runs) and the commands that start it (cli/) run in their own processes.
TRAINING_WING = ("training", "keras_runs")
SERVER_WING = [path for path in PACKAGE.rglob("*.py")
               if path.relative_to(PACKAGE).parts[0] not in (*TRAINING_WING, "cli", "__main__.py")]
TENSORFLOW = ("tensorflow", "keras", "tf2onnx")


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at its top or inside a function, as absolute dotted names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_module_of_the_servers_wing_imports_tensorflow_or_the_training_wing():
    assert len(SERVER_WING) > 15  # the wing is found: reading/, runs/, jobs/ and the package's own modules
    for path in SERVER_WING:
        offending = {name for name in imported_modules(path)
                     if name.split(".")[0] in TENSORFLOW or name.startswith(tuple(f"mnist_core.{wing}" for wing in (*TRAINING_WING, "cli")))}
        assert not offending, f"{path.relative_to(ROOT)} imports {sorted(offending)}"


def test_importing_every_module_of_the_servers_wing_loads_no_tensorflow():
    modules = [".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__") for path in SERVER_WING]
    code = (f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {TENSORFLOW!r}))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"


def test_no_module_of_mnist_core_imports_streamlit():
    for path in PACKAGE.rglob("*.py"):
        assert not any(name.split(".")[0] == "streamlit" for name in imported_modules(path)), path


def test_pages_holds_the_five_pages_and_no_file_is_long():
    assert sorted(p.name for p in (ROOT / "pages").iterdir()) == ["draw.py", "explore.py", "home.py", "models.py",
                                                                   "train.py"]
    for folder in ("mnist_core", "ui", "pages"):
        for path in (ROOT / folder).rglob("*.py"):
            assert len(path.read_text(encoding="utf-8").splitlines()) <= 300, path
