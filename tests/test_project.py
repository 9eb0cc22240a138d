"""The repository keeps its promises: dependencies in step, README commands, layout."""

from __future__ import annotations

import re
import tomllib

import yaml

from .conftest import ROOT


def _norm(spec: str) -> tuple[str, str]:
    spec = spec.replace(" ", "")
    name = re.split(r"[<>=!~]", spec, maxsplit=1)[0]
    return name.lower().replace("_", "-"), spec[len(name):]


#: pip extras and their conda packages (environment.yml names conda packages, never pip extras)
CONDA_FOR_EXTRA = {"dask[distributed]": ("dask", "distributed")}


def test_environment_yml_in_step_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pip_deps = {}
    for name, spec in (_norm(d) for d in project["dependencies"]):
        for conda_name in CONDA_FOR_EXTRA.get(name, (name,)):
            pip_deps[conda_name] = spec
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = dict(_norm(d) for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip")))
    assert not any("[" in name for name in conda), "environment.yml names conda packages, not pip extras"
    assert conda == pip_deps


def test_required_packages_are_runtime_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = {_norm(d)[0] for d in project["dependencies"]}
    assert {"geopandas", "shapely", "pulp", "highspy", "folium", "networkx", "pyogrio", "pyproj"} <= names
    assert any(d.startswith("pulp>=3.3,<4") for d in project["dependencies"])
    assert project["scripts"]["siteplan"] == "model.cli:main"


def test_layout():
    for folder in ("model", "geodata", "scenarios", "notebooks", "outputs", "tests"):
        assert (ROOT / folder).is_dir(), folder
    for file in ("environment.yml", "pyproject.toml", "Makefile", "README.md", ".ci/run", "geodata/SOURCES.md"):
        assert (ROOT / file).is_file(), file


def test_readme_quick_start_has_exactly_two_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quick, flags=re.S)
    commands = [ln.strip() for b in blocks for ln in b.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert commands == ["make run", "make test"]


def test_model_code_never_imports_folium():
    for path in (ROOT / "model").rglob("*.py"):
        if path.name in ("cli.py", "maps.py", "report.py"):
            continue
        assert not re.search(r"^\s*(import|from)\s+(folium|branca)", path.read_text(encoding="utf-8"), re.M), path


def test_ci_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in text
