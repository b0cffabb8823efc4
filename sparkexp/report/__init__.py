"""Reports on an experiment: CSV, JSON and a self-contained interactive HTML page.

Example:
    >>> from sparkexp.result import Result
    >>> from sparkexp.trial import Trial
    >>> res = Result("/tmp/demo_1", [
    ...     Trial("trial_00000", 0, {"lr": 0.01, "opt": "adam"}, status="complete", metric=0.91),
    ...     Trial("trial_00001", 1, {"lr": 0.1, "opt": "sgd"}, status="error",
    ...           error="Traceback (most recent call last):\\nValueError: diverged"),
    ... ])
    >>> to_csv(res).splitlines()[0]
    'id,index,status,metric,param.lr,param.opt,started,finished,duration,attempt,host,executor,slot,spark_task,gpus,logdir,error'
    >>> html = to_html(res)            # or to_html(res, "report.html") to write it too
    >>> import json; json.loads(to_json(res))["summary"]["by_status"]
    {'complete': 1, 'error': 1}
"""

from __future__ import annotations

from sparkexp.report._data import html_payload
from sparkexp.report._export import to_csv, to_json
from sparkexp.report._html import embed_json, to_html

__all__ = ["to_csv", "to_json", "to_html", "html_payload", "embed_json"]
