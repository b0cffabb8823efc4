"""The replay obligation of a :class:`~sparkexp.search.Search`, checked for any strategy.

Resume rebuilds a search from its recorded settings and replays ask/tell from the journal, so a
search must propose the same again from the same seed and the same results, whether it was
asked for several trials at once or one at a time (the runner asks for as many as slots are
free).

Example:
    >>> from sparkexp.search import RandomSearch
    >>> trace(RandomSearch({"x": [0.0, 1.0]}, samples=2, seed=0), lambda p: p["x"], 5)[0][0]
    0
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sparkexp.search import Search

__all__ = ["assert_replays", "trace"]

Proposals = list[tuple[int, dict[str, Any]]]


def trace(search: Search, loss: Callable[[dict[str, Any]], float], batch: int, *,
          single: bool = False) -> Proposals:
    """Run ``search`` to its end: ask ``batch`` trials (with ``single``, ``batch`` asks of one),
    then tell each its ``loss``; the (key, params) proposed, in order."""
    out: Proposals = []
    while not search.is_finished():
        got = [c for _ in range(batch) for c in search.ask(1)] if single else search.ask(batch)
        out += [(c.key, c.params) for c in got]
        for c in got:
            search.tell(c.key, loss(c.params))
    return out


def assert_replays(make: Callable[[int], Search], loss: Callable[[dict[str, Any]], float], *,
                   seed: int, batch: int) -> Proposals:
    """``make(seed)`` builds a fresh search. The same seed and results give the same proposals,
    asked ``batch`` at a time or one by one; ``seed + 1`` gives others. Returns the proposals."""
    first = trace(make(seed), loss, batch)
    assert first, "the search proposed nothing"
    assert trace(make(seed), loss, batch) == first, "same seed and results, other proposals"
    assert trace(make(seed), loss, batch, single=True) == first, "ask(n) differs from n ask(1)"
    assert trace(make(seed + 1), loss, batch) != first, f"seeds {seed} and {seed + 1} propose the same"
    return first
