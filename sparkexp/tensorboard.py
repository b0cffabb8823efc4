"""TensorBoard inside trials: each trial's own logdir.

Example (inside the training function)::

    from sparkexp import tensorboard
    from tensorboardX import SummaryWriter

    def train(lr):
        writer = SummaryWriter(tensorboard.logdir())
        writer.add_scalar("loss", 0.5, 1)
        writer.close()
"""

from __future__ import annotations

from sparkexp.context import current

__all__ = ["logdir"]


def logdir() -> str:
    """This trial's own TensorBoard directory (created, distinct per trial).

    Raises:
        NotInTrialError: when called outside a running trial.
    """
    return current("tensorboard.logdir()").logdir
