"""MLflow tracking: every experiment and trial where Spark users already look.

With ``mlflow=`` on any search (or the Spark conf ``spark.sparkexp.mlflow.trackingUri``), the
driver mirrors the experiment into MLflow as it runs: one parent run per experiment, one nested
run per trial, logged by a separate sync process off the dispatch path (executors never talk
to MLflow). :func:`export` backfills a recorded experiment; both are idempotent. See
``docs/mlflow.md``.

Example:
    >>> from sparkexp import experiment                                       # doctest: +SKIP
    >>> res = experiment.random_search(spark, train, space, samples=20,
    ...                                mlflow="http://mlflow.example:5000")   # doctest: +SKIP
    >>> res.tracking.wait(60)          # optional: block until MLflow holds everything  # doctest: +SKIP
    True
    >>> export(res.path, "http://mlflow.example:5000")                        # doctest: +SKIP
    0
"""

from __future__ import annotations

from sparkexp.tracking._export import export
from sparkexp.tracking._live import LiveTracking, run_tracked
from sparkexp.tracking._options import (
    CONF_KEY,
    ENVIRONMENT,
    check_option,
    check_tracking_uri,
    recordable,
    resolve_tracking,
)
from sparkexp.tracking._sync import TAG_EXPERIMENT, TAG_TRIAL, MlflowSync

__all__ = [
    "CONF_KEY",
    "ENVIRONMENT",
    "LiveTracking",
    "MlflowSync",
    "TAG_EXPERIMENT",
    "TAG_TRIAL",
    "check_tracking_uri",
    "export",
    "check_option",
    "recordable",
    "resolve_tracking",
    "run_tracked",
]
