"""TensorBoard: each trial's own logdir, HParams for every trial, serving an experiment.

Inside the training function, :func:`logdir` is the trial's own TensorBoard directory (the
trial folder, or a local directory copied there with ``local_logdir=True``). When a trial ends,
sparkexp adds its hyperparameters, final outputs and status as TensorBoard HParams to that
directory, so TensorBoard shows one run per trial and its HParams dashboard compares them.
:func:`start` serves a real TensorBoard over an experiment directory.

Example (inside the training function)::

    from sparkexp import tensorboard
    from tensorboardX import SummaryWriter

    def train(lr):
        writer = SummaryWriter(tensorboard.logdir())
        writer.add_scalar("loss", 0.5, 1)
        writer.close()

Example (on the driver, after or during the experiment)::

    board = tensorboard.start(result.path)     # http://127.0.0.1:<free port>/
    ...
    board.stop()
"""

from __future__ import annotations

from sparkexp.context import current
from sparkexp.tensorboard._server import TensorBoardError, TensorBoardServer, start

__all__ = ["logdir", "start", "TensorBoardServer", "TensorBoardError"]


def logdir() -> str:
    """This trial's own TensorBoard directory (created, distinct per trial).

    With ``local_logdir=True`` it is a local directory on the executor that sparkexp copies
    into the trial folder every 30 seconds and when the trial ends.

    Raises:
        NotInTrialError: when called outside a running trial.
    """
    return current("tensorboard.logdir()").ensure_logdir()
