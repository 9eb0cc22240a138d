"""Errors and warnings a user of the model can act on.

Every message is one line: where the problem is (file, feature or row, attribute), what is
wrong, and how to fix it.
"""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """Bad input data: the message names the file, the feature/row, the attribute and the fix."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        feature: str | None = None,
        attribute: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.feature = feature
        self.attribute = attribute
        self.fix = fix
        where = [w for w in (self.file, feature and f"feature {feature}", attribute and f"'{attribute}'") if w]
        text = (": ".join([", ".join(where), problem]) if where else problem)
        if fix:
            text += f"; fix: {fix}"
        super().__init__(" ".join(text.split()))


class InfeasibleError(RuntimeError):
    """Hard planning rules conflict: names the rules and the smallest relaxation that would help."""

    def __init__(self, message: str, *, conflicts: list[str] | None = None,
                 relaxation: dict | None = None) -> None:
        self.conflicts = list(conflicts or [])
        self.relaxation = dict(relaxation or {})
        super().__init__(" ".join(message.split()))


class SiteDataWarning(UserWarning):
    """Input that was repaired or looks suspicious but can still be used."""
