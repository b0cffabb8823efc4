"""Bayesian search with hyperopt's Tree-structured Parzen Estimator (TPE), ask/tell style.

This does not reimplement TPE: each ``ask`` calls ``hyperopt.tpe.suggest`` on a hyperopt
``Trials`` object that this class fills itself, the way ``fmin`` and ``SparkTrials`` do.

* The first ``n_startup`` candidates are random (hyperopt's ``rand.suggest``, inside
  ``tpe.suggest``); warm-start points count among them.
* Candidates asked but not told yet sit in ``Trials`` as ``JOB_STATE_NEW`` documents, exactly
  like hyperopt's own parallel back ends. ``tpe.suggest`` treats them as observations with an
  infinite loss, so concurrent proposals are pushed away from points already being evaluated
  (and they count towards ``n_startup``).
* Failed trials (loss ``None``) are stored as ``status: fail`` and also count as infinite loss;
  a stopped trial counts with its last reported loss.
* Trial ``k`` is suggested with a seed derived from ``SeedSequence([seed, k])``, so proposals
  depend only on the seed and the ask/tell history (what resume replays).

Choices come back as values, not indices; quantised values are snapped into their bounds with
the same rule random search uses (see :mod:`sparkexp.space._hyperopt`). A hyperopt space as
written (``hp.*`` with nested ``hp.choice``) is used as it is: a trial's hyperparameters are
``hyperopt.space_eval`` of the proposal, and TPE models the labels hyperopt's own way.

Example:
    >>> s = TPESearch({"x": [-3.0, 3.0]}, trials=30, n_startup=10, seed=0)
    >>> while not s.is_finished():
    ...     for c in s.ask(2):
    ...         s.tell(c.key, (c.params["x"] - 1) ** 2)
    >>> s.best_loss < 0.05
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from sparkexp.errors import ConfigError, SearchSpaceError
from sparkexp.search._base import Candidate, Search, TracksBest
from sparkexp.search._util import as_any_space, as_loss, positive_int, resolve_seed, warm_points
from sparkexp.space import Choice, Space
from sparkexp.space._hyperopt import from_hyperopt_vals, to_hyperopt, to_hyperopt_vals
from sparkexp.space._hyperopt_space import HyperoptSpace

__all__ = ["TPESearch"]


def _no_fn(_: Any) -> None:  # pragma: no cover - the runner evaluates trials, never hyperopt
    raise RuntimeError("TPESearch's hyperopt Domain is never evaluated directly")


class _SpaceView:
    """A sparkexp :class:`Space` seen by hyperopt: one label per searchable name, choices over
    option indices, proposals snapped into bounds; labels of inactive conditional parameters
    are left empty, as hyperopt leaves the labels of branches not taken."""

    def __init__(self, space: Space) -> None:
        self.space = space
        nodes = to_hyperopt(space, choice_indices=True)
        self.expr = {n: nodes[n] for n in space.unit_names}

    def params(self, vals: Mapping[str, Any]) -> dict[str, Any]:
        return self.space.active(from_hyperopt_vals(self.space, vals))

    def record(self, vals: dict[str, list[Any]], params: Mapping[str, Any]) -> None:
        """Make hyperopt's ``vals`` say what was evaluated (snapped values, inactive empty)."""
        for name in list(vals):
            if name not in params:
                vals[name] = []
            elif not isinstance(self.space[name], Choice):
                vals[name] = [params[name]]

    def vals(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return to_hyperopt_vals(self.space, params)


class _ExprView:
    """A hyperopt space as written: hyperopt's own labels, ``space_eval`` for parameters."""

    def __init__(self, space: HyperoptSpace) -> None:
        self.space = space
        self.expr = space.expr

    def params(self, vals: Mapping[str, Any]) -> dict[str, Any]:
        return self.space.evaluate(vals)

    def record(self, vals: dict[str, list[Any]], params: Mapping[str, Any]) -> None:
        return None


class TPESearch(TracksBest, Search):
    """Hyperopt TPE driven through ask/tell (see the module docstring).

    Args:
        space: A :class:`~sparkexp.space.Space` or a dict (ranges, choices, primitives), or a
            hyperopt space as written (``hp.*``, nested ``hp.choice``, ``scope.int``).
        trials: Number of trials in all, warm-start points included.
        n_startup: Random trials before TPE starts modelling (hyperopt's ``n_startup_jobs``).
        seed: Seed; None draws one from the OS (recorded in :meth:`settings`).
        warm_start: Points evaluated first (trial keys ``0..len-1``).
        gamma: Fraction of observations TPE treats as "good" (hyperopt default 0.25).
        n_ei_candidates: Candidates drawn from the "good" model per proposal (default 24).
        prior_weight: Weight of the prior in the Parzen estimators (default 1.0).
    """

    name = "tpe"

    def __init__(
        self,
        space: Space | HyperoptSpace | Mapping[str, Any],
        *,
        trials: int = 50,
        n_startup: int = 20,
        seed: int | None = None,
        warm_start: Sequence[Mapping[str, Any]] | None = None,
        gamma: float = 0.25,
        n_ei_candidates: int = 24,
        prior_weight: float = 1.0,
    ) -> None:
        from hyperopt import Domain, Trials

        self.space = as_any_space(space)
        if isinstance(self.space, Space) and self.space.ndim == 0:
            raise SearchSpaceError(
                f"nothing to search: every hyperparameter of {self.space.names} is fixed"
            )
        if isinstance(self.space, HyperoptSpace) and warm_start:
            raise ConfigError(
                "TPESearch: warm_start is not supported with a hyperopt space (hyperopt cannot "
                "map a point back to its labels); write the space with sparkexp.space instead"
            )
        self.trials = positive_int("TPESearch", "trials", trials)
        self.n_startup = positive_int("TPESearch", "n_startup", n_startup, minimum=0)
        self.n_ei_candidates = positive_int("TPESearch", "n_ei_candidates", n_ei_candidates)
        if not 0 < float(gamma) < 1:
            raise ConfigError(f"TPESearch: gamma must be in (0, 1), got {gamma!r}")
        if not float(prior_weight) > 0:
            raise ConfigError(f"TPESearch: prior_weight must be > 0, got {prior_weight!r}")
        self.gamma = float(gamma)
        self.prior_weight = float(prior_weight)
        self.seed = resolve_seed(seed)
        self._warm = warm_points(self.space, warm_start)
        if len(self._warm) > self.trials:
            raise ConfigError(
                f"TPESearch: {len(self._warm)} warm_start points exceed trials={self.trials}"
            )
        self._view = (_ExprView(self.space) if isinstance(self.space, HyperoptSpace)
                      else _SpaceView(self.space))
        self._domain = Domain(_no_fn, self._view.expr)
        self._trials = Trials()
        self._docs: dict[int, dict[str, Any]] = {}
        self._next = 0

    @property
    def total(self) -> int:
        return self.trials

    def _key_seed(self, key: int) -> int:
        import numpy as np

        return int(np.random.SeedSequence([self.seed, key]).generate_state(1)[0])

    def _suggest(self, key: int) -> dict[str, Any]:
        from hyperopt import tpe

        if key < len(self._warm):
            return self._warm_doc(key)
        docs = tpe.suggest(
            [key],
            self._domain,
            self._trials,
            self._key_seed(key),
            prior_weight=self.prior_weight,
            n_startup_jobs=self.n_startup,
            n_EI_candidates=self.n_ei_candidates,
            gamma=self.gamma,
            verbose=False,
        )
        return docs[0]

    def _warm_doc(self, key: int) -> dict[str, Any]:
        assert isinstance(self._view, _SpaceView)  # hyperopt spaces refuse warm starts
        vals = self._view.vals(self._warm[key])
        misc = {
            "tid": key,
            "cmd": self._domain.cmd,
            "workdir": self._domain.workdir,
            "idxs": {n: ([] if v == [] else [key]) for n, v in vals.items()},
            "vals": {n: (v if v == [] else [v]) for n, v in vals.items()},
        }
        doc: dict[str, Any] = self._trials.new_trial_docs(
            [key], [None], [self._domain.new_result()], [misc]
        )[0]
        return doc

    def ask(self, n: int) -> list[Candidate]:
        out: list[Candidate] = []
        while len(out) < n and self._next < self.trials:
            key = self._next
            doc = self._suggest(key)
            self._trials.insert_trial_docs([doc])
            self._trials.refresh()
            self._docs[key] = self._trials._dynamic_trials[-1]
            params = self._view.params(doc["misc"]["vals"])
            # TPE should model the value actually evaluated (q* values snapped into bounds,
            # no value for a conditional parameter that was not active).
            misc = self._docs[key]["misc"]
            self._view.record(misc["vals"], params)
            for name, vals in misc["vals"].items():
                misc["idxs"][name] = [key] if vals else []
            out.append(Candidate(key, params))
            self._next += 1
        return out

    def tell(self, key: int, loss: float | None, status: str = "complete") -> None:
        from hyperopt import JOB_STATE_DONE, STATUS_FAIL, STATUS_OK

        doc = self._docs.get(key)
        if doc is None or doc["state"] == JOB_STATE_DONE:
            raise ValueError(f"TPESearch.tell: key {key!r} is not an asked, untold candidate")
        value = as_loss(loss)
        if math.isinf(value):
            doc["result"] = {"status": STATUS_FAIL}
        else:
            doc["result"] = {"status": STATUS_OK, "loss": value}
            self._offer_best(value, lambda: self._view.params(doc["misc"]["vals"]))
        doc["state"] = JOB_STATE_DONE
        self._trials.refresh()

    def is_finished(self) -> bool:
        return self._next >= self.trials

    def settings(self) -> dict[str, Any]:
        return {
            "space": self.space.to_dict(),
            "trials": self.trials,
            "n_startup": self.n_startup,
            "seed": self.seed,
            "warm_start": [dict(p) for p in self._warm],
            "gamma": self.gamma,
            "n_ei_candidates": self.n_ei_candidates,
            "prior_weight": self.prior_weight,
        }
