/* sparkexp experiment report: draws the embedded JSON (see sparkexp/report/_data.py) with
 * the shared charts (charts.js). Every user string goes through textContent or setAttribute,
 * never innerHTML. */
(function () {
  "use strict";
  var C = window.SparkexpCharts;
  var isNum = C.isNum;
  function section(id) { return document.getElementById(id); }

  function Report(data) { C.Model.call(this, data); }
  Report.prototype = Object.create(C.Model.prototype);
  Report.prototype.constructor = Report;

  Report.prototype.renderHeader = function () {
    var e = this.exp;
    var bits = [e.path, "state: " + e.state, (this.maximize ? "maximize " : "minimize ") + e.metric];
    var st = this.data.settings || {};
    if (st.strategy) bits.push("strategy: " + (typeof st.strategy === "string" ? st.strategy : JSON.stringify(st.strategy)));
    section("subtitle").textContent = bits.join("  \u00b7  ");
  };

  // ---------------------------------------------------------------- boot
  function main() {
    var t0 = performance.now();
    var data = JSON.parse(document.getElementById("report-data").textContent);
    var rep = new Report(data);
    var parts = [["renderHeader"], ["renderSummary", "summary"], ["renderPareto", "pareto"], ["renderProgress", "progress"], ["renderParallel", "parallel"],
      ["renderEffects", "effects"], ["renderCurves", "curves"], ["renderTimeline", "timeline"], ["renderTable", "trials"],
      ["renderFailures", "failures"], ["renderSettings", "settings"]];
    var failures = [];
    var finished = isNum(data.settings && data.settings.finished) ? data.settings.finished : null;
    parts.forEach(function (part) {
      var name = part[0], s = part[1] ? section(part[1]) : null;
      try {
        if (name === "renderCurves") rep.renderCurves(s, data.curves || {}, { hint: "What the best trials reported while they ran (reporter.log), against step. Drag to zoom, double-click to reset." });
        else if (name === "renderTimeline") rep.renderTimeline(s, finished);
        else rep[name](s);
      } catch (err) {
        failures.push(name + ": " + (err && err.message ? err.message : err));
        if (window.console) console.error(err);
      }
    });
    if (failures.length) {
      var box = document.getElementById("report-error");
      box.textContent = "Parts of this report could not be drawn: " + failures.join("; ");
      box.style.display = "block";
    }
    document.documentElement.setAttribute("data-render-ms", Math.round(performance.now() - t0));
    document.documentElement.setAttribute("data-report-ready", failures.length ? "partial" : "1");
  }
  main();
})();

