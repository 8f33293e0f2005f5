"""The conda environment and the pip package declare the same dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from fixtures import ROOT

# pip extras that conda-forge ships as separate packages
CONDA_SPLIT = {"dask[distributed]": ("dask", "distributed")}


def _pip_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    out: dict[str, str] = {}
    for req in wanted:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+(?:\[[^\]]+\])?)\s*(.*)", req)
        assert match, req
        name, spec = match.group(1).lower(), match.group(2).replace(" ", "")
        for conda_name in CONDA_SPLIT.get(name, (name,)):
            out[conda_name] = spec
    return out


def _conda_requirements() -> tuple[dict[str, str], list[str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    out: dict[str, str] = {}
    pip: list[str] = []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.extend(dep.get("pip", []))
            continue
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", dep)
        assert match, dep
        out[match.group(1).lower()] = match.group(2).replace(" ", "")
    return out, pip


def test_every_pip_dependency_is_in_environment_yml_with_the_same_bounds():
    conda, _ = _conda_requirements()
    pip = _pip_requirements()
    missing = sorted(set(pip) - set(conda))
    assert not missing, f"add to environment.yml: {missing}"
    differing = {name: (pip[name], conda[name]) for name in pip if pip[name] != conda[name]}
    assert not differing, f"pyproject vs environment.yml bounds differ: {differing}"


def test_environment_yml_has_nothing_pyproject_lacks():
    conda, _ = _conda_requirements()
    extra = sorted(set(conda) - set(_pip_requirements()) - {"python", "pip"})
    assert not extra, f"declared only in environment.yml: {extra}; add them to pyproject.toml"


def test_environment_installs_the_package_itself_and_pins_python():
    conda, pip = _conda_requirements()
    assert "-e ." in pip
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    minimum = project["requires-python"].removeprefix(">=")
    assert conda["python"] == f"={minimum}"
