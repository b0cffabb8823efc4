"""``Space``: the ordered hyperparameters of an experiment and what each may take.

Example:
    >>> from sparkexp.space import Space, loguniform
    >>> s = Space({"lr": loguniform(1e-4, 1e-1), "dropout": [0.1, 0.5], "opt": ["adam", "sgd"],
    ...            "epochs": 10})
    >>> s.names
    ['lr', 'dropout', 'opt', 'epochs']
    >>> s.unit_names                     # fixed values take no coordinate
    ['lr', 'dropout', 'opt']
    >>> s.from_unit([0.5, 0.5, 0.9])["opt"]
    'sgd'
    >>> Space.from_json(s.to_json()) == s
    True

Conditional parameters (see :mod:`sparkexp.space._conditional`) exist only under given values
of earlier ones; a point leaves absent parameters out:

    >>> c = Space({"model": ["tree", "svm"], "depth": {"values": [2, 8], "when": {"model": "tree"}}})
    >>> c.optional_names, c.from_unit([0.9, 0.5])
    (['depth'], {'model': 'svm'})
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from sparkexp.errors import SearchSpaceError
from sparkexp.space._conditional import Condition, holds, split_condition
from sparkexp.space._dists import Choice, Dist, Fixed
from sparkexp.space._parse import parse_dist

__all__ = ["Space"]


class Space:
    """Ordered hyperparameters, each a primitive distribution (see :mod:`sparkexp.space`).

    Args:
        dims: Hyperparameter names mapped to primitives, hpogrid dicts, lists or fixed values
            (parsing rules in :func:`sparkexp.space.parse_dist`), or another ``Space``.
    """

    def __init__(self, dims: Mapping[str, Any] | Space) -> None:
        if isinstance(dims, Space):
            self._dists: dict[str, Dist] = dict(dims._dists)
            self._when: dict[str, Condition] = dict(dims._when)
            return
        if not isinstance(dims, Mapping):
            raise SearchSpaceError(
                f"search space must be a dict of hyperparameter name -> values or distribution, "
                f"got {type(dims).__name__}"
            )
        if not dims:
            raise SearchSpaceError("search space is empty: give at least one hyperparameter")
        for k in dims:
            if not isinstance(k, str) or not k:
                raise SearchSpaceError(
                    f"hyperparameter names must be non-empty strings, got {k!r}"
                )
        self._dists = {}
        self._when = {}
        for k, v in dims.items():
            inner, cond = split_condition(k, v)
            self._dists[k] = parse_dist(k, inner)
            if cond is not None:
                self._when[k] = cond
        for k, cond in self._when.items():
            self._check_condition(k, cond)

    def _check_condition(self, name: str, cond: Condition) -> None:
        for parent, allowed in cond.items():
            names = list(self._dists)
            dist = self._dists.get(parent)
            if dist is None or names.index(parent) > names.index(name):
                where = "comes after it" if dist is not None else "is not in the space"
                raise SearchSpaceError(
                    f"'{name}' is conditional on '{parent}', which {where}; a condition names "
                    f"an earlier parameter (earlier: {names[:names.index(name)]})"
                )
            if not isinstance(dist, (Choice, Fixed)):
                raise SearchSpaceError(
                    f"'{name}' is conditional on '{parent}', which is {dist!r}; a condition "
                    "names a choice (or a fixed value)"
                )
            for value in allowed:
                try:
                    dist.check(parent, value)
                except SearchSpaceError as exc:
                    raise SearchSpaceError(f"'{name}': when {{'{parent}': {value!r}}} can never "
                                           f"hold: {exc}") from None

    # -- container ------------------------------------------------------------------------
    @property
    def names(self) -> list[str]:
        """All hyperparameter names, in order."""
        return list(self._dists)

    @property
    def unit_names(self) -> list[str]:
        """Names that take a coordinate of the unit hypercube (all but fixed values)."""
        return [n for n, dist in self._dists.items() if dist.searchable]

    @property
    def ndim(self) -> int:
        """Number of searchable dimensions (length of a unit-hypercube vector)."""
        return len(self.unit_names)

    @property
    def conditions(self) -> dict[str, Condition]:
        """Conditional names mapped to their condition (parent -> allowed values)."""
        return {n: dict(c) for n, c in self._when.items()}

    @property
    def optional_names(self) -> list[str]:
        """Names that exist only under a condition (absent from some points)."""
        return [n for n in self._dists if n in self._when]

    def active(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` without the parameters whose condition does not hold (in space order)."""
        out: dict[str, Any] = {}
        for n in self._dists:
            if n in params and (n not in self._when or holds(self._when[n], out)):
                out[n] = params[n]
        return out

    def __getitem__(self, name: str) -> Dist:
        return self._dists[name]

    def __contains__(self, name: object) -> bool:
        return name in self._dists

    def __iter__(self) -> Iterator[str]:
        return iter(self._dists)

    def __len__(self) -> int:
        return len(self._dists)

    def items(self) -> list[tuple[str, Dist]]:
        """``(name, primitive)`` pairs in order."""
        return list(self._dists.items())

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Space) and list(self._dists.items()) == list(other._dists.items())
                and self._when == other._when)

    def __hash__(self) -> int:  # pragma: no cover - spaces are not meant as dict keys
        return hash(tuple(self._dists))

    def __repr__(self) -> str:
        inner = ", ".join(f"{n!r}: {d!r}" + (f" when {self._when[n]!r}" if n in self._when else "")
                          for n, d in self._dists.items())
        return f"Space({{{inner}}})"

    # -- unit hypercube -----------------------------------------------------------------------
    def from_unit(self, u: Sequence[float] | np.ndarray) -> dict[str, Any]:
        """Hyperparameters for a point ``u`` of ``[0, 1] ** ndim`` (values, never indices)."""
        coords = [float(x) for x in np.asarray(u, dtype=float).ravel()]
        if len(coords) != self.ndim:
            raise ValueError(
                f"unit vector has {len(coords)} coordinates, the space has {self.ndim} "
                f"searchable dimensions {self.unit_names}"
            )
        it = iter(coords)
        return self.active({
            n: (dist.from_unit(next(it)) if dist.searchable else dist.from_unit(0.5))
            for n, dist in self._dists.items()
        })

    def to_unit(self, params: Mapping[str, Any]) -> np.ndarray:
        """A unit-hypercube vector that ``from_unit`` maps back to ``params``."""
        checked = self.check(params)
        return np.array(
            [self._dists[n].to_unit(checked[n]) if n in checked else 0.5 for n in self.unit_names],
            dtype=float,
        )

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One random point; each value follows its primitive's distribution.

        Example:
            >>> from sparkexp.space import uniform
            >>> s = Space({"x": uniform(0, 1)})
            >>> s.sample(np.random.default_rng(0)) == s.sample(np.random.default_rng(0))
            True
        """
        return self.from_unit(rng.random(self.ndim))

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` validated against the space (fixed values may be left out; a conditional
        parameter must be given exactly when its condition holds).

        Raises SearchSpaceError naming a missing, unknown, out-of-range or absent hyperparameter.
        """
        if not isinstance(params, Mapping):
            raise SearchSpaceError(f"a point must be a dict of hyperparameters, got {params!r}")
        unknown = [k for k in params if k not in self._dists]
        if unknown:
            raise SearchSpaceError(
                f"unknown hyperparameter(s) {unknown!r}; the space has {self.names}"
            )
        out: dict[str, Any] = {}
        for n, dist in self._dists.items():
            if n in self._when and not holds(self._when[n], out):
                if n in params:
                    raise SearchSpaceError(
                        f"point {dict(params)!r} gives '{n}', which exists only when "
                        + " and ".join(f"{p} in {list(v)!r}" for p, v in self._when[n].items())
                    )
                continue
            if n not in params:
                if isinstance(dist, Fixed):
                    out[n] = dist.value
                    continue
                raise SearchSpaceError(f"point {dict(params)!r} lacks hyperparameter '{n}'")
            out[n] = dist.check(n, params[n])
        return out

    def key(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        """A hashable identity of a point: equal keys mean the same hyperparameters."""
        return tuple(self._dists[n].key(params[n]) if n in params else None
                     for n in self.unit_names)

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The hpogrid form ``{name: {"method": ..., "dimension": {...}}}`` (JSON-compatible)."""
        out: dict[str, Any] = {}
        for n, dist in self._dists.items():
            out[n] = dist.to_json()
            if n in self._when:
                out[n]["when"] = {p: list(v) for p, v in self._when[n].items()}
        return out

    def to_json(self, **kwargs: Any) -> str:
        """:meth:`to_dict` as a JSON string; ``kwargs`` go to :func:`json.dumps`."""
        try:
            return json.dumps(self.to_dict(), **kwargs)
        except TypeError as exc:
            raise SearchSpaceError(
                f"search space cannot be written as JSON ({exc}); choices and fixed values "
                "must be JSON values (str, number, bool, None, list, dict)"
            ) from None

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> Space:
        """A space from a JSON string or dict, in the hpogrid form or the plain-dict rules."""
        if isinstance(data, (str, bytes)):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise SearchSpaceError(f"search space is not valid JSON: {exc}") from None
        return cls(data)  # type: ignore[arg-type]

    def to_hyperopt(self) -> dict[str, Any]:
        """The equivalent hyperopt space (``{name: hp.*}``; fixed values are kept as values).

        Conditions are not translated: every parameter gets a label (TPE leaves the labels of
        absent parameters empty itself).

        Example:
            >>> from hyperopt import pyll
            >>> from sparkexp.space import uniform
            >>> hs = Space({"x": uniform(0, 1)}).to_hyperopt()
            >>> 0 <= pyll.stochastic.sample(hs, np.random.default_rng(0))["x"] <= 1
            True
        """
        from sparkexp.space._hyperopt import to_hyperopt

        return to_hyperopt(self)
