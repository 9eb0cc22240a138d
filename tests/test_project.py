"""The repository keeps its promises: dependencies in step, README commands, layout."""

from __future__ import annotations

import itertools
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
    # the runtime dependencies and the notebooks extra (JupyterLab): the conda environment is for both
    for name, spec in (_norm(d) for d in [*project["dependencies"], *project["optional-dependencies"]["notebooks"]]):
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
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", quick, flags=re.DOTALL)
    commands = [ln.strip() for b in blocks for ln in b.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    assert commands == ["make run", "make test"]


def test_model_code_never_imports_folium():
    for path in (ROOT / "model").rglob("*.py"):
        if path.name in ("cli.py", "maps.py", "report.py"):
            continue
        assert not re.search(r"^\s*(import|from)\s+(folium|branca)", path.read_text(encoding="utf-8"), re.MULTILINE), path


def test_ci_runs_make_test():
    text = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in text


def _imports_of(path, package: str) -> set[str]:
    """Modules of the ``model`` package that a module imports (module level or inside functions)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("model"):
                names = [f"{target}.{a.name}" for a in node.names]
                out |= {n for n in names if _module_file(n)} or {target}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("model")}
    return {m for m in out if _module_file(m)}


def _module_file(name: str):
    parts = name.split(".")
    path = ROOT.joinpath(*parts)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.exists():
            return candidate
    return None


def test_the_import_graph_has_no_cycle():
    import networkx as nx

    graph = nx.DiGraph()
    for path in (ROOT / "model").rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = name if rel.name == "__init__" else ".".join(rel.parts[:-1])
        graph.add_node(name)
        for target in _imports_of(path, package):
            if target != name and name != "model":  # the package's __init__ re-exports the public API
                graph.add_edge(name, target)
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], cycles[:3]
    # the optimiser's stages read only what comes before them
    order = ["model.optimiser.problem", "model.optimiser.formulation", "model.optimiser.solve",
             "model.optimiser.explain"]
    for earlier, later in itertools.pairwise(order):
        assert nx.has_path(graph, later, earlier) and not nx.has_path(graph, earlier, later), (earlier, later)
    assert not any(n.startswith("model.allocation") for n in nx.descendants(graph, "model.optimiser.solve"))


def test_import_model_is_cheap_and_the_public_names_load_on_use():
    import subprocess
    import sys

    code = ("import sys, model; heavy = [m for m in ('geopandas', 'pandas', 'pulp', 'highspy', 'folium', 'dask') "
            "if m in sys.modules]; print(heavy); from model import run_forecast, solve_assignment, HK_GRID; "
            "print(sorted(model.__all__) == sorted(model._EXPORTS), HK_GRID)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "[]", out[0]  # no heavy stage is imported by the package itself
    assert out[1] == "True EPSG:2326"


def test_mypy_finds_no_type_errors_in_the_model():
    """mypy, as configured in pyproject.toml ([tool.mypy]: the ``model`` package), reports nothing."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "Success" in output, output


def test_ruff_finds_nothing():
    """ruff, with the rule families and the few exceptions of pyproject.toml, reports nothing."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
