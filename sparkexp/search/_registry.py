"""Rebuild a search from the settings its manifest recorded (for resume and retry).

Example:
    >>> from sparkexp.search import GridSearch
    >>> g = GridSearch({"a": [1, 2]})
    >>> from_settings(g.name, g.settings()).total
    2
"""

from __future__ import annotations

from typing import Any

from sparkexp.errors import ConfigError
from sparkexp.search._base import Search

__all__ = ["from_settings"]


def from_settings(strategy: str, settings: dict[str, Any]) -> Search:
    """A fresh search equal to the one that recorded ``settings`` (same seed, same proposals).

    Raises:
        ConfigError: an unknown strategy, or settings that do not rebuild it.
    """
    from sparkexp.search.bohb import BOHBSearch
    from sparkexp.search.evolution import DifferentialEvolution
    from sparkexp.search.fixed import FixedSearch
    from sparkexp.search.grid import DEFAULT_MAX_GRID, GridSearch
    from sparkexp.search.pbt import PopulationBasedTraining
    from sparkexp.search.random import RandomSearch
    from sparkexp.search.tpe import TPESearch

    s = dict(settings)
    try:
        if strategy == "grid":
            return GridSearch(s["grid"], max_grid=max(DEFAULT_MAX_GRID, int(s.get("size", 0))))
        if strategy == "random":
            return RandomSearch(s["space"], samples=s["samples"], seed=s["seed"],
                                warm_start=s.get("warm_start") or None)
        if strategy == "evolutionary":
            mutation = s["mutation"]
            return DifferentialEvolution(
                s["space"], generations=s["generations"], population=s["population"],
                mutation=tuple(mutation) if isinstance(mutation, list) else mutation,
                crossover=s["crossover"], strategy=s["strategy"], init=s["init"], mode=s["mode"],
                seed=s["seed"], warm_start=s.get("warm_start") or None)
        if strategy == "tpe":
            return TPESearch(s["space"], trials=s["trials"], n_startup=s["n_startup"], seed=s["seed"],
                             warm_start=s.get("warm_start") or None, gamma=s["gamma"],
                             n_ei_candidates=s["n_ei_candidates"], prior_weight=s["prior_weight"])
        if strategy == "bohb":
            return BOHBSearch(s.pop("space"), **{k: v for k, v in s.items() if k != "name"})
        if strategy == "pbt":
            return PopulationBasedTraining(s.pop("space"), **{k: v for k, v in s.items() if k != "name"})
        if strategy in ("fixed", "launch", "retry"):
            return FixedSearch(s["points"], name=strategy)
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"cannot rebuild the '{strategy}' search from its recorded settings: "
                          f"missing or bad {exc}") from exc
    raise ConfigError(f"cannot resume a '{strategy}' search: sparkexp rebuilds grid, random, "
                      "evolutionary, tpe, bohb, pbt and fixed searches")
