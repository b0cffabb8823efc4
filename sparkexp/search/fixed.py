"""A fixed list of points, evaluated in order (``experiment.launch``, retries, warm starts).

Example:
    >>> s = FixedSearch([{"lr": 0.1}, {"lr": 0.2}])
    >>> [c.params for c in s.ask(3)], s.is_finished()
    ([{'lr': 0.1}, {'lr': 0.2}], True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sparkexp.errors import SearchSpaceError
from sparkexp.search._base import IndexedSearch

__all__ = ["FixedSearch"]


class FixedSearch(IndexedSearch):
    """Evaluates exactly the given parameter dicts, in order."""

    name = "fixed"

    def __init__(self, points: Sequence[Mapping[str, Any]], *, name: str = "fixed") -> None:
        if isinstance(points, (Mapping, str, bytes)) or not isinstance(points, Sequence):
            raise SearchSpaceError(f"points must be a list of parameter dicts, got {type(points).__name__}")
        for i, p in enumerate(points):
            if not isinstance(p, Mapping):
                raise SearchSpaceError(f"point {i} must be a dict of hyperparameters, got {p!r}")
        self._points = [dict(p) for p in points]
        self.name = name

    @property
    def total(self) -> int:
        return len(self._points)

    def point(self, index: int) -> dict[str, Any]:
        return dict(self._points[index])

    def settings(self) -> dict[str, Any]:
        return {"points": self._points}
