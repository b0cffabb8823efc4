"""SIGTERM during an experiment (spark-submit, a cluster scheduler ending the driver) is handled
like Ctrl-C: running trials are stopped and recorded, then the experiment ends ``interrupted``.

Example::

    previous = install_sigterm()
    try:
        run_the_experiment()          # SIGTERM raises Terminated (a KeyboardInterrupt) here
    finally:
        restore_sigterm(previous)
"""

from __future__ import annotations

import signal
import threading
from typing import Any

__all__ = ["Terminated", "install_sigterm", "restore_sigterm"]


class Terminated(KeyboardInterrupt):
    """SIGTERM during an experiment: handled like Ctrl-C."""


def install_sigterm() -> Any:
    """Make SIGTERM raise :class:`Terminated` in the main thread; the handler it replaced, or
    None when it cannot be installed (not the main thread or interpreter)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def on_sigterm(signum: int, frame: Any) -> None:
        raise Terminated("SIGTERM")

    try:
        return signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not in the main interpreter
        return None


def restore_sigterm(previous: Any) -> None:
    """Put back the handler :func:`install_sigterm` replaced (nothing if it installed none)."""
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)
