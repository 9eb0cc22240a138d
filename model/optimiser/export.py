"""The formulation as a PuLP model with real names, for inspection, LP/MPS export and CBC.

Generated from the same arrays HiGHS is fed: one formulation, two views. Variables carry the
formulation's column names (``x[E-1,TKO-AMC,2028]``, ``y[life_health,NTE]``), constraints its row
names (``floor[TKO-AMC,2035]``); PuLP rewrites ``-``, ``[`` and ``]`` in names it writes to files.
Files are written by the caller (``prob.writeMPS(path)``); model code writes none.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pulp

from .. import milp
from .formulation import Formulation
from .highs import MatrixModel


def to_pulp(form: Formulation, *, relax: bool = False) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The PuLP problem of a formulation, with its real names, and its variables in column order."""
    return matrix_to_pulp(form, form.column_names, form.row_names, relax=relax)


def matrix_to_pulp(form: MatrixModel, column_names: Sequence[str], row_names: Sequence[str], *,
                   relax: bool = False) -> tuple[pulp.LpProblem, list[pulp.LpVariable]]:
    """The PuLP problem of any model of arrays (a formulation, or the core's :class:`MatrixModel`)
    with the given column and row names, and its variables in column order."""
    prob = milp.new_problem(form.name, form.sense)
    variables = [prob.add_variable(name, float(lo), float(up),
                                   pulp.LpInteger if (integer and not relax) else pulp.LpContinuous)
                 for name, lo, up, integer in zip(column_names, form.col_lower.tolist(), form.col_upper.tolist(),
                                                  form.integer.tolist(), strict=True)]
    prob.setObjective(milp.affine(variables, form.cost))
    csr = form.matrix.tocsr()
    rows = []
    for i, name in enumerate(row_names):
        a, b = csr.indptr[i], csr.indptr[i + 1]
        expr = milp.affine([variables[j] for j in csr.indices[a:b].tolist()], csr.data[a:b])
        lo, up = float(form.row_lower[i]), float(form.row_upper[i])
        if np.isfinite(lo) and np.isfinite(up) and lo == up:
            rows.append((name, expr, "==", lo))
            continue
        if np.isfinite(up):
            rows.append((name, expr, "<=", up))
        if np.isfinite(lo):
            rows.append((name if not np.isfinite(up) else f"{name}_lo", expr, ">=", lo))
    milp.add_rows(prob, rows)
    return prob, variables
