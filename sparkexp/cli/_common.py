"""What the CLI's commands share: exit codes, the usage error, finding an experiment by path.

Example:
    >>> EXIT_OK, EXIT_ABORTED, EXIT_USAGE, EXIT_INTERRUPTED
    (0, 1, 2, 130)
"""

from __future__ import annotations

import datetime
import os

from sparkexp.errors import ConfigError

__all__ = ["EXIT_OK", "EXIT_ABORTED", "EXIT_USAGE", "EXIT_INTERRUPTED", "CliError",
           "find_experiment", "format_time", "first_error_line"]

EXIT_OK = 0
EXIT_ABORTED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CliError(ConfigError):
    """Bad input on the command line (exit 2); the message is one line."""


def find_experiment(path: str) -> str:
    """The experiment directory ``path`` names: a directory, or a name under the project root.

    ``demo_1`` means ``<project root>/Experiments/demo_1`` when no such local directory exists.

    Raises:
        CliError: nothing there holds an ``experiment.json``.
    """
    from sparkexp.project import resolve_root
    from sparkexp.store import ExperimentStore

    candidates = [path]
    if "/" not in path and not os.path.exists(path):
        candidates.append(resolve_root().rstrip("/") + "/Experiments/" + path)
    for candidate in candidates:
        try:
            ExperimentStore(candidate).read_manifest()
        except (OSError, ValueError):
            continue
        return candidate
    raise CliError(f"no experiment at {path!r}: expected an experiment directory (with "
                   "experiment.json) or a name listed by 'sparkexp list'")


def format_time(epoch: object) -> str:
    """Local ``YYYY-MM-DD HH:MM`` for epoch seconds, ``-`` when unknown."""
    if not isinstance(epoch, (int, float)):
        return "-"
    return datetime.datetime.fromtimestamp(float(epoch)).strftime("%Y-%m-%d %H:%M")


def first_error_line(error: str | None) -> str:
    """The line of a traceback that says what went wrong (``ValueError: diverged``).

    Example:
        >>> first_error_line("Traceback (most recent call last):\\n  File 'x'\\nValueError: bad lr")
        'ValueError: bad lr'
    """
    for line in (error or "").splitlines():
        if line.strip() and not line.startswith((" ", "\t", "Traceback")):
            return line.strip()
    return (error or "").strip().splitlines()[-1].strip() if (error or "").strip() else "-"
