"""Grid search: every combination of the listed values, in cartesian order.

The first key varies slowest, as in ``itertools.product``: ``{"lr": [1, 2], "do": [3, 4]}``
gives ``(1, 3), (1, 4), (2, 3), (2, 4)``. Points are computed from their index on demand, so a
100,000-point grid costs no memory up front.

Example:
    >>> g = GridSearch({"lr": [0.001, 0.0005], "dropout": [0.45, 0.7]})
    >>> g.total
    4
    >>> [c.params for c in g.ask(2)]
    [{'lr': 0.001, 'dropout': 0.45}, {'lr': 0.001, 'dropout': 0.7}]

A conditional entry (``{"values": [...], "when": {...}}``) is expanded only where its
condition holds, so the grid holds the valid combinations only:

    >>> c = GridSearch({"model": ["tree", "svm"],
    ...                 "depth": {"values": [2, 4], "when": {"model": "tree"}}})
    >>> [p.params for p in c.ask(5)]
    [{'model': 'tree', 'depth': 2}, {'model': 'tree', 'depth': 4}, {'model': 'svm'}]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sparkexp.errors import SearchSpaceError
from sparkexp.search._base import IndexedSearch
from sparkexp.space import Choice, Dist, Fixed, parse_dist
from sparkexp.space._conditional import Condition, holds, same_value, split_condition

__all__ = ["GridSearch", "DEFAULT_MAX_GRID"]

#: Grids above this many points are refused unless ``max_grid=`` is raised.
DEFAULT_MAX_GRID = 100_000


def _as_values(name: str, values: Any) -> list[Any]:
    if isinstance(values, Mapping):  # the hpogrid form, e.g. a categorical
        values = parse_dist(name, values)
    if isinstance(values, Choice):
        return list(values.options)
    if isinstance(values, Fixed):
        return [values.value]
    if isinstance(values, Dist):
        raise SearchSpaceError(
            f"grid value for '{name}' is {values!r}, which has no finite list of values; "
            "pick values with linear(...), logspace(...), random(...) or a list"
        )
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, range)):
        try:
            import numpy as np

            if isinstance(values, np.ndarray):
                if values.ndim == 1:
                    return [v.item() for v in values]
                raise SearchSpaceError(  # its repr spans lines; a list of it is no answer
                    f"grid value for '{name}' is a numpy array of shape {values.shape}; give a "
                    "1-d array or a list of the values to try"
                )
        except ImportError:  # pragma: no cover - numpy is a dependency
            pass
        if isinstance(values, (set, frozenset)):
            raise SearchSpaceError(
                f"grid value for '{name}' is a set, which has no order: write the values to try "
                f"as a list, e.g. {sorted(values, key=repr)!r}"
            )
        raise SearchSpaceError(
            f"grid value for '{name}' must be a list of values to try, got {values!r} "
            f"(write {{'{name}': [{values!r}]}} for a single value)"
        )
    out = [v.item() if hasattr(v, "item") and callable(v.item) else v for v in values]
    if not out:
        raise SearchSpaceError(f"grid value for '{name}' is empty: give at least one value to try")
    return out


class GridSearch(IndexedSearch):
    """Exhaustive search over a dict of ``name -> list of values``.

    Args:
        grid: Hyperparameter names mapped to the values to try (lists, tuples, ranges, 1-d
            numpy arrays, grid helpers such as ``linear(...)``, or ``choice``/``fixed``
            primitives).
        max_grid: Refuse grids with more points than this (default 100,000).
    """

    name = "grid"

    def __init__(self, grid: Mapping[str, Any], *, max_grid: int = DEFAULT_MAX_GRID) -> None:
        if not isinstance(grid, Mapping):
            raise SearchSpaceError(
                f"grid must be a dict of hyperparameter name -> list of values, got {type(grid).__name__}"
            )
        if not grid:
            raise SearchSpaceError("grid is empty: give at least one hyperparameter with values")
        self._names = [str(k) for k in grid]
        self._when: dict[str, Condition] = {}
        self._values = []
        for k, v in grid.items():
            inner, cond = split_condition(str(k), v)
            self._values.append(_as_values(str(k), inner))
            if cond is not None:
                self._check_condition(str(k), cond)
                self._when[str(k)] = cond
        self._points: list[dict[str, Any]] | None = None
        if self._when:
            self._points = self._expand(max_grid)
            self._size = len(self._points)
            return
        size = math.prod(len(v) for v in self._values)
        if size > max_grid:
            dims = " x ".join(f"{n}={len(v)}" for n, v in zip(self._names, self._values))
            raise SearchSpaceError(
                f"grid has {size:,} points ({dims}), more than max_grid={max_grid:,}; "
                "shrink it or pass max_grid= to allow it"
            )
        self._size = size

    def _check_condition(self, name: str, cond: Condition) -> None:
        earlier = dict(zip(self._names, self._values))
        for parent, allowed in cond.items():
            if parent not in earlier or self._names.index(parent) >= self._names.index(name):
                raise SearchSpaceError(
                    f"grid entry '{name}' is conditional on '{parent}', which is not an earlier "
                    f"entry of the grid (earlier: {self._names[:self._names.index(name)]})"
                )
            for value in allowed:
                if not any(same_value(value, v) for v in earlier[parent]):
                    raise SearchSpaceError(
                        f"grid entry '{name}': when {{'{parent}': {value!r}}} can never hold; "
                        f"'{parent}' takes {earlier[parent]!r}"
                    )

    def _expand(self, max_grid: int) -> list[dict[str, Any]]:
        """Every valid combination in cartesian order (first key slowest), absent entries left out."""
        points: list[dict[str, Any]] = [{}]
        for name, values in zip(self._names, self._values):
            cond = self._when.get(name)
            grown: list[dict[str, Any]] = []
            for p in points:
                if cond is not None and not holds(cond, p):
                    grown.append(p)
                else:
                    grown.extend({**p, name: v} for v in values)
                if len(grown) > max_grid:
                    raise SearchSpaceError(
                        f"grid has more than max_grid={max_grid:,} valid points; shrink it or "
                        "pass max_grid= to allow it"
                    )
            points = grown
        return points

    @property
    def total(self) -> int:
        return self._size

    def point(self, index: int) -> dict[str, Any]:
        """The grid point at ``index`` in cartesian order (first key slowest)."""
        if self._points is not None:
            return dict(self._points[index])
        params: dict[str, Any] = {}
        rest = index
        for name, values in zip(reversed(self._names), reversed(self._values)):
            rest, pos = divmod(rest, len(values))
            params[name] = values[pos]
        return {name: params[name] for name in self._names}

    def settings(self) -> dict[str, Any]:
        grid: dict[str, Any] = {}
        for name, values in zip(self._names, self._values):
            cond = self._when.get(name)
            grid[name] = values if cond is None else {
                "values": values, "when": {p: list(v) for p, v in cond.items()}}
        return {"grid": grid, "size": self._size}

    @property
    def optional_names(self) -> list[str]:
        """Entries that exist only under a condition."""
        return [n for n in self._names if n in self._when]
