"""Hyperopt spaces as users write them: nested ``hp.choice``, ``hp.*`` and ``scope.*`` expressions.

A :class:`HyperoptSpace` wraps the expression unchanged. A trial's hyperparameters are what
``hyperopt.space_eval`` (equivalently ``pyll.stochastic.sample``) gives for it, so nested dicts
reach the training function as dicts. The expression must give a dict of keyword arguments: a
dict, or an ``hp.choice`` among dicts (then the names differ between branches).

The expression is recorded as JSON (a list of graph nodes in dependency order, shared nodes
once), so resume rebuilds the very same space; literals in it must be JSON values.

Example:
    >>> from hyperopt import hp
    >>> from hyperopt.pyll import scope
    >>> s = HyperoptSpace({
    ...     "opt": hp.choice("opt", [{"name": "adam", "lr": hp.loguniform("adam_lr", -9, -2)},
    ...                              {"name": "sgd", "lr": hp.uniform("sgd_lr", 0.01, 0.5)}]),
    ...     "layers": scope.int(hp.quniform("layers", 1, 4, 1))})
    >>> s.names, s.optional_names
    (['layers', 'opt'], [])
    >>> p = s.sample(np.random.default_rng(0))
    >>> sorted(p), sorted(p["opt"]), isinstance(p["layers"], int)
    (['layers', 'opt'], ['lr', 'name'], True)
    >>> HyperoptSpace.from_dict(s.to_dict()) == s
    True
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from sparkexp.errors import SearchSpaceError

__all__ = ["HyperoptSpace", "is_hyperopt_space", "HYPEROPT_KEY"]

#: The key of a recorded hyperopt space (not a valid argument name, so never a parameter's).
HYPEROPT_KEY = "$hyperopt"


def is_hyperopt_space(space: Any) -> bool:
    """True when ``space`` is a hyperopt expression or a dict / list holding one anywhere.

    >>> from hyperopt import hp
    >>> is_hyperopt_space({"x": hp.uniform("x", 0, 1)}), is_hyperopt_space({"x": [0, 1]})
    (True, False)
    """
    if isinstance(space, HyperoptSpace):
        return True
    if isinstance(space, Mapping) and set(space) == {HYPEROPT_KEY}:
        return True
    try:
        from hyperopt.pyll import Apply
    except ImportError:  # pragma: no cover - hyperopt is a dependency
        return False
    return _holds(space, Apply)


def _holds(value: Any, apply_type: type) -> bool:
    if isinstance(value, apply_type):
        return True
    if isinstance(value, Mapping):
        return any(_holds(v, apply_type) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds(v, apply_type) for v in value)
    return False


def _plain(value: Any) -> Any:
    """numpy scalars become Python scalars, recursively, so parameters record as JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class HyperoptSpace:
    """A hyperopt search space (``{name: hp.*}`` with nested ``hp.choice``) as written.

    Args:
        space: The hyperopt expression (a dict of ``hp.*`` nodes, or an ``hp.choice`` among
            dicts), or another ``HyperoptSpace``.

    Raises:
        SearchSpaceError: the expression does not give a dict of keyword arguments, or holds a
            literal that is not a JSON value (the space could not be recorded for resume).
    """

    def __init__(self, space: Any) -> None:
        from hyperopt import pyll

        if isinstance(space, HyperoptSpace):
            space = space.expr  # type: ignore[has-type]
        self.expr: Any = pyll.as_apply(space)
        self._graph = _to_graph(self.expr)
        names = _names(self.expr)
        if names is None:
            raise SearchSpaceError(
                f"a hyperopt space must give a dict of keyword arguments (a dict of hp.* "
                f"expressions, or hp.choice among dicts), got an expression of "
                f"'{self.expr.name}'"
            )
        self._always, self._optional = names
        if not self._always and not self._optional:
            raise SearchSpaceError("hyperopt space is empty: give at least one hyperparameter")
        from hyperopt import Domain

        try:
            self.labels = sorted(Domain(_no_fn, self.expr).params)
        except Exception as exc:  # noqa: BLE001 - hyperopt raises plain exceptions
            raise SearchSpaceError(f"invalid hyperopt space: {exc}") from None

    @property
    def names(self) -> list[str]:
        """Every top-level argument name the space may give."""
        return [*self._always, *self._optional]

    @property
    def optional_names(self) -> list[str]:
        """Names given only in some branches of a top-level ``hp.choice``."""
        return list(self._optional)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HyperoptSpace) and self._graph == other._graph

    def __hash__(self) -> int:  # pragma: no cover - spaces are not meant as dict keys
        return hash(json.dumps(self._graph))

    def __repr__(self) -> str:
        return f"HyperoptSpace(names={self.names}, labels={self.labels})"

    def sample(self, rng: np.random.Generator) -> dict[str, Any]:
        """One random point, as ``pyll.stochastic.sample`` draws it."""
        from hyperopt import pyll

        return dict(_plain(pyll.stochastic.sample(self.expr, rng)))

    def evaluate(self, vals: Mapping[str, Any]) -> dict[str, Any]:
        """The hyperparameters for hyperopt's per-label ``vals`` (``space_eval``)."""
        from hyperopt import space_eval

        flat = {k: (v[0] if isinstance(v, (list, tuple)) else v) for k, v in vals.items()
                if not isinstance(v, (list, tuple)) or v}
        return dict(_plain(space_eval(self.expr, flat)))

    def check(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` as a dict if it names only arguments the space gives (values unchecked)."""
        if not isinstance(params, Mapping):
            raise SearchSpaceError(f"a point must be a dict of hyperparameters, got {params!r}")
        unknown = [k for k in params if k not in self.names]
        if unknown:
            raise SearchSpaceError(
                f"unknown hyperparameter(s) {unknown!r}; the hyperopt space gives {self.names}"
            )
        missing = [k for k in self._always if k not in params]
        if missing:
            raise SearchSpaceError(f"point {dict(params)!r} lacks hyperparameter(s) {missing}")
        return dict(params)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible record of the expression: ``{"$hyperopt": [node, ...]}``."""
        return {HYPEROPT_KEY: self._graph}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HyperoptSpace:
        """The space :meth:`to_dict` recorded."""
        try:
            return cls(_from_graph(data[HYPEROPT_KEY]))
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise SearchSpaceError(f"cannot read a recorded hyperopt space: {exc}") from None


def _no_fn(_: Any) -> None:  # pragma: no cover - hyperopt never evaluates it here
    raise RuntimeError("never called")


def _names(node: Any) -> tuple[list[str], list[str]] | None:
    """(names in every point, names only in some) of what ``node`` evaluates to."""
    if node.name == "dict":
        return [str(k) for k, _ in node.named_args], []
    if node.name == "literal" and isinstance(node.obj, Mapping):
        return [str(k) for k in node.obj], []
    if node.name == "switch":
        branches = [_names(option) for option in node.pos_args[1:]]
        if not branches or any(b is None for b in branches):
            return None
        seen: dict[str, int] = {}
        for always, optional in branches:  # type: ignore[misc]
            for n in always:
                seen[n] = seen.get(n, 0) + 1
            for n in optional:
                seen[n] = seen.get(n, 0)
        common = [n for n, k in seen.items() if k == len(branches)]
        return common, [n for n in seen if n not in common]
    return None


def _to_graph(expr: Any) -> list[dict[str, Any]]:
    """Nodes in dependency order; an argument is the position of an earlier node."""
    from hyperopt import pyll

    order = pyll.dfs(expr)
    position = {id(node): i for i, node in enumerate(order)}
    graph: list[dict[str, Any]] = []
    for node in order:
        if node.name == "literal":
            value = node.obj
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise SearchSpaceError(
                    f"hyperopt space holds {value!r} ({type(value).__name__}), which cannot be "
                    "recorded as JSON; use JSON values (str, number, bool, None, list, dict) "
                    "and build objects from them in the training function"
                ) from None
            graph.append({"literal": value})
            continue
        entry: dict[str, Any] = {
            "apply": node.name,
            "args": [position[id(a)] for a in node.pos_args],
            "kwargs": [[k, position[id(a)]] for k, a in node.named_args],
        }
        if node.o_len is not None:
            entry["o_len"] = node.o_len
        if node.pure:
            entry["pure"] = True
        graph.append(entry)
    return graph


def _from_graph(graph: list[dict[str, Any]]) -> Any:
    from hyperopt.pyll import Apply, Literal

    nodes: list[Any] = []
    for entry in graph:
        if "literal" in entry:
            nodes.append(Literal(entry["literal"]))
            continue
        nodes.append(Apply(
            str(entry["apply"]),
            [nodes[int(i)] for i in entry["args"]],
            [(str(k), nodes[int(i)]) for k, i in entry["kwargs"]],
            o_len=entry.get("o_len"),
            pure=bool(entry.get("pure", False)),
        ))
    if not nodes:
        raise ValueError("empty graph")
    return nodes[-1]
