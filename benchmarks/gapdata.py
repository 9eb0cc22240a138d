"""Read OR-Library / Yagiura GAP instance files (``m n``, costs, uses, capacities) into matrices.

The instances are not part of the project; pass the folder that holds them
(for development: ../shared/reference-data/gap).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def read_gap(path: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (cost, use, capacity) with cost and use as jobs x agents (enterprises x sites)."""
    tokens = np.array(Path(path).read_text().split(), dtype=np.int64)
    m, n = int(tokens[0]), int(tokens[1])
    body = tokens[2:]
    if body.size != 2 * m * n + m:
        raise ValueError(f"{path}: expected {2 * m * n + m} numbers after 'm n', found {body.size}")
    cost = body[: m * n].reshape(m, n).T.astype(float)
    use = body[m * n: 2 * m * n].reshape(m, n).T.astype(float)
    cap = body[2 * m * n:].astype(float)
    return cost, use, cap
