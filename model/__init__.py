"""hk-siteplan: where Hong Kong's incoming strategic enterprises can go, and when land runs out.

Public API (frames in, frames out):

- :func:`load_sites`, :func:`load_hubs` - the GIS layers, validated, in EPSG:2326
- :class:`BuildingMapping`, :func:`load_building_layer`, :func:`with_buildings` - a building list of your own
- :func:`land_supply` - supply by zone and year
"""

from .buildings import BuildingMapping, load_building_layer, with_buildings
from .errors import InfeasibleError, InputError, SiteDataWarning
from .layers import HK_GRID, load_hubs, load_sites
from .supply import land_supply, parse_years

__all__ = [
    "HK_GRID",
    "BuildingMapping",
    "InfeasibleError",
    "InputError",
    "SiteDataWarning",
    "land_supply",
    "load_building_layer",
    "load_hubs",
    "load_sites",
    "parse_years",
    "with_buildings",
]
