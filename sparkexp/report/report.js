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

  // ---------------------------------------------------------------- lineage (PBT)
  Report.prototype.renderLineage = function (s) {
    var el = C.el, fmt = C.fmt, self = this, byId = {};
    this.rows.forEach(function (r) { byId[r.id] = r; });
    var children = this.rows.filter(function (r) { return r.origin && r.origin.parent; });
    s.setAttribute("data-copies", children.length);
    if (!children.length) { C.empty(s, "No trial started from another trial's checkpoint."); return; }
    C.hint(s, children.length + " trial" + (children.length === 1 ? "" : "s") + " started from a better trial's " +
      "checkpoint with changed hyperparameters (population based training: exploit, then explore). " +
      "A line of the population reads from a first trial down through the trials that copied it.");
    var tb = el("tbody");
    children.forEach(function (r) {
      var o = r.origin, parent = byId[o.parent];
      var changed = Object.keys(o.changed || {}).map(function (k) {
        return k + ": " + fmt(o.changed[k][0]) + " \u2192 " + fmt(o.changed[k][1]);
      }).join(",  ");
      tb.appendChild(el("tr", { "data-id": r.id }, [
        el("td", { "class": "id", text: r.id }),
        el("td", { "class": "id", text: o.parent }),
        el("td", { text: o.step === null || o.step === undefined ? "\u2014" : String(o.step) }),
        el("td", { text: isNum(o.t) ? C.fmtTime(o.t) : "\u2014" }),
        el("td", { text: changed || "(none)" }),
        el("td", { text: parent && isNum(parent.metric) ? fmt(parent.metric) : "\u2014" }),
        el("td", null, el("span", { "class": "badge " + r.status, text: r.status })),
        el("td", { text: isNum(r.metric) ? fmt(r.metric) : "\u2014" })]));
    });
    var head = ["trial", "copied", "at step", "when", "changed", "copied's " + self.exp.metric, "status", self.exp.metric];
    s.appendChild(el("table", { "class": "groups", id: "lineage-table" }, [
      el("thead", null, el("tr", null, head.map(function (h) { return el("th", { text: h }); }))), tb]));
  };

  // ---------------------------------------------------------------- boot
  function main() {
    var t0 = performance.now();
    var data = JSON.parse(document.getElementById("report-data").textContent);
    var rep = new Report(data);
    var parts = [["renderHeader"], ["renderSummary", "summary"], ["renderPareto", "pareto"], ["renderProgress", "progress"], ["renderParallel", "parallel"],
      ["renderEffects", "effects"], ["renderCurves", "curves"], ["renderTimeline", "timeline"], ["renderTable", "trials"],
      ["renderLineage", "lineage"], ["renderFailures", "failures"], ["renderSettings", "settings"]];
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

