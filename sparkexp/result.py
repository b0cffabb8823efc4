"""What an experiment gives back: its trials, the best one, and tabular views.

Example:
    >>> from sparkexp.trial import Trial
    >>> trials = [Trial("trial_00000", 0, {"lr": 0.1}, status="complete", metric=0.8),
    ...           Trial("trial_00001", 1, {"lr": 0.2}, status="complete", metric=0.9)]
    >>> res = Result(path="/tmp/x", trials=trials, direction="max", metric="metric")
    >>> res.best_params
    {'lr': 0.2}
    >>> res.to_arrow().num_rows
    2

With several objectives (recorded in the manifest) there is no single best trial; the
Pareto front holds the trials no other beats on every objective:

    >>> two = Result("/tmp/y", [Trial("trial_00000", 0, {}, "complete", 0.9, {"acc": 0.9, "ms": 30}),
    ...                         Trial("trial_00001", 1, {}, "complete", 0.8, {"acc": 0.8, "ms": 10}),
    ...                         Trial("trial_00002", 2, {}, "complete", 0.7, {"acc": 0.7, "ms": 20})],
    ...              manifest={"objectives": [{"metric": "acc", "direction": "max"},
    ...                                       {"metric": "ms", "direction": "min"}]})
    >>> [t.index for t in two.pareto_front], two.best
    ([0, 1], None)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sparkexp.objectives import Objectives, pareto_front
from sparkexp.status import FAILED, best_trial, completed
from sparkexp.trial import Trial

if TYPE_CHECKING:
    import pandas
    import pyarrow

__all__ = ["Result", "trials_to_arrow", "load"]


@dataclass
class Result:
    """The outcome of an experiment.

    Attributes:
        path: The experiment directory under the project root.
        trials: Every trial, in index order.
        direction: ``"max"`` or ``"min"``.
        metric: Name of the optimised output.
        manifest: The experiment's recorded settings and state.
        tracking: The live MLflow sync of this run (``tracking.wait(timeout)`` blocks until
            MLflow holds everything), or None without ``mlflow=``.
    """

    path: str
    trials: list[Trial]
    direction: str = "max"
    metric: str = "metric"
    manifest: dict[str, Any] = field(default_factory=dict)
    tracking: Any = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The experiment's directory name (``<name>_<run>``)."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def state(self) -> str:
        """The recorded :class:`~sparkexp.status.ExperimentState` (``running``, ``finished``,
        ``timeout``, ``aborted``, ``killed``, ``interrupted``), as its string."""
        return str(self.manifest.get("state", "unknown"))

    @property
    def completed(self) -> list[Trial]:
        """Trials that returned a metric."""
        return completed(self.trials)

    @property
    def infeasible(self) -> list[Trial]:
        """Completed trials that violate a constraint (never the best, never on the front)."""
        return [t for t in self.completed if t.feasible is False]

    @property
    def objectives(self) -> Objectives | None:
        """The objectives of a several-objective experiment (None with one metric)."""
        return Objectives.from_settings(self.manifest.get("objectives"))

    @property
    def pareto_front(self) -> list[Trial]:
        """Completed, feasible trials no other such trial beats on every objective.

        With one objective it is the best trial (as a one-element list), or empty.
        """
        objectives = self.objectives
        if objectives is None:
            return [] if self.best is None else [self.best]
        return pareto_front(self.trials, objectives)

    @property
    def failed(self) -> list[Trial]:
        """Trials that ended in error or timeout."""
        return [t for t in self.trials if t.status in FAILED]

    @property
    def best(self) -> Trial | None:
        """The feasible completed trial with the best metric (first one on ties), or None.

        None too with several objectives, which have no single best: see :attr:`pareto_front`.
        """
        if self.objectives is not None:
            return None
        return best_trial(self.trials, self.direction)

    @property
    def best_params(self) -> dict[str, Any] | None:
        """Hyperparameters of :attr:`best`."""
        return None if self.best is None else dict(self.best.params)

    @property
    def best_metric(self) -> float | None:
        """Metric of :attr:`best`."""
        return None if self.best is None else self.best.metric

    def __iter__(self) -> Iterator[Any]:
        """Unpack the result as hops' return value (:meth:`hops_tuple`).

        Example:
            >>> logdir, best_params, return_dict = experiment.grid_search(spark, train, grid)  # doctest: +SKIP
            >>> logdir, return_dict = experiment.launch(spark, train)                          # doctest: +SKIP
        """
        return iter(self.hops_tuple())

    def hops_tuple(self) -> tuple[Any, ...]:
        """What hops-util-py's entry point returned: ``(logdir, best_params, return_dict)`` for
        a search, ``(logdir, return_dict)`` for ``launch``.

        ``logdir`` is the experiment directory, ``best_params`` the best trial's
        hyperparameters and ``return_dict`` the dict it returned (a bare number ``x`` as
        ``{"metric": x}``); ``None`` and ``{}`` when no trial completed. For ``launch``,
        ``return_dict`` is the outputs of its (best, else last) run.

        Example:
            >>> res = Result(path="/tmp/x", trials=[Trial("trial_00000", 0, {"lr": 0.1},
            ...              status="complete", metric=0.8, outputs={"metric": 0.8})])
            >>> res.hops_tuple()
            ('/tmp/x', {'lr': 0.1}, {'metric': 0.8})
        """
        best = self.best
        if self.manifest.get("strategy") == "launch":
            chosen = best or (self.trials[-1] if self.trials else None)
            return self.path, dict(chosen.outputs) if chosen is not None else {}
        return self.path, self.best_params, dict(best.outputs) if best is not None else {}

    def summary(self) -> str:
        """A few lines for a terminal: counts, best trial and where the records are."""
        counts: dict[str, int] = {}
        for t in self.trials:
            counts[t.status] = counts.get(t.status, 0) + 1
        parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        lines = [f"experiment {self.name}: {len(self.trials)} trials ({parts or 'none'})"]
        best = self.best
        objectives = self.objectives
        if objectives is not None:
            shown = ", ".join(f"{m} ({d})" for m, d in zip(objectives.metrics, objectives.directions))
            lines.append(f"Pareto front of {shown}: {len(self.pareto_front)} trial(s)")
        if self.infeasible:
            lines.append(f"{len(self.infeasible)} trial(s) violate the constraints")
        if best is not None:
            lines.append(f"best {self.metric}={best.metric:.6g} ({self.direction}) at {best.id}: {best.params}")
        lines.append(f"records: {self.path}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Result(path={self.path!r}, trials={len(self.trials)}, best_metric={self.best_metric!r})"

    def to_arrow(self) -> pyarrow.Table:
        """One row per trial: id, index, status, metric, each param as ``param.<name>``, each
        output as ``output.<name>``, timings, host and error."""
        return trials_to_arrow(self.trials)

    def to_pandas(self) -> pandas.DataFrame:
        """:meth:`to_arrow` as a pandas DataFrame (needs pandas: ``pip install sparkexp[pandas]``)."""
        try:
            import pandas  # noqa: F401
        except ImportError as exc:
            raise ImportError("Result.to_pandas() needs pandas: pip install 'sparkexp[pandas]'") from exc
        return self.to_arrow().to_pandas()


def _column(values: list[Any]) -> pyarrow.Array:
    import pyarrow as pa

    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # mixed types in one column: keep them readable as JSON text
        return pa.array([None if v is None else json.dumps(v, default=repr) for v in values], pa.string())


def trials_to_arrow(trials: Sequence[Trial]) -> pyarrow.Table:
    """A pyarrow Table of trials (see :meth:`Result.to_arrow`)."""
    import pyarrow as pa

    param_names: list[str] = []
    output_names: list[str] = []
    for t in trials:
        for k in t.params:
            if k not in param_names:
                param_names.append(k)
        for k in t.outputs:
            if k not in output_names:
                output_names.append(k)
    columns: dict[str, Any] = {
        "id": pa.array([t.id for t in trials], pa.string()),
        "index": pa.array([t.index for t in trials], pa.int64()),
        "status": pa.array([t.status for t in trials], pa.string()),
        "metric": pa.array([t.metric for t in trials], pa.float64()),
    }
    for k in param_names:
        columns[f"param.{k}"] = _column([t.params.get(k) for t in trials])
    for k in output_names:
        columns[f"output.{k}"] = _column([t.outputs.get(k) for t in trials])
    columns["started"] = pa.array([t.started for t in trials], pa.float64())
    columns["finished"] = pa.array([t.finished for t in trials], pa.float64())
    columns["duration"] = pa.array([t.duration for t in trials], pa.float64())
    columns["attempt"] = pa.array([t.attempt for t in trials], pa.int64())
    columns["host"] = pa.array([t.host for t in trials], pa.string())
    columns["executor"] = pa.array([t.executor for t in trials], pa.string())
    columns["slot"] = pa.array([t.slot for t in trials], pa.int64())
    columns["spark_task"] = pa.array([t.spark_task for t in trials], pa.int64())
    columns["gpus"] = pa.array([",".join(t.gpus) for t in trials], pa.string())
    columns["logdir"] = pa.array([t.logdir for t in trials], pa.string())
    columns["error"] = pa.array([t.error for t in trials], pa.string())
    if any(t.constraints is not None for t in trials):
        columns["feasible"] = pa.array([t.feasible for t in trials], pa.bool_())
    return pa.table(columns)


def load(path: str) -> Result:
    """Read a past (or running) experiment back from its directory.

    Example:
        >>> res = load("sparkexp-project/Experiments/demo_1")  # doctest: +SKIP
    """
    from sparkexp.store import ExperimentStore

    store = ExperimentStore(path)
    manifest = store.read_manifest()
    return Result(
        path=store.path,
        trials=store.load_trials(),
        direction=str(manifest.get("direction", "max")),
        metric=str(manifest.get("metric") or "metric"),
        manifest=manifest,
    )
