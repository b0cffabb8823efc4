"""Search strategies: pure Python, no Spark, one ask/tell interface (see :mod:`._base`)."""

from __future__ import annotations

from sparkexp.search._base import Candidate, Search
from sparkexp.search._registry import from_settings
from sparkexp.search.bohb import BOHBSearch
from sparkexp.search.evolution import DifferentialEvolution
from sparkexp.search.fixed import FixedSearch
from sparkexp.search.grid import DEFAULT_MAX_GRID, GridSearch
from sparkexp.search.optuna_search import OptunaSearch
from sparkexp.search.pbt import PopulationBasedTraining
from sparkexp.search.random import RandomSearch
from sparkexp.search.tpe import TPESearch

__all__ = [
    "Candidate",
    "Search",
    "GridSearch",
    "FixedSearch",
    "DEFAULT_MAX_GRID",
    "RandomSearch",
    "DifferentialEvolution",
    "TPESearch",
    "BOHBSearch",
    "PopulationBasedTraining",
    "OptunaSearch",
    "from_settings",
]
