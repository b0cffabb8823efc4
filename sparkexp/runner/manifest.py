"""The experiment manifest (``experiment.json``): what ran, with which options, how it ended.

The driver writes it when the experiment starts and when it ends; every run option is in it
(:meth:`sparkexp.options.RunOptions.to_manifest`), so ``resume`` can run with all of them.
"""

from __future__ import annotations

import collections
import platform
from dataclasses import dataclass, field
from typing import Any

from sparkexp import __version__
from sparkexp._refs import function_ref
from sparkexp.options import RunOptions
from sparkexp.search import Search
from sparkexp.search.stopping import Stopper
from sparkexp.status import ExperimentState
from sparkexp.trial import Trial

__all__ = ["RunSettings", "build_manifest", "function_ref"]


@dataclass
class RunSettings:
    """The validated options and what the entry point resolved for this run."""

    options: RunOptions
    project_root: str
    fn_name: str = "fn"
    stopper: Stopper | None = None
    progress: Any = None
    manifest_extra: dict[str, Any] = field(default_factory=dict)
    #: what each trial gets (GPUs, CPUs, resource profile); None: the session's defaults
    resources: Any = None
    #: how often a trial may be lost with its executor/worker before it is recorded as an error
    max_lost: int = 2
    #: how often trial slots may fail without a trial to blame before the experiment aborts
    max_job_restarts: int = 3
    #: ``options.echo_output`` with ``"auto"`` resolved for the session
    echo_output: bool | str = True
    #: a function that returns nothing completes without a metric (hops' launch)
    metric_optional: bool = False
    #: hard ceiling on trials at once; None: slot tasks follow what the cluster offers
    max_slots: int | None = None
    #: gets each batch of journal events once recorded, off the dispatch path (MLflow tracking)
    on_events: Any = None


def _pyspark_version() -> str | None:
    try:
        import pyspark
    except ImportError:  # pragma: no cover
        return None
    return str(pyspark.__version__)


def build_manifest(*, name: str, search: Search, fn: Any, settings: RunSettings, metric: str | None,
                   app_id: str, master: str, job_group: str, state: ExperimentState,
                   abort_reason: str | None, created: float, resumed: list[float],
                   finished: float | None, trials: list[Trial]) -> dict[str, Any]:
    """The manifest's contents (keys in docs/records.md)."""
    counts = collections.Counter(str(t.status) for t in trials)
    return {
        "name": name,
        "strategy": search.name,
        "search": search.settings(),
        "function": settings.fn_name,
        "function_ref": function_ref(fn),
        # a search that stops trials itself is rebuilt from its settings, not early_stopping
        **settings.options.to_manifest(None if settings.stopper is search else settings.stopper),
        "metric": metric,
        "project_root": settings.project_root,
        "app_id": app_id,
        "master": master,
        "job_group": job_group,
        "versions": {"sparkexp": __version__, "pyspark": _pyspark_version(),
                     "python": platform.python_version()},
        "state": state,
        "abort_reason": abort_reason,
        "created": created,
        "resumed": resumed,
        "finished": finished,
        "counts": dict(counts),
        **settings.manifest_extra,
    }
