"""A trial's hyperparameters, final metrics and status as TensorBoard HParams.

TensorBoard's HParams dashboard takes one *session* per run directory: a
``_hparams_/session_start_info`` summary (the hyperparameter values) and a
``_hparams_/session_end_info`` summary (the status). Its metric columns are the scalar tags of
those runs. When no run holds an ``_hparams_/experiment`` summary, the plugin builds the
experiment's configuration itself from every session (the type and domain of each
hyperparameter, the list of metrics), so each trial writes only its own session and trials that
end in any order on any executor add up to one complete table. sparkexp therefore never writes an
experiment summary: one written by a single trial would hide the hyperparameters and metrics of
all the others (the plugin takes the first one it finds).

Final numeric outputs are written as scalars ``final/<name>`` at the trial's last step, so they
never add a point to a curve the trial logged itself under ``<name>``.

Example:
    >>> write_trial_hparams("/tmp/exp/trial_00000", {"lr": 0.01, "opt": "adam"},   # doctest: +SKIP
    ...                     {"accuracy": 0.93}, status="complete")
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from typing import Any

from sparkexp.outputs import as_number

__all__ = [
    "STATUS_PARAM",
    "METRIC_PREFIX",
    "HPARAMS_SUFFIX",
    "write_trial_hparams",
    "remove_trial_hparams",
    "hparam_value",
    "session_status",
]

#: The extra hyperparameter column holding sparkexp's own trial status.
STATUS_PARAM = "trial_status"
#: Suffix of the event file holding a trial's HParams.
HPARAMS_SUFFIX = ".~hparams"
#: Prefix of the scalar tags holding a trial's final outputs.
METRIC_PREFIX = "final/"

_START_TAG = "_hparams_/session_start_info"
_END_TAG = "_hparams_/session_end_info"

# sparkexp status -> TensorBoard session status. An early-stopped trial ended as designed and
# its metrics are valid; a trial over its time limit did not finish its work.
_SESSION_STATUS = {
    "complete": "STATUS_SUCCESS",
    "stopped": "STATUS_SUCCESS",
    "timeout": "STATUS_FAILURE",
    "error": "STATUS_FAILURE",
    "running": "STATUS_RUNNING",
}


def hparam_value(value: Any) -> bool | float | str | None:
    """``value`` as one of the types HParams holds (bool, number, string); None is skipped.

    Numbers (numpy's too) stay numbers, strings and bools stay as they are, anything else
    (lists, dicts, objects) becomes a compact string.

    Example:
        >>> hparam_value(3), hparam_value(True), hparam_value([64, 32]), hparam_value(None)
        (3.0, True, '[64, 32]', None)
    """
    if value is None:
        return None
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    number = as_number(value)
    if number is not None:
        return number
    if isinstance(value, str):
        return value
    if callable(value):
        return str(getattr(value, "__name__", value))
    try:
        return json.dumps(value, separators=(", ", ": "), sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(value)


def session_status(status: str) -> str:
    """The TensorBoard session status (``STATUS_*``) for a sparkexp trial status.

    Example:
        >>> session_status("complete"), session_status("error")
        ('STATUS_SUCCESS', 'STATUS_FAILURE')
    """
    return _SESSION_STATUS.get(status, "STATUS_UNKNOWN")


def remove_trial_hparams(logdir: str) -> int:
    """Remove the HParams event files of earlier attempts from a trial's ``logdir``.

    A re-run trial (``max_trial_retries``) writes to the same directory; TensorBoard takes a
    run's session from the first such file it reads, so the earlier attempt's session must go.
    Returns how many files were removed.
    """
    from sparkexp.fs import filesystem_for

    fs = filesystem_for(logdir)
    if not fs.isdir(logdir):
        return 0
    removed = 0
    for name in fs.ls(logdir):
        if ".tfevents." in name and name.endswith(HPARAMS_SUFFIX):
            fs.delete(fs.join(logdir, name))
            removed += 1
    return removed


def write_trial_hparams(
    logdir: str,
    params: Mapping[str, Any],
    metrics: Mapping[str, Any],
    *,
    status: str,
    step: int | None = None,
    start_time: float | None = None,
    end_time: float | None = None,
) -> None:
    """Write one trial's HParams session into its TensorBoard ``logdir`` (its own run).

    Args:
        logdir: The trial's TensorBoard directory on any sparkexp filesystem (local,
            ``file://``, ``hdfs://``, ``webhdfs://``).
        params: The trial's hyperparameters; see :func:`hparam_value` for how values are kept.
        metrics: The trial's outputs; finite numbers are written as scalars
            ``final/<name>``, anything else is left out.
        status: sparkexp's trial status (``complete``, ``stopped``, ``timeout``, ``error``);
            shown as the ``trial_status`` column and as the session's status.
        step: The step of the final scalars (default 0).
        start_time: When the trial started (seconds since the epoch; default: now).
        end_time: When it ended (default: now).

    Example:
        >>> write_trial_hparams("/tmp/exp/trial_00001", {"lr": 0.1, "layers": [64, 32]},  # doctest: +SKIP
        ...                     {"accuracy": 0.71, "model": "m.h5"}, status="stopped", step=9)
    """
    from sparkexp.fs import filesystem_for
    from sparkexp.tensorboard import _events

    now = time.time()
    start_secs = float(start_time if start_time is not None else now)
    end_secs = float(end_time if end_time is not None else now)
    values = dict(params)
    values.setdefault(STATUS_PARAM, status)
    hparams = {str(name): value for name, raw in values.items()
               if (value := hparam_value(raw)) is not None}
    scalars = {}
    for name, raw in metrics.items():
        number = as_number(raw)
        if number is not None and math.isfinite(number):
            scalars[METRIC_PREFIX + str(name)] = number

    # "~" sorts after the names of the trial's other event files of the same second: TensorBoard's
    # Python loader reads a run's files in name order and never returns to an earlier one.
    # A synchronous writer of three events (~0.3 ms); tensorboardX's SummaryWriter started and
    # joined a writer thread per file (~2 ms) and its package import loads torch when installed.
    local = filesystem_for(logdir).scheme == "file"  # remote trial folders exist already
    with _events.EventWriter(logdir, suffix=HPARAMS_SUFFIX, create=local) as writer:
        writer.write(_events.event(wall_time=start_secs, summary=_events.hparams_value(
            _START_TAG, _events.session_start(hparams, start_secs))))
        for tag, number in scalars.items():
            writer.write(_events.scalar_event(tag, number, step=step or 0, wall_time=end_secs))
        writer.write(_events.event(wall_time=end_secs, summary=_events.hparams_value(
            _END_TAG, _events.session_end(session_status(status), end_secs))))
