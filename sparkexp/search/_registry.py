"""One registry of strategies: names, aliases, entry points, and rebuilding from a manifest.

Adding a strategy touches this table (and its own module): the Python API's entry point, the
CLI spec's ``strategy:`` names, the manifest's ``strategy`` and resume all read it. A strategy's
defaults live in its class's signature only; the hops-style entry points take them from there
(:func:`defaults`). The rungs ASHA, Hyperband and BOHB share default to
:data:`~sparkexp.search.stopping.DEFAULT_MIN_STEPS` and ``DEFAULT_REDUCTION_FACTOR``.

=================  =========================  ====================  ==========================
name (manifest)    also accepted              entry point           search class
=================  =========================  ====================  ==========================
``grid``                                      ``grid_search``       ``GridSearch``
``random``                                    ``random_search``     ``RandomSearch``
``evolutionary``   ``differential_evolution`` ``evolutionary_search`` ``DifferentialEvolution``
``tpe``            ``bayesian``, ``hyperopt`` ``bayesian_search``   ``TPESearch``
``optuna``                                    ``optuna_search``     ``OptunaSearch``
``asha``           ``tune``                   ``asha_search``       ``RandomSearch`` + ASHA
``hyperband``                                 ``hyperband_search``  ``RandomSearch`` + Hyperband
``bohb``           ``bohbhyperband``          ``bohb_search``       ``BOHBSearch``
``pbt``                                       ``pbt_search``        ``PopulationBasedTraining``
``fixed``          ``launch``, ``retry``      ``launch``            ``FixedSearch``
=================  =========================  ====================  ==========================

``asha`` is random search with the ASHA stopper, so its manifest records ``random`` (and the
stopper under ``early_stopping``); so is ``hyperband``. ``bohb`` and ``pbt`` are their own
stoppers. ``hyperopt``, ``tune`` and ``bohbhyperband`` are hpogrid's algorithm names;
hpogrid's others that sparkexp lacks (:data:`UNAVAILABLE`) get their own one-line error.

Example:
    >>> lookup("bayesian").name, lookup("differential_evolution").entry
    ('tpe', 'evolutionary_search')
    >>> from sparkexp.search import GridSearch
    >>> g = GridSearch({"a": [1, 2]})
    >>> from_settings(g.name, g.settings()).total
    2
    >>> defaults(GridSearch)["max_grid"] > 0
    True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.search._base import Search

__all__ = ["Strategy", "STRATEGIES", "UNAVAILABLE", "lookup", "from_settings", "defaults", "spec_names"]


@dataclass(frozen=True)
class Strategy:
    """One row of the registry.

    Attributes:
        name: The canonical name, also the search's ``name`` recorded in the manifest.
        aliases: Other names accepted wherever a strategy is named (spec, :func:`lookup`).
        entry: The :mod:`sparkexp.experiment` function that runs it.
        search: ``module:class`` of the search (imported on use: the registry is imported early).
        records_as: The manifest's ``strategy`` when it differs from ``name`` (``asha``).
        in_spec: Whether a CLI spec may name it.
    """

    name: str
    entry: str
    search: str
    aliases: tuple[str, ...] = ()
    records_as: str | None = None
    in_spec: bool = True

    @property
    def names(self) -> tuple[str, ...]:
        """The name and its aliases."""
        return (self.name, *self.aliases)

    def search_class(self) -> Callable[..., Search]:
        """The :class:`~sparkexp.search.Search` subclass."""
        import importlib

        module, _, cls = self.search.partition(":")
        found: Callable[..., Search] = getattr(importlib.import_module(module), cls)
        return found


STRATEGIES: tuple[Strategy, ...] = (
    Strategy("grid", "grid_search", "sparkexp.search.grid:GridSearch"),
    Strategy("random", "random_search", "sparkexp.search.random:RandomSearch"),
    Strategy("evolutionary", "evolutionary_search", "sparkexp.search.evolution:DifferentialEvolution",
             aliases=("differential_evolution",)),
    Strategy("tpe", "bayesian_search", "sparkexp.search.tpe:TPESearch", aliases=("bayesian", "hyperopt")),
    Strategy("optuna", "optuna_search", "sparkexp.search.optuna_search:OptunaSearch"),
    Strategy("asha", "asha_search", "sparkexp.search.random:RandomSearch", aliases=("tune",),
             records_as="random"),
    Strategy("hyperband", "hyperband_search", "sparkexp.search.random:RandomSearch", records_as="random"),
    Strategy("bohb", "bohb_search", "sparkexp.search.bohb:BOHBSearch", aliases=("bohbhyperband",)),
    Strategy("pbt", "pbt_search", "sparkexp.search.pbt:PopulationBasedTraining"),
    Strategy("fixed", "launch", "sparkexp.search.fixed:FixedSearch", aliases=("launch", "retry"),
             in_spec=False),
)


#: hpogrid algorithm names sparkexp has no strategy for -> what they are (None: not yet)
UNAVAILABLE: Mapping[str, str | None] = {
    "skopt": "scikit-optimize", "ax": "Ax", "nevergrad": "Nevergrad"}


def spec_names() -> list[str]:
    """Every name a CLI spec accepts, canonical names first."""
    rows = [s for s in STRATEGIES if s.in_spec]
    return [s.name for s in rows] + [a for s in rows for a in s.aliases]


def lookup(name: Any) -> Strategy:
    """The strategy called ``name`` (or one of its aliases).

    Raises:
        ConfigError: no such strategy; the message lists the accepted names.
    """
    for strategy in STRATEGIES:
        if name in strategy.names:
            return strategy
    accepted = ", ".join(spec_names())
    if isinstance(name, str) and name in UNAVAILABLE:
        what = UNAVAILABLE[name]
        if what is None:
            raise ConfigError(f"strategy {name!r} is not available yet; accepted: {accepted}")
        raise ConfigError(f"strategy {name!r} ({what}) is not available in sparkexp; "
                          f"accepted: {accepted}")
    raise ConfigError(f"unknown strategy {name!r}; accepted: {accepted}")


def defaults(cls: Callable[..., Any]) -> Mapping[str, Any]:
    """The keyword defaults of a search class (or any callable): its one place for them."""
    return {p.name: p.default for p in inspect.signature(cls).parameters.values()
            if p.default is not inspect.Parameter.empty}


def _listish(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def from_settings(strategy: str, settings: dict[str, Any]) -> Search:
    """A fresh search equal to the one that recorded ``settings`` (same seed, same proposals).

    The settings are the search's own :meth:`~sparkexp.search.Search.settings`; each is passed
    back under the keyword of the same name, so a new setting needs no change here.

    Raises:
        ConfigError: an unknown strategy, or settings that do not rebuild it.
    """
    try:
        row = lookup(strategy)
    except ConfigError:
        raise ConfigError(f"cannot resume a '{strategy}' search: sparkexp rebuilds "
                          f"{', '.join(s.name for s in STRATEGIES)} searches") from None
    cls = row.search_class()
    s = dict(settings)
    try:
        if row.name == "grid":
            from sparkexp.search.grid import DEFAULT_MAX_GRID

            return cls(s["grid"], max_grid=max(DEFAULT_MAX_GRID, int(s.get("size", 0))))
        if row.name == "fixed":
            return cls(s["points"], name=strategy)
        own = getattr(cls, "from_settings", None)
        if own is not None:  # a search whose settings need more than keywords (OptunaSearch)
            rebuilt: Search = own(s)
            return rebuilt
        accepted = inspect.signature(cls).parameters
        kwargs = {k: _listish(v) for k, v in s.items() if k in accepted and k != "space"}
        if "warm_start" in kwargs:
            kwargs["warm_start"] = s.get("warm_start") or None
        return cls(s["space"], **kwargs)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"cannot rebuild the '{strategy}' search from its recorded settings: "
                          f"missing or bad {exc}") from exc
