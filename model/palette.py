"""The colours of the maps and charts, one place for each: sectors, site groups, hubs, the
utilisation ramp, land not yet released, withheld figures and last year's plan."""

from __future__ import annotations

import numpy as np

SECTOR_COLOURS = {
    "life_health": "#1b9e77", "ai_data": "#7570b3", "fintech": "#e7298a", "advanced_manufacturing": "#d95f02",
    "new_energy": "#66a61e", "microelectronics": "#e6ab02", "food_tech": "#a6761d", "data_centre": "#666666",
}
GROUPS = ("innovation_parks", "northern_metropolis", "industrial_buildings")
GROUP_COLOURS = {"innovation_parks": "#2b8cbe", "northern_metropolis": "#31a354", "industrial_buildings": "#8856a7"}
HUB_COLOURS = {"bcp": "#000000", "university": "#1f78b4", "port": "#6a3d9a", "airport": "#b15928"}
#: a yellow-to-dark-red ramp, distinct from the sector colours: (upper limit of the share, colour, legend key)
UTILISATION_STEPS = [(0.5, "#ffffcc", "map.legend.under50"), (0.75, "#fed976", "map.legend.50_75"),
                     (0.9, "#fd8d3c", "map.legend.75_90"), (0.98, "#e31a1c", "map.legend.90_98"),
                     (np.inf, "#800026", "map.legend.full")]
NOT_RELEASED = "#bdbdbd"
#: a site-year whose take-up the public map withholds (the disclosure rule of model.disclosure)
WITHHELD_COLOUR = "#f0f0f0"
LAST_YEAR_COLOUR = "#253494"
