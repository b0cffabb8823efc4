"""The one-file HTML report: data as JSON, drawn by inline scripts (no network, no CDN).

The scripts are the vendored uPlot, the charts the dashboard shares (``charts.js``) and the
page itself (``report.js``), all inlined.

The page carries a Content-Security-Policy that allows only its own inline scripts (by
hash) and no network fetches, so even a crafted hyperparameter value cannot run code.

Example:
    >>> from sparkexp.result import Result
    >>> from sparkexp.trial import Trial
    >>> res = Result("/tmp/demo_1", [Trial("trial_00000", 0, {"lr": 0.1}, status="complete",
    ...                                   metric=0.9)])
    >>> page = to_html(res)
    >>> page.startswith("<!DOCTYPE html>") and 'id="report-data"' in page
    True
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
from functools import cache
from importlib import resources

from sparkexp.report._data import html_payload
from sparkexp.report._export import write_text
from sparkexp.result import Result

__all__ = ["to_html", "embed_json"]

# Runs first: records uncaught errors where a reader (or a test) can see them.
_BOOT_JS = (
    "(function(){var errs=[];window.__reportErrors=errs;"
    "function note(m){errs.push(String(m));"
    'document.documentElement.setAttribute("data-report-errors",String(errs.length));}'
    'window.addEventListener("error",function(e){note(e.message||"error");});'
    'window.addEventListener("unhandledrejection",function(e){note(e.reason);});})();'
)
_MARKER = re.compile(r"@@(TITLE|CSP|VERSION|BOOT|STYLE|DATA|UPLOT|CHARTS|SCRIPT)@@")
# Characters that could end the <script> element or confuse an HTML parser, as JSON escapes.
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def embed_json(data: object) -> str:
    """JSON text that is safe inside a ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` are written as ``\\u`` escapes, so ``</script>`` or ``<!--`` in a
    value cannot end the element; ``JSON.parse`` reads the escapes back unchanged.

    >>> embed_json({"x": "</script>"})
    '{"x":"\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


@cache
def _asset(name: str) -> str:
    package, _, file = name.rpartition("/")
    where = "sparkexp.report" + ("." + package if package else "")
    return resources.files(where).joinpath(file).read_text(encoding="utf-8")


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode() + "'"


def to_html(result: Result, out: str | os.PathLike[str] | None = None, *, title: str | None = None) -> str:
    """A self-contained HTML report of an experiment.

    The page shows the settings, a summary (trials by status, best trial), the best metric so
    far over time, a parallel-coordinates plot, the metric against each hyperparameter, a
    sortable and filterable trial table (paged, so 10,000 trials stay fast) and every failure
    with its traceback. It needs no server and makes no network requests.

    Args:
        result: The experiment to report on.
        out: Where to write the HTML as well (local path or filesystem URI); optional.
        title: Page title; defaults to ``"Experiment <name>"``.

    Returns:
        The HTML text.

    Example:
        >>> from sparkexp.result import load          # doctest: +SKIP
        >>> to_html(load("sparkexp-project/Experiments/mnist_3"), "mnist_3.html")  # doctest: +SKIP
    """
    from sparkexp import __version__

    scripts = {"UPLOT": _asset("vendor/uPlot.iife.min.js"), "CHARTS": _asset("charts.js"),
               "SCRIPT": _asset("report.js")}
    style = _asset("vendor/uPlot.min.css") + "\n" + _asset("charts.css")
    for text in (*scripts.values(), _BOOT_JS, style):
        if "</script" in text.lower() or "</style" in text.lower():
            raise AssertionError("an inlined asset contains '</script' or '</style'")  # a packaging mistake
    hashes = " ".join(_sha256(text) for text in (_BOOT_JS, *scripts.values()))
    csp = (
        f"default-src 'none'; script-src {hashes}; "
        "style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
    )
    values = {
        "TITLE": html.escape(title if title is not None else f"Experiment {result.name}"),
        "CSP": html.escape(csp),
        "VERSION": html.escape(__version__),
        "BOOT": _BOOT_JS,
        "STYLE": style,
        "DATA": embed_json(html_payload(result)),
        **scripts,
    }
    # one pass, so a marker-like string inside the data is never substituted again
    page = _MARKER.sub(lambda m: values[m.group(1)], _asset("template.html"))
    return write_text(page, out)
