"""pyproject.toml, environment.yml and binder/ install the same packages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIP_INSTALL = re.compile(r"pip install (?P<args>.+)$")


def normalise(requirement: str) -> str:
    """``"Torch >= 2.2"`` -> ``"torch>=2.2"`` (PEP 503 names, no spaces or quotes)."""
    req = requirement.strip().strip("\"'").replace(" ", "")
    name, spec = re.match(r"([A-Za-z0-9._-]+)(.*)", req).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + spec


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {normalise(r) for r in project["dependencies"]}


def conda_pip_requirements(path: Path) -> tuple[set[str], list[str]]:
    """Requirements of an environment file's pip section, and its other pip lines."""
    env = yaml.safe_load(path.read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    options = [line for line in pip if line.startswith("-")]
    return {normalise(line) for line in pip if not line.startswith("-")}, options


def post_build_installs() -> list[list[str]]:
    """Arguments of every ``pip install`` in binder/postBuild."""
    installs = []
    for line in (ROOT / "binder" / "postBuild").read_text().splitlines():
        match = PIP_INSTALL.search(line)
        if match and not line.lstrip().startswith("#"):
            installs.append(match["args"].split())
    return installs


def test_environment_yml_names_the_pyproject_dependencies_and_the_package():
    packages, options = conda_pip_requirements(ROOT / "environment.yml")
    assert packages == pyproject_requirements()
    assert options == ["-e ."]


def test_binder_installs_the_pyproject_dependencies_with_cpu_only_torch():
    packages, options = conda_pip_requirements(ROOT / "binder" / "environment.yml")
    assert packages == pyproject_requirements()
    # torch comes from the CPU-only index in the same pip call as torchgeo, which needs it
    assert options == ["--extra-index-url https://download.pytorch.org/whl/cpu"]
    installs = post_build_installs()
    assert installs == [["--no-cache-dir", "-e", "."]], "postBuild installs only the kit"


def test_post_build_stops_on_errors_and_installs_the_kit():
    lines = [ln for ln in (ROOT / "binder" / "postBuild").read_text().splitlines() if ln.strip()]
    first_command = next(ln for ln in lines if not ln.startswith("#"))
    assert first_command == "set -e"
    assert ["--no-cache-dir", "-e", "."] in post_build_installs()
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_environments_use_the_python_of_the_kit():
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = requires.removeprefix(">=")
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        deps = yaml.safe_load(path.read_text())["dependencies"]
        python = next(d for d in deps if isinstance(d, str) and d.startswith("python="))
        assert tuple(map(int, python.split("=")[1].split("."))) >= tuple(
            map(int, minimum.split("."))
        )
