"""Conditional hyperparameters: a parameter that exists only when others take given values.

Write the condition with :func:`conditional` in Python, or with a ``when`` key in a dict / JSON /
YAML space (next to ``values`` or the hpogrid ``method`` / ``dimension``)::

    {"model": ["tree", "svm"],
     "depth": {"values": [2, 8], "when": {"model": "tree"}},
     "C": {"method": "loguniform", "dimension": {"low": 0.01, "high": 10},
           "when": {"model": "svm"}}}

``when`` maps earlier parameters (choices or fixed values) to the value, or list of values,
they must take; several entries must all hold. A parameter whose condition does not hold is
*absent*: the trial function is not given it, and records leave it out.

Example:
    >>> split_condition("depth", {"values": [2, 8], "when": {"model": "tree"}})
    ([2, 8], {'model': ('tree',)})
    >>> split_condition("C", conditional([0.1, 10.0], when={"model": ["svm", "lin"]}))
    ([0.1, 10.0], {'model': ('svm', 'lin')})
    >>> holds({"model": ("tree",)}, {"model": "tree"}), holds({"model": ("tree",)}, {})
    (True, False)
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sparkexp.errors import SearchSpaceError

__all__ = ["Conditional", "conditional", "split_condition", "holds", "Condition", "same_value"]

#: parent name -> the values it must take (any of them)
Condition = dict[str, tuple[Any, ...]]


@dataclass(frozen=True)
class Conditional:
    """A hyperparameter written as usual (``value``), present only when ``when`` holds."""

    value: Any
    when: Mapping[str, Any]


def conditional(value: Any, *, when: Mapping[str, Any]) -> Conditional:
    """``value`` (a range, list, primitive ...) for a parameter that exists only when ``when``
    holds: ``{"model": "tree"}`` or ``{"model": ["tree", "forest"]}``.

    Example:
        >>> from sparkexp.space import Space, uniformint
        >>> s = Space({"model": ["tree", "svm"],
        ...            "depth": conditional(uniformint(2, 8), when={"model": "tree"})})
        >>> s.active({"model": "svm", "depth": 3})
        {'model': 'svm'}
    """
    return Conditional(value, when)


def _values(name: str, parent: Any, allowed: Any) -> tuple[Any, ...]:
    if isinstance(allowed, (list, tuple)):
        if not allowed:
            raise SearchSpaceError(
                f"'{name}': when {{'{parent}': []}} can never hold; give the value(s) of "
                f"'{parent}' under which '{name}' exists"
            )
        return tuple(allowed)
    return (allowed,)


def split_condition(name: str, value: Any) -> tuple[Any, Condition | None]:
    """``(the parameter as written without its condition, the condition or None)``."""
    if isinstance(value, Conditional):
        inner, when = value.value, value.when
    elif isinstance(value, Mapping) and "when" in value:
        rest = {k: v for k, v in value.items() if k != "when"}
        when = value["when"]
        if set(rest) == {"values"}:
            inner = rest["values"]
        elif "method" in rest:
            inner = rest
        else:
            raise SearchSpaceError(
                f"'{name}' has 'when' but neither 'values' nor 'method': write "
                f"{{'values': [...], 'when': {{...}}}} or the hpogrid form with 'when'; "
                f"got keys {sorted(map(str, value))}"
            )
    else:
        return value, None
    if not isinstance(when, Mapping) or not when:
        raise SearchSpaceError(
            f"'{name}': when must be a non-empty dict of parameter -> value(s), got {when!r}"
        )
    cond = {str(parent): _values(name, parent, allowed) for parent, allowed in when.items()}
    if name in cond:
        raise SearchSpaceError(f"'{name}' cannot be conditional on itself")
    return inner, cond


def same_value(a: Any, b: Any) -> bool:
    """Equal values of the same kind (``True`` is not ``1``; ``1`` is ``1.0``)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, numbers.Real) and isinstance(b, numbers.Real):
        return a == b
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - exotic __eq__ means "not the same"
        return False


def holds(condition: Condition, params: Mapping[str, Any]) -> bool:
    """True when every parent in ``condition`` is present in ``params`` with an allowed value."""
    return all(
        parent in params and any(same_value(params[parent], v) for v in allowed)
        for parent, allowed in condition.items()
    )
