"""hk-siteplan: where Hong Kong's incoming strategic enterprises can go, and when land runs out.

Public API (frames in, frames out):

- :func:`load_sites`, :func:`load_hubs` - the GIS layers, validated, in EPSG:2326
- :class:`BuildingMapping`, :func:`load_building_layer`, :func:`with_buildings` - a building list of your own
- :func:`land_supply` - supply by zone and year
- :func:`solve_assignment` - the matrix-level optimiser core (multi-resource GAP)
- :class:`AllocationSettings`, :class:`PlanningInputs`, :func:`build_allocation`, :func:`solve_allocation`,
  :func:`allocate` - the domain allocation
- :func:`load_scenario`, :func:`run_forecast` - scenarios and the ten-year forecast
"""

from importlib import import_module
from typing import TYPE_CHECKING

#: where each public name lives: imported on first use (PEP 562), so that ``import model`` is cheap
#: and a command pays only for the stages it runs
_EXPORTS = {
    "PlanningInputs": "allocation", "allocate": "allocation", "build_allocation": "allocation",
    "solve_allocation": "allocation", "BuildingMapping": "buildings", "load_building_layer": "buildings",
    "with_buildings": "buildings", "solve_assignment": "core", "InfeasibleError": "errors",
    "InputError": "errors", "SiteDataWarning": "errors", "run_forecast": "forecast", "HK_GRID": "layers",
    "load_hubs": "layers", "load_sites": "layers", "load_scenario": "scenario",
    "AllocationSettings": "settings", "land_supply": "supply", "parse_years": "supply",
}

if TYPE_CHECKING:  # the names as static tools see them
    from .allocation import PlanningInputs, allocate, build_allocation, solve_allocation
    from .buildings import BuildingMapping, load_building_layer, with_buildings
    from .core import solve_assignment
    from .errors import InfeasibleError, InputError, SiteDataWarning
    from .forecast import run_forecast
    from .layers import HK_GRID, load_hubs, load_sites
    from .scenario import load_scenario
    from .settings import AllocationSettings
    from .supply import land_supply, parse_years


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'model' has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "HK_GRID",
    "AllocationSettings",
    "BuildingMapping",
    "InfeasibleError",
    "InputError",
    "PlanningInputs",
    "SiteDataWarning",
    "allocate",
    "build_allocation",
    "land_supply",
    "load_building_layer",
    "load_hubs",
    "load_scenario",
    "load_sites",
    "parse_years",
    "run_forecast",
    "solve_allocation",
    "solve_assignment",
    "with_buildings",
]
