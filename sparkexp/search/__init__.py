"""Search strategies: pure Python, no Spark, one ask/tell interface (see :mod:`._base`)."""

from __future__ import annotations

from sparkexp.search._base import Candidate, Search
from sparkexp.search.fixed import FixedSearch
from sparkexp.search.grid import DEFAULT_MAX_GRID, GridSearch

__all__ = ["Candidate", "Search", "GridSearch", "FixedSearch", "DEFAULT_MAX_GRID"]
