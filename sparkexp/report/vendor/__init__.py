"""Vendored third-party assets, served from the package (clusters are often offline: no CDN).

- ``uPlot.iife.min.js``, ``uPlot.min.css``: uPlot 1.6.32 (MIT, ``uPlot.LICENSE``), the
  learning-curve charts of the HTML report and the dashboard; from ``npm pack uplot@1.6.32``.
"""
