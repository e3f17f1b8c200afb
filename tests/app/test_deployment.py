"""What Streamlit Community Cloud builds the app from: requirements.txt, on the Pythons it offers."""

import json
import os
import subprocess
import sys

import pytest
from packaging.requirements import Requirement

from bench.harness.server.browser import ROOT

# Cloud runs Debian on x86_64 (glibc 2.36): wheels for any manylinux up to that install there.
# (manylinux2014 also lets pip take the older manylinux2010 and manylinux1 wheels.)
CLOUD_PLATFORMS = ["manylinux2014_x86_64"] + [f"manylinux_2_{minor}_x86_64" for minor in range(17, 37)]


def pins(python: str) -> dict[str, str]:
    """requirements.txt's pins that apply on Linux x86_64 under `python`: {name: version}."""
    environment = {"sys_platform": "linux", "platform_machine": "x86_64", "python_version": python}
    found = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                found[requirement.name.lower().replace("_", "-")] = str(requirement.specifier).removeprefix("==")
    return found


@pytest.mark.slow  # asks PyPI, about 30 s each
@pytest.mark.parametrize("python", ["3.12", "3.13", "3.14"])
def test_requirements_resolve_for_community_cloud(python, tmp_path):
    """pip resolves requirements.txt, dependencies included, to wheels for Linux x86_64 and this
    Python, from PyPI alone (no local wheel folder, no constraints from this machine's pip
    configuration). A dry run: pip reads the wheels' metadata and installs nothing. pip judges
    requirement markers by the Python it runs on, not by --python-version, so it is given the
    pins that apply to `python` (pins() judges the markers). On 3.14, for which TensorFlow 2.21
    has no release, everything but TensorFlow installs: the app serves all but training there."""
    environment = {key: value for key, value in os.environ.items() if key != "PIP_FIND_LINKS"}
    environment["PIP_CONFIG_FILE"] = os.devnull
    expected = pins(python)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("".join(f"{name}=={version}\n" for name, version in expected.items()))
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet",
               "--only-binary=:all:", "--index-url", "https://pypi.org/simple", "--python-version", python,
               "--implementation", "cp", *(f"--platform={platform}" for platform in CLOUD_PLATFORMS),
               "--target", str(tmp_path / "target"), "--report", str(report), "-r", str(requirements)]
    result = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    resolved = {item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
                for item in json.loads(report.read_text())["install"]}
    assert "streamlit" in expected and "onnxruntime" in expected and "keras" in expected
    assert ("tensorflow-cpu" in expected) == (python != "3.14")
    assert {name: resolved.get(name) for name in expected} == expected
    assert python != "3.14" or not any(name.startswith("tensorflow") for name in resolved)
