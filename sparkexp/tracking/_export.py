"""Backfill a recorded experiment into MLflow (``sparkexp export-mlflow``), idempotently.

Example:
    >>> export("sparkexp-project/Experiments/mnist_1", "sqlite:///mlflow.db")   # doctest: +SKIP
    12
"""

from __future__ import annotations

from sparkexp.project import normalize_root
from sparkexp.store import ExperimentStore
from sparkexp.tracking._options import ENVIRONMENT, check_tracking_uri, resolve_tracking
from sparkexp.tracking._sync import MlflowSync

__all__ = ["export"]


def export(path: str, tracking_uri: str | None = None, *, experiment_name: str | None = None) -> int:
    """Mirror the experiment at ``path`` into MLflow; return how many runs were written to.

    Runs MLflow already holds completely are left alone, so exporting again (or after live
    tracking that lost its server for a while) writes only what is missing.

    Args:
        path: The experiment directory.
        tracking_uri: Where to log (default: the environment's MLflow, ``MLFLOW_TRACKING_URI``).
        experiment_name: The MLflow experiment (default: the experiment's name without its
            run number, or ``MLFLOW_EXPERIMENT_NAME``).

    Raises:
        ConfigError: a bad URI or no ``mlflow`` package.
        StorageError: ``path`` is not an experiment.
    """
    uri = ENVIRONMENT if tracking_uri is None else check_tracking_uri(tracking_uri)
    resolve_tracking(True if uri == ENVIRONMENT else uri)  # the package check
    # the live tracker tags runs with the absolute path: the same runs are found again
    store = ExperimentStore(normalize_root(path).rstrip("/"))
    store.read_manifest()
    sync = MlflowSync(store, uri, experiment_name=experiment_name)
    sync.add_events(store.read_events())
    return sync.sync()
