"""environment.yml and pyproject.toml must pin the same dependencies."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _pyproject_pins() -> set[str]:
    meta = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    extras = meta["optional-dependencies"]
    pins = set(meta["dependencies"])
    for extra in ("cpu", "book", "workflow", "dev"):
        pins |= set(extras[extra])
    return pins


def _conda_pins() -> set[str]:
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    return {p for p in pip if not p.startswith("-e")}


def test_environment_yml_matches_pyproject():
    py, conda = _pyproject_pins(), _conda_pins()
    assert py == conda, f"only in pyproject: {sorted(py - conda)}; only in environment.yml: {sorted(conda - py)}"


def test_every_dependency_is_pinned_exactly():
    for pin in _pyproject_pins():
        assert "==" in pin, f"{pin} is not pinned to a tested version"


def test_gpu_extra_pins_the_same_tensorflow():
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    cpu = extras["cpu"][0].split("==")[1]
    gpu = extras["gpu"][0].split("==")[1]
    assert cpu == gpu


def test_installed_versions_match_pins():
    from importlib.metadata import version

    for pin in _pyproject_pins():
        name, want = pin.split("==")
        name = name.split("[")[0]
        assert version(name) == want, f"{name}: installed {version(name)}, pinned {want}; run `make env`"
