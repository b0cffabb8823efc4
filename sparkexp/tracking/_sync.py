"""Mirror one experiment's records into MLflow: a parent run, one nested run per trial.

:class:`MlflowSync` folds journal events into trials (the store's own fold) and pushes what
MLflow does not hold yet. It serves both the live sync process and ``sparkexp export-mlflow``,
and it is idempotent: runs are found again by their ``sparkexp.experiment`` and
``sparkexp.trial`` tags, a trial re-run after a lost executor or a resume is the same run, and
what MLflow already holds is not logged again. A failed MLflow call raises; calling
:meth:`MlflowSync.sync` again continues where it stopped.

Layout in MLflow:

* the MLflow experiment is the sparkexp experiment's name without its run number (``mnist``
  for ``mnist_3``), unless ``MLFLOW_EXPERIMENT_NAME``/``MLFLOW_EXPERIMENT_ID`` or an explicit
  name says otherwise;
* the parent run (named ``mnist_3``) has the settings as params, the manifest as the artifact
  ``experiment.json``, and when the experiment ends ``best_<metric>``, ``trials_<status>``
  counts, the best trial's id and params as tags and the status matching the state;
* each trial's run (named ``trial_00007``, nested under the parent) has its hyperparameters as
  params, every ``reporter.log`` report as step metrics, its outputs as final metrics, tags for
  status, slot, host, executor, Spark task, attempt and error, and its ``stdout.log`` /
  ``stderr.log`` as artifacts under ``logs/``.
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sparkexp.journal import fold
from sparkexp.store import ExperimentStore, json_safe
from sparkexp.trial import Trial

__all__ = ["MlflowSync", "run_status", "experiment_status", "TAG_EXPERIMENT", "TAG_TRIAL"]

#: tag naming the sparkexp experiment (its directory) on the parent and every trial run
TAG_EXPERIMENT = "sparkexp.experiment"
#: tag naming the trial (``trial_00007``) on a trial's run
TAG_TRIAL = "sparkexp.trial"
_TAG_STEPS = "sparkexp.steps"  # reports logged as step metrics, for the attempt in sparkexp.attempt
_TAG_ATTEMPT = "sparkexp.attempt"
_PARENT = "mlflow.parentRunId"
_RUN_NAME = "mlflow.runName"
_LOG_FILES = ("stdout.log", "stderr.log")
_MAX_PARAM = 6000
_MAX_TAG = 8000
_BATCH = 1000  # MLflow's log_batch limit on metrics
_BAD_KEY = re.compile(r"[^A-Za-z0-9_\-. :/]")

_TRIAL_STATUS = {"complete": "FINISHED", "error": "FAILED", "stopped": "KILLED",
                 "timeout": "KILLED", "running": "RUNNING", "queued": "SCHEDULED",
                 "created": "SCHEDULED"}
_EXPERIMENT_STATUS = {"running": "RUNNING", "finished": "FINISHED", "timeout": "FINISHED",
                      "interrupted": "KILLED", "killed": "KILLED", "aborted": "FAILED"}
_TERMINAL = frozenset({"FINISHED", "FAILED", "KILLED"})


def run_status(trial_status: str, *, experiment_running: bool = True) -> str:
    """The MLflow run status of a trial (an unfinished trial of an ended experiment: KILLED).

    >>> run_status("complete"), run_status("timeout"), run_status("running", experiment_running=False)
    ('FINISHED', 'KILLED', 'KILLED')
    """
    status = _TRIAL_STATUS.get(trial_status, "FAILED")
    if status not in _TERMINAL and not experiment_running:
        return "KILLED"
    return status


def experiment_status(state: str) -> str:
    """The MLflow status of the parent run for an experiment state.

    >>> experiment_status("finished"), experiment_status("aborted")
    ('FINISHED', 'FAILED')
    """
    return _EXPERIMENT_STATUS.get(state, "FAILED")


def _key(name: str) -> str:
    """A metric/param key MLflow accepts."""
    return _BAD_KEY.sub("_", str(name))[:250] or "_"


def _ms(epoch: Any) -> int | None:
    return None if epoch is None else int(float(epoch) * 1000)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(json_safe(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class _Run:
    """What MLflow holds for one run (read once, then kept up to date by our own writes)."""

    run_id: str
    status: str
    end_time: int | None
    tags: dict[str, str] = field(default_factory=dict)
    params: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, run: Any) -> _Run:
        return cls(run.info.run_id, run.info.status, run.info.end_time, dict(run.data.tags),
                   set(run.data.params))


class MlflowSync:
    """Pushes one experiment's trials and settings to MLflow, idempotently.

    Args:
        store: The experiment's records (manifest, journal, trial logs).
        tracking_uri: Where to log; ``""`` or None for the environment's MLflow.
        experiment_name: The MLflow experiment (default: see the module docstring).

    Example:
        >>> sync = MlflowSync(store, "sqlite:///mlflow.db")   # doctest: +SKIP
        >>> sync.add_events(store.read_events())             # doctest: +SKIP
        >>> sync.sync()                                      # doctest: +SKIP
    """

    def __init__(self, store: ExperimentStore, tracking_uri: str | None = None, *,
                 experiment_name: str | None = None) -> None:
        self.store = store
        self.tracking_uri = tracking_uri or None
        self.experiment_name = experiment_name
        self.key = store.path.rstrip("/")
        self.trials: dict[str, Trial] = {}
        self._dirty: set[str] = set()
        self._manifest: dict[str, Any] = {}
        self._client: Any = None
        self._experiment_id: str | None = None
        self._parent: _Run | None = None
        self._runs: dict[str, _Run] = {}

    # -- input ------------------------------------------------------------------------------
    def add_events(self, events: Iterable[dict[str, Any]]) -> None:
        """Fold journal events (in order) into the trials to push."""
        events = list(events)
        fold(events, self.trials)  # the one fold of the journal, continued batch by batch
        for event in events:
            if isinstance(event.get("id"), str):
                self._dirty.add(event["id"])
            for tid in event.get("rerun") or []:
                self._dirty.add(tid)

    @property
    def pending(self) -> bool:
        """True while some trial has changes MLflow does not hold yet."""
        return bool(self._dirty)

    # -- output -----------------------------------------------------------------------------
    def sync(self, *, final: bool = True) -> int:
        """Push everything MLflow does not hold yet; return how many runs were written to.

        Args:
            final: No more events will come (an export; the live run ended): the parent run
                gets its summary and end status if the manifest says the experiment ended.
                Live tracking passes False until the driver said so, because the manifest is
                rewritten before the last events reach the sync process.

        Raises:
            Exception: whatever MLflow raised; nothing is lost, call again to continue.
        """
        self._manifest = self.store.read_manifest()
        running = not final or self._manifest.get("state", "running") == "running"
        if self._client is None:
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.tracking_uri)
        if self._experiment_id is None:
            experiment_id = self._mlflow_experiment()
            self._find_runs(experiment_id)
            self._experiment_id = experiment_id  # only once every run MLflow holds is known
        parent = self._sync_parent(final=False)
        written = 0
        for tid in sorted(self._dirty, key=lambda t: self.trials[t].index if t in self.trials else -1):
            trial = self.trials.get(tid)
            if trial is not None:
                written += int(self._sync_trial(trial, running))
            self._dirty.discard(tid)
        if not running:
            parent = self._sync_parent(final=True) or parent
        return written + int(parent)

    # -- MLflow objects ---------------------------------------------------------------------
    def _mlflow_experiment(self) -> str:
        client = self._client
        if self.experiment_name is None and os.environ.get("MLFLOW_EXPERIMENT_ID"):
            return str(os.environ["MLFLOW_EXPERIMENT_ID"])
        name = (self.experiment_name or os.environ.get("MLFLOW_EXPERIMENT_NAME")
                or str(self._manifest.get("name") or self.key.rsplit("/", 1)[-1]).rpartition("_")[0]
                or "sparkexp")
        found = client.get_experiment_by_name(name)
        if found is None:
            try:
                return str(client.create_experiment(name))
            except Exception:  # noqa: BLE001 - created meanwhile by another writer
                found = client.get_experiment_by_name(name)
                if found is None:
                    raise
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return str(found.experiment_id)

    def _find_runs(self, experiment_id: str) -> None:
        """Every run MLflow holds for this experiment: the parent and the trials' runs."""
        quote = "'" if "'" not in self.key else '"'
        if quote in self.key:
            query, wanted = "", self.key  # both quotes in the path: filter here instead
        else:
            query, wanted = f"tags.`{TAG_EXPERIMENT}` = {quote}{self.key}{quote}", self.key
        token = None
        while True:
            page = self._client.search_runs([experiment_id], filter_string=query,
                                            max_results=1000, page_token=token)
            for run in page:
                tags = run.data.tags
                if tags.get(TAG_EXPERIMENT) != wanted:
                    continue
                if TAG_TRIAL in tags:
                    self._runs.setdefault(tags[TAG_TRIAL], _Run.of(run))
                elif self._parent is None:
                    self._parent = _Run.of(run)
            token = page.token
            if not token:
                break

    def _create(self, name: str, tags: dict[str, str], start: float | None) -> _Run:
        tags = {TAG_EXPERIMENT: self.key, _RUN_NAME: name, **tags}
        run = self._client.create_run(self._experiment_id, start_time=_ms(start) or _ms(time.time()),
                                      tags=tags, run_name=name)
        return _Run(run.info.run_id, run.info.status, None, dict(tags))

    def _log(self, run: _Run, *, metrics: list[tuple[str, float, int, int]] | None = None,
             params: dict[str, Any] | None = None, tags: dict[str, str] | None = None) -> bool:
        """One or more ``log_batch`` calls (none when MLflow holds it all); params MLflow already
        holds are not sent again (MLflow refuses changed values). True when something was sent."""
        from mlflow.entities import Metric, Param, RunTag

        new_params = [Param(_key(k), _text(v, _MAX_PARAM)) for k, v in (params or {}).items()
                      if _key(k) not in run.params]
        changed = {k: v for k, v in (tags or {}).items() if run.tags.get(k) != v}
        new_tags = [RunTag(k, _text(v, _MAX_TAG)) for k, v in changed.items()]
        entries = [Metric(_key(k), v, ts, step) for k, v, ts, step in metrics or []]
        if not (new_params or new_tags or entries):
            return False
        batches = list(_chunks(entries, _BATCH)) or [[]]
        for i, batch in enumerate(batches):
            last = i == len(batches) - 1
            # params first, tags with the last batch: sparkexp.steps says the metrics are in
            self._client.log_batch(run.run_id, metrics=batch,
                                   params=new_params if i == 0 else [],
                                   tags=new_tags if last else [])
        run.params.update(p.key for p in new_params)
        run.tags.update(changed)
        return True

    def _finish(self, run: _Run, status: str, end: float | None) -> None:
        end_ms = _ms(end) or _ms(time.time())
        if status in _TERMINAL:
            self._client.set_terminated(run.run_id, status=status, end_time=end_ms)
            run.end_time = end_ms
        else:
            self._client.update_run(run.run_id, status=status)
        run.status = status

    # -- the parent run -----------------------------------------------------------------------
    def _sync_parent(self, *, final: bool) -> bool:
        manifest = self._manifest
        state = str(manifest.get("state", "running"))
        status = experiment_status(state)
        run = self._parent
        wrote = run is None
        if run is None:
            run = self._parent = self._create(str(manifest.get("name") or self.key.rsplit("/", 1)[-1]),
                                              {"sparkexp.path": self.key}, manifest.get("created"))
        # settings and state every time: a call cut off after creating the run is completed here
        if self._log(run, params=self._settings_params(), tags={"sparkexp.state": state}) or wrote:
            self._client.log_text(run.run_id, json.dumps(json_safe(manifest), indent=2),
                                  "experiment.json")
            wrote = True
        if not final:
            if run.status in _TERMINAL and status == "RUNNING":  # resumed
                self._finish(run, "RUNNING", None)
                wrote = True
            return wrote
        if run.status == status and run.end_time == _ms(manifest.get("finished")):
            return wrote  # MLflow holds the end of this run of the experiment already
        self._log(run, **self._summary(state))
        self._finish(run, status, manifest.get("finished"))
        return True

    def _settings_params(self) -> dict[str, Any]:
        manifest = self._manifest
        params = {k: manifest.get(k) for k in ("strategy", "function", "direction", "metric",
                                               "max_parallel", "target", "timeout",
                                               "trial_timeout", "max_trial_retries",
                                               "max_failures", "early_stopping")
                  if manifest.get(k) is not None}
        for key, value in (manifest.get("search") or {}).items():
            params[f"search.{key}"] = value
        return params

    def _summary(self, state: str) -> dict[str, Any]:
        from sparkexp.result import Result  # result imports store: import at use

        manifest = self._manifest
        metric = str(manifest.get("metric") or "metric")
        trials = sorted(self.trials.values(), key=lambda t: t.index)
        result = Result(path=self.key, trials=trials, direction=str(manifest.get("direction", "max")),
                        metric=metric, manifest=manifest)
        ts = _ms(manifest.get("finished")) or _ms(time.time()) or 0
        counts: dict[str, int] = {}
        for trial in trials:
            counts[trial.status] = counts.get(trial.status, 0) + 1
        metrics = [(f"trials_{status}", float(n), ts, 0) for status, n in sorted(counts.items())]
        tags = {"sparkexp.state": state}
        best = result.best
        if best is not None and best.metric is not None:
            metrics.append((f"best_{metric}", float(best.metric), ts, 0))
            tags["sparkexp.best_trial"] = best.id
            tags["sparkexp.best_params"] = _text(best.params, _MAX_TAG)
            child = self._runs.get(best.id)
            if child is not None:
                tags["sparkexp.best_run_id"] = child.run_id
        return {"metrics": metrics, "tags": tags}

    # -- trial runs ---------------------------------------------------------------------------
    def _sync_trial(self, trial: Trial, running: bool) -> bool:
        run = self._runs.get(trial.id)
        status = run_status(trial.status, experiment_running=running)
        if run is None:
            if trial.status in ("created", "queued"):
                return False  # nothing ran yet: its run starts with its first attempt
            assert self._parent is not None
            run = self._runs[trial.id] = self._create(
                trial.id, {_PARENT: self._parent.run_id, TAG_TRIAL: trial.id}, trial.started)
        elif (run.status == status and status in _TERMINAL and run.end_time == _ms(trial.finished)
              and run.tags.get(_TAG_ATTEMPT) == str(trial.attempt)):
            return False  # MLflow holds this attempt's end already (export again, resume)
        steps = 0
        if run.tags.get(_TAG_ATTEMPT) == str(trial.attempt):
            steps = int(run.tags.get(_TAG_STEPS) or 0)
        if steps > len(trial.history):  # the attempt was run again from the start
            steps = 0
        metrics = self._step_metrics(trial.history[steps:])
        tags = self._trial_tags(trial, run)
        tags[_TAG_STEPS] = str(len(trial.history))
        done = status in _TERMINAL
        if done:
            metrics.extend(self._final_metrics(trial))
        if run.status in _TERMINAL and not done:  # a re-run: the same run, running again
            self._finish(run, status, None)
        self._log(run, metrics=metrics, params=trial.params, tags=tags)
        if done:
            self._log_files(trial, run)
            self._finish(run, status, trial.finished)
        elif run.status != status:
            self._finish(run, status, None)
        return True

    @staticmethod
    def _step_metrics(reports: list[dict[str, Any]]) -> list[tuple[str, float, int, int]]:
        metrics = []
        for report in reports:
            step = report.get("step")
            ts = _ms(report.get("_time")) or 0
            for name, value in report.items():
                number = _number(value)
                if name in ("step", "_time") or number is None or not isinstance(step, int):
                    continue
                metrics.append((name, number, ts, step))
        return metrics

    def _final_metrics(self, trial: Trial) -> list[tuple[str, float, int, int]]:
        """The trial's outputs (and its optimised metric), at its last reported step."""
        steps = [r["step"] for r in trial.history if isinstance(r.get("step"), int)]
        step = max(steps) if steps else 0
        ts = _ms(trial.finished) or _ms(time.time()) or 0
        values = {name: _number(v) for name, v in trial.outputs.items()}
        name = str(self._manifest.get("metric") or "metric")
        if trial.metric is not None and values.get(name) is None:
            values[name] = _number(trial.metric)
        return [(k, v, ts, step) for k, v in values.items() if v is not None]

    @staticmethod
    def _trial_tags(trial: Trial, run: _Run) -> dict[str, str]:
        tags = {"sparkexp.status": trial.status, _TAG_ATTEMPT: str(trial.attempt),
                "sparkexp.index": str(trial.index)}
        for name, value in (("slot", trial.slot), ("host", trial.host),
                            ("executor", trial.executor), ("spark_task", trial.spark_task),
                            ("pid", trial.pid), ("logdir", trial.logdir)):
            if value is not None:
                tags[f"sparkexp.{name}"] = str(value)
        if trial.gpus:
            tags["sparkexp.gpus"] = ",".join(map(str, trial.gpus))
        if trial.error or "sparkexp.error" in run.tags:
            error = trial.error or ""
            tags["sparkexp.error"] = error if len(error) <= _MAX_TAG else "..." + error[-(_MAX_TAG - 3):]
        return tags

    def _log_files(self, trial: Trial, run: _Run) -> None:
        """The trial's stdout/stderr logs as artifacts under ``logs/``."""
        fs = self.store.fs
        directory = self.store.trial_dir(trial.id)
        for name in _LOG_FILES:
            path = fs.join(directory, name)
            try:
                data = fs.read_bytes(path)
            except (FileNotFoundError, OSError):
                continue
            self._client.log_text(run.run_id, data.decode("utf-8", "replace"), f"logs/{name}")
