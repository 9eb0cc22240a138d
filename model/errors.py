"""Errors and warnings a user of the model can act on.

Every message is one line: where the problem is (file, feature or row, attribute), what is
wrong, and how to fix it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from .text import clean_text


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
        super().__init__(" ".join(clean_text(text).split()))  # user values in it: no control characters


class InfeasibleError(RuntimeError):
    """Hard planning rules conflict: names the rules and the smallest relaxation that would help."""

    def __init__(self, message: str, *, conflicts: list[str] | None = None,
                 relaxation: dict | None = None) -> None:
        self.conflicts = list(conflicts or [])
        self.relaxation = dict(relaxation or {})
        super().__init__(" ".join(clean_text(message).split()))


class SiteDataWarning(UserWarning):
    """Input that was repaired or looks suspicious but can still be used.

    A warning about one feature or row carries ``file``, ``item`` (its id) and ``kind`` (the same
    for every feature with the same problem, e.g. "position lies outside its district"), so that a
    thousand of them can be told as one line (:func:`summarise_warnings`)."""

    def __init__(self, message: str, *, file: str | Path | None = None, item: str | None = None,
                 kind: str | None = None) -> None:
        super().__init__(message)
        self.file = None if file is None else str(file)
        self.item = item
        self.kind = kind


class RunFolderWarning(UserWarning):
    """Something about the output folder a user should know: e.g. a leftover of a stopped run
    that was removed (``file``: the folder)."""

    def __init__(self, message: str, *, file: str | Path | None = None) -> None:
        super().__init__(message)
        self.file = None if file is None else str(file)
        self.item = None
        self.kind = None


def feature_warning(file: str | Path, item: str, problem: str, *, kind: str) -> SiteDataWarning:
    """A :class:`SiteDataWarning` about one feature: ``file: feature ITEM: problem``."""
    return SiteDataWarning(f"{file}: feature {item}: {problem}", file=file, item=item, kind=kind)


@dataclass(frozen=True)
class WarningRecord:
    """One warning as plain data (for the console summary and warnings.csv)."""

    category: str
    message: str
    file: str | None = None
    item: str | None = None
    kind: str | None = None


def warning_record(w: warnings.WarningMessage) -> WarningRecord:
    msg = w.message
    return WarningRecord(w.category.__name__, str(msg), getattr(msg, "file", None), getattr(msg, "item", None),
                         getattr(msg, "kind", None))


def summarise_warnings(records: list[WarningRecord], *, first: int = 5) -> list[str]:
    """One line per kind of warning: repeated warnings about features of one file become
    ``FILE: N features: KIND (first: A, B, C, ...)``; identical messages are told once with
    their count. Order: first appearance."""
    groups: dict[tuple, list[WarningRecord]] = {}
    for r in records:
        key = ("kind", r.file, r.kind) if r.kind else ("text", r.message)
        groups.setdefault(key, []).append(r)
    lines = []
    for key, grp in groups.items():
        if key[0] == "kind" and len(grp) > 1:
            items = [g.item for g in grp if g.item]
            shown = ", ".join(items[:first]) + (", ..." if len(items) > first else "")
            lines.append(f"{grp[0].file}: {len(grp):,} features: {grp[0].kind} (first: {shown})")
        else:
            lines.append(grp[0].message + (f" (told {len(grp):,} times)" if len(grp) > 1 else ""))
    return lines
