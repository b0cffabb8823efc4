"""From what users write (plain values, lists, hpogrid JSON, primitives) to a primitive.

Rules for one hyperparameter value, in order:

* a primitive (``uniform(0, 1)`` ...) is taken as is;
* a dict is the hpogrid form ``{"method": "loguniform", "dimension": {"low": .., "high": ..}}``;
* a grid helper's list (``linear(...)``, ``multiple(...)``) is a choice among its values;
* a list or tuple of exactly two numbers is a range: ``uniformint`` when both are ints, else
  ``uniform`` (so hops' ``[0.45, 0.7]`` is a range); a bound written high-first
  (``[0.001, 0.0001]``) is the same range;
* any other list, tuple or ``range`` is a choice among its values (``["adam", "sgd"]``);
* anything else (number, string, bool, None) is a fixed value.

Example:
    >>> parse_dist("lr", [0.001, 0.1])
    Uniform(low=0.001, high=0.1)
    >>> parse_dist("layers", [2, 8])
    UniformInt(low=2, high=8)
    >>> parse_dist("lr", [0.001, 0.0001])
    Uniform(low=0.0001, high=0.001)
    >>> parse_dist("opt", ["adam", "sgd", "rmsprop"]).options
    ('adam', 'sgd', 'rmsprop')
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from sparkexp.errors import SearchSpaceError
from sparkexp.space import _dists as d
from sparkexp.space._grid import GridValues

__all__ = ["parse_dist", "METHODS"]

#: hpogrid method name -> primitive class; ``choice`` is accepted as a synonym of categorical.
METHODS: Mapping[str, type[d.Dist]] = {
    "categorical": d.Choice,
    "choice": d.Choice,
    "uniform": d.Uniform,
    "uniformint": d.UniformInt,
    "quniform": d.QUniform,
    "loguniform": d.LogUniform,
    "qloguniform": d.QLogUniform,
    "normal": d.Normal,
    "qnormal": d.QNormal,
    "lognormal": d.LogNormal,
    "qlognormal": d.QLogNormal,
    "fixed": d.Fixed,
}

# hpogrid names the options of a categorical "categories"; our dataclass calls them "options".
_RENAMES = {"categories": "options"}
# hpogrid's categorical carries a grid_search flag for its Ray Tune backend; it changes nothing here.
_IGNORED = {"grid_search"}


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def parse_dist(name: str, value: Any) -> d.Dist:
    """The primitive for hyperparameter ``name`` written as ``value`` (rules above)."""
    if isinstance(value, d.Dist):
        return value
    if isinstance(value, Mapping):
        return _parse_hpogrid(name, value)
    if isinstance(value, GridValues):
        return d.Choice(tuple(value))
    if isinstance(value, (list, tuple, range)) or _is_1d_array(value):
        values = [_plain(v) for v in value]
        if not values:
            raise SearchSpaceError(
                f"'{name}' is an empty list: give [low, high] for a range or the values to choose from"
            )
        if len(values) == 2 and all(_is_number(v) for v in values) and not isinstance(value, range):
            low, high = sorted(values)  # hops writes bounds high-first too: the same range
            if low == high:
                raise SearchSpaceError(
                    f"'{name}' = {list(values)!r} reads as a range [low, high] but both bounds "
                    f"are equal; write a range with two different bounds, {values[0]!r} alone for "
                    f"a fixed value, or choice({list(values)!r})"
                )
            if all(isinstance(v, int) for v in values):
                return d.UniformInt(low, high)
            return d.Uniform(low, high)
        return d.Choice(tuple(values))
    if callable(value) and not isinstance(value, type):
        raise SearchSpaceError(
            f"'{name}' = {value!r} is a function; did you mean to call it "
            "(uniform(0, 1), not uniform)?"
        )
    return d.Fixed(_plain(value))


def _plain(v: Any) -> Any:
    return d._plain(v)


def _is_1d_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 1


def _parse_hpogrid(name: str, spec: Mapping[str, Any]) -> d.Dist:
    if "method" not in spec:
        raise SearchSpaceError(
            f"'{name}' is a dict without 'method': write the hpogrid form "
            "{'method': 'uniform', 'dimension': {'low': 0, 'high': 1}}, or fixed({...}) "
            "for a literal dict value"
        )
    unknown = set(spec) - {"method", "dimension"}
    if unknown:
        raise SearchSpaceError(
            f"'{name}': unknown key(s) {sorted(unknown)!r} in {dict(spec)!r}; "
            "the hpogrid form has only 'method' and 'dimension'"
        )
    method = spec["method"]
    cls = METHODS.get(method) if isinstance(method, str) else None
    if cls is None:
        raise SearchSpaceError(
            f"'{name}': unknown method {method!r}; accepted: {', '.join(METHODS)}"
        )
    dim = spec.get("dimension", {})
    if not isinstance(dim, Mapping):
        raise SearchSpaceError(
            f"'{name}': dimension must be a dict of arguments, got {dim!r}"
        )
    kwargs: dict[str, Any] = {
        _RENAMES.get(str(k), str(k)): v for k, v in dim.items() if k not in _IGNORED
    }
    accepted = _arguments(cls)
    bad = set(kwargs) - set(accepted)
    if bad:
        shown = ["categories" if a == "options" else a for a in accepted]
        raise SearchSpaceError(
            f"'{name}': {method} does not take {sorted(_shown(bad))!r}; it takes {shown!r}"
        )
    required = [a for a, p in accepted.items() if p.default is inspect.Parameter.empty]
    missing = [a for a in required if a not in kwargs]
    if missing:
        raise SearchSpaceError(
            f"'{name}': {method} needs {sorted(_shown(set(missing)))!r} in its dimension, "
            f"got {dict(dim)!r}"
        )
    if cls is d.Choice and kwargs.get("weights") is not None:
        kwargs["weights"] = tuple(kwargs["weights"])
    try:
        return cls(**kwargs)
    except SearchSpaceError as exc:
        raise SearchSpaceError(f"'{name}': {exc}") from None


def _shown(keys: set[str]) -> list[str]:
    return ["categories" if k == "options" else k for k in keys]


def _arguments(cls: Callable[..., Any]) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(cls).parameters)
