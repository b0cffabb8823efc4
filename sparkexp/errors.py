"""Exceptions sparkexp raises. Each message names the offending input and what is accepted.

Example:
    >>> raise ConfigError("direction must be 'max' or 'min', got 'maximize'")
    Traceback (most recent call last):
    ...
    sparkexp.errors.ConfigError: direction must be 'max' or 'min', got 'maximize'
"""

from __future__ import annotations

__all__ = [
    "SparkexpError",
    "ConfigError",
    "SearchSpaceError",
    "NotInTrialError",
    "TrialError",
    "MetricChoiceError",
    "ChannelError",
    "DriverUnreachable",
    "StorageError",
    "ExperimentAborted",
]


class SparkexpError(Exception):
    """Base class of every sparkexp error."""


class ConfigError(SparkexpError, ValueError):
    """Bad arguments or settings, detected before any Spark job starts."""


class SearchSpaceError(ConfigError):
    """A search space (grid, bounds, distributions) that cannot be searched."""


class NotInTrialError(SparkexpError, RuntimeError):
    """A trial-only API (``tensorboard.logdir()``, ``reporter``) was called outside a trial."""


class TrialError(SparkexpError):
    """A trial returned something that is not a usable result."""


class MetricChoiceError(TrialError):
    """A trial returned a dict of several numbers and nothing says which one to optimise.

    Every trial would do the same, so the experiment stops after the first such result;
    ``outputs`` holds what that trial returned (it is recorded).
    """

    def __init__(self, message: str, outputs: dict[str, object]) -> None:
        super().__init__(message)
        self.outputs = outputs


class ChannelError(SparkexpError, ConnectionError):
    """The driver-executor channel failed (authentication, malformed or oversized message)."""


class DriverUnreachable(ChannelError):
    """Executors could not connect to the driver's (or Spark Connect client's) trial channel."""


class StorageError(SparkexpError, OSError):
    """The project root or a record could not be read or written."""


class ExperimentAborted(SparkexpError):
    """The experiment ended early (fail_fast, max_failures, timeout, kill); results are saved."""
