"""Progress of a running experiment: a live table in notebooks, a compact line in terminals.

The driver loop calls :meth:`Progress.update` after every batch of events; implementations
rate-limit themselves, so a fast experiment does not spend its time drawing.

Example:
    >>> p = make_progress(False) is None
    >>> p
    True
"""

from __future__ import annotations

import html
import sys
import time
from collections import Counter
from typing import Any, TextIO

from sparkexp.errors import ConfigError
from sparkexp.status import FINISHED, best_trial
from sparkexp.trial import Trial

__all__ = ["Progress", "TerminalProgress", "NotebookProgress", "make_progress", "snapshot"]


def snapshot(runner: Any) -> dict[str, Any]:
    """What a progress view shows, from a running ``ExperimentRunner``'s ``progress_view()``."""
    view = runner.progress_view()
    trials: list[Trial] = view["trials"]
    return {
        "name": view["name"],
        "total": view["total"],
        "counts": Counter(str(t.status) for t in trials),
        "running": view["running"],
        "best": best_trial(trials, view["direction"]),
        "metric": view["metric"],
        "direction": view["direction"],
        "elapsed": view["elapsed"],
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _line(snap: dict[str, Any]) -> str:
    c = snap["counts"]
    finished = sum(c[s] for s in FINISHED)
    total = snap["total"]
    parts = [f"{finished}/{total}" if total else f"{finished}", "done"]
    detail = ", ".join(f"{c[s]} {s}" for s in ("error", "stopped", "timeout") if c[s])
    text = f"sparkexp {snap['name']}: {' '.join(parts)}"
    if detail:
        text += f" ({detail})"
    text += f", {len(snap['running'])} running"
    best = snap["best"]
    if best is not None:
        text += f", best {snap['metric']}={_fmt(best.metric)} ({best.id})"
    minutes, seconds = divmod(int(snap["elapsed"]), 60)
    return f"{text} [{minutes:02d}:{seconds:02d}]"


class Progress:
    """Base class: draw at most every ``interval`` seconds, and once at the end."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last = 0.0

    def update(self, runner: Any) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.draw(snapshot(runner), final=False)

    def close(self, runner: Any) -> None:
        self.draw(snapshot(runner), final=True)

    def draw(self, snap: dict[str, Any], *, final: bool) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class TerminalProgress(Progress):
    """One compact line: rewritten in place on a terminal, appended in logs (spark-submit)."""

    def __init__(self, stream: TextIO | None = None, interval: float | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        super().__init__(interval if interval is not None else (0.5 if self.tty else 30.0))

    def draw(self, snap: dict[str, Any], *, final: bool) -> None:
        line = _line(snap)
        if self.tty:
            self.stream.write("\r\x1b[K" + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


class NotebookProgress(Progress):
    """A table of running and recently finished trials with best-so-far, updated in place."""

    def __init__(self, interval: float = 0.5, rows: int = 12) -> None:
        super().__init__(interval)
        self.rows = rows
        self._handle: Any = None

    def render(self, snap: dict[str, Any]) -> str:
        """The HTML of the live view."""
        running = snap["running"]
        head = html.escape(_line(snap))
        cells = []
        for t in running[: self.rows]:
            last = t.history[-1] if t.history else {}
            shown = ", ".join(f"{k}={_fmt(v)}" for k, v in last.items() if k != "_time")
            cells.append((t.id, "running", _where(t), t.params, shown))
        best = snap["best"]
        if best is not None:
            cells.append((best.id, "best", _where(best), best.params,
                          f"{snap['metric']}={_fmt(best.metric)}"))
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(tid), html.escape(status), html.escape(where),
                html.escape(", ".join(f"{k}={_fmt(v)}" for k, v in params.items())),
                html.escape(metrics))
            for tid, status, where, params, metrics in cells
        )
        return (
            "<div class='sparkexp-progress'><b>" + head + "</b>"
            "<table><thead><tr><th>trial</th><th>status</th><th>Spark slot / task</th>"
            "<th>params</th><th>last report</th>"
            "</tr></thead><tbody>" + rows + "</tbody></table></div>"
        )

    def draw(self, snap: dict[str, Any], *, final: bool) -> None:
        from IPython.display import HTML, display

        view = HTML(self.render(snap))
        if self._handle is None:
            self._handle = display(view, display_id=True)
        else:
            self._handle.update(view)


def _where(trial: Any) -> str:
    """Where a trial runs in the Spark UI: its slot's job and the task's id."""
    if trial.slot is None:
        return ""
    return f"slot {trial.slot}" + ("" if trial.spark_task is None else f" / task {trial.spark_task}")


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def make_progress(spec: Any) -> Progress | None:
    """A progress view from ``"auto"``, ``True``, ``False``/``None`` or a :class:`Progress`."""
    if spec is None or spec is False:
        return None
    if isinstance(spec, Progress):
        return spec
    if spec is True or spec == "auto":
        return NotebookProgress() if _in_notebook() else TerminalProgress()
    raise ConfigError(f"progress must be 'auto', True, False or a Progress object, got {spec!r}")
