"""sparkexp: hyperparameter experiments on Apache Spark.

Example:
    >>> from sparkexp import experiment, hdfs, tensorboard  # doctest: +SKIP
    >>> def train(learning_rate, dropout):                  # doctest: +SKIP
    ...     return 1.0 - abs(learning_rate - 0.0005) - dropout / 10
    >>> res = experiment.grid_search(spark, train,          # doctest: +SKIP
    ...     {"learning_rate": [0.001, 0.0005], "dropout": [0.45, 0.7]}, direction="max")
"""

from __future__ import annotations

from sparkexp import experiment, hdfs, tensorboard
from sparkexp._session import session
from sparkexp.errors import (
    ConfigError,
    ExperimentAborted,
    NotInTrialError,
    SearchSpaceError,
    SparkexpError,
    StorageError,
    TrialError,
)
from sparkexp.options import RunOptions
from sparkexp.result import Result
from sparkexp.status import ExperimentState, TrialStatus
from sparkexp.trial import Trial

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "experiment",
    "hdfs",
    "tensorboard",
    "session",
    "Result",
    "Trial",
    "RunOptions",
    "TrialStatus",
    "ExperimentState",
    "SparkexpError",
    "ConfigError",
    "SearchSpaceError",
    "NotInTrialError",
    "TrialError",
    "StorageError",
    "ExperimentAborted",
]
