/* sparkexp charts: the drawings the HTML report and the dashboard share.
 *
 * A Model wraps the report payload (sparkexp/report/_data.py html_payload, which is also what
 * the dashboard's /api/experiments/<id>/view returns) and renders each part into a container:
 * best so far, parallel coordinates, parameter effects, the trial table, failures, the
 * timeline of trials per executor slot (plain DOM + SVG), and learning curves (uPlot, vendored
 * under sparkexp/report/vendor/). Every user string goes through textContent or setAttribute,
 * never innerHTML. Exposed as window.SparkexpCharts. */
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var PAGE_SIZES = [25, 50, 100, 500];
  var FAILURES_STEP = 20;
  var STATUS_ORDER = ["complete", "error", "timeout", "stopped", "paused", "running", "queued", "created"];
  var VIRIDIS = ["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"]; // worse -> better

  // ---------------------------------------------------------------- small helpers
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function sv(tag, attrs, children) {
    var node = document.createElementNS(SVGNS, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }
  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = String(v);
      else node.setAttribute(k, String(v));
    });
  }
  function append(node, children) {
    if (children === null || children === undefined) return;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    });
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function fmt(v) {
    if (v === null || v === undefined) return "";
    if (typeof v !== "number") return String(v);
    if (!isFinite(v)) return String(v);
    if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3).replace(/\.?0+e/, "e");
    return String(parseFloat(v.toPrecision(5)));
  }
  function fmtDuration(s) {
    if (!isNum(s)) return "";
    if (s < 1) return (s * 1000).toFixed(0) + " ms";
    if (s < 90) return s.toFixed(s < 10 ? 2 : 1) + " s";
    if (s < 5400) return (s / 60).toFixed(1) + " min";
    return (s / 3600).toFixed(2) + " h";
  }
  function fmtTime(epoch) {
    if (!isNum(epoch)) return "";
    var d = new Date(epoch * 1000);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " +
      p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  }
  function errorSummary(text) {
    if (!text) return "";
    var lines = String(text).replace(/\s+$/, "").split("\n");
    if (/^Traceback \(most recent call last\)/.test(lines[0])) {
      // the exception line is the last unindented line of a Python traceback
      for (var i = lines.length - 1; i > 0; i--) {
        if (lines[i] && !/^\s/.test(lines[i])) return lines[i];
      }
    }
    return lines[0];
  }
  function hint(parent, text) { parent.appendChild(el("p", { "class": "hint", text: text })); }
  function empty(parent, text) { parent.appendChild(el("div", { "class": "empty", text: text })); }
  function hexToRgb(h) { return [1, 3, 5].map(function (i) { return parseInt(h.slice(i, i + 2), 16); }); }
  function ramp(t) {
    t = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
    var i = Math.min(Math.floor(t), VIRIDIS.length - 2), f = t - i;
    var a = hexToRgb(VIRIDIS[i]), b = hexToRgb(VIRIDIS[i + 1]);
    return "rgb(" + a.map(function (x, k) { return Math.round(x + (b[k] - x) * f); }).join(",") + ")";
  }
  function jitter(i) { var x = Math.sin(i * 12.9898 + 78.233) * 43758.5453; return x - Math.floor(x) - 0.5; }

  // ---------------------------------------------------------------- scales and ticks
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
    var err = (hi - lo) / count / step;
    if (err >= 7.5) step *= 10; else if (err >= 3.5) step *= 5; else if (err >= 1.5) step *= 2;
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(parseFloat(v.toPrecision(12)));
    return out;
  }
  function pad(lo, hi) {
    if (lo === hi) { var d = Math.abs(lo) * 0.1 || 1; return [lo - d, hi + d]; }
    var m = (hi - lo) * 0.05;
    return [lo - m, hi + m];
  }
  /* A scale maps a value to [r0, r1]. kind: "linear", "log" or "band" (categories). */
  function makeScale(kind, values, r0, r1, categories) {
    if (kind === "band") {
      var cats = categories || [];
      var pos = {};
      cats.forEach(function (c, i) { pos[c] = i; });
      var n = Math.max(cats.length, 1);
      var f = function (v) { return r0 + (r1 - r0) * ((pos[v] === undefined ? 0 : pos[v]) + 0.5) / n; };
      f.kind = "band"; f.categories = cats; f.step = Math.abs(r1 - r0) / n;
      f.ticks = function () { return cats; };
      return f;
    }
    var xs = values.filter(isNum);
    if (kind === "log") xs = xs.filter(function (v) { return v > 0; });
    var lo = xs.length ? Math.min.apply(null, xs) : 0, hi = xs.length ? Math.max.apply(null, xs) : 1;
    if (kind === "log") {
      var a = Math.log10(lo), b = Math.log10(hi);
      if (a === b) { a -= 0.5; b += 0.5; } else { var m = (b - a) * 0.04; a -= m; b += m; }
      var g = function (v) { return v > 0 ? r0 + (r1 - r0) * (Math.log10(v) - a) / (b - a) : NaN; };
      g.kind = "log";
      g.ticks = function () {
        var t = [];
        for (var e = Math.ceil(a); e <= Math.floor(b); e++) t.push(Math.pow(10, e));
        if (t.length < 2) t = [Math.pow(10, a), Math.pow(10, b)].map(function (v) { return parseFloat(v.toPrecision(2)); });
        return t;
      };
      return g;
    }
    var d = pad(lo, hi);
    var h = function (v) { return r0 + (r1 - r0) * (v - d[0]) / (d[1] - d[0]); };
    h.kind = "linear";
    var ints = xs.length > 0 && xs.every(Number.isInteger);
    h.ticks = function (count) {
      var t = niceTicks(d[0], d[1], count || 5);
      var whole = t.filter(Number.isInteger);  // no 2.5 layers for an integer parameter
      return ints && whole.length >= 2 ? whole : t;
    };
    return h;
  }
  function dotsPath(points) {
    // one <path> of zero-length segments with round caps: thousands of dots, one element
    return points.map(function (p) { return "M" + p[0].toFixed(1) + " " + p[1].toFixed(1) + "h0"; }).join("");
  }
  function bandLabels(scale, maxLabels) {
    var cats = scale.categories, every = Math.max(1, Math.ceil(cats.length / maxLabels));
    return cats.filter(function (_, i) { return i % every === 0; });
  }
  function clip(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "\u2026" : s; }

  // ---------------------------------------------------------------- tooltip
  var tooltip = null;
  function showTip(evt, text) {
    if (!tooltip) {
      tooltip = document.getElementById("tooltip");
      if (!tooltip) { tooltip = el("div", { id: "tooltip" }); document.body.appendChild(tooltip); }
    }
    tooltip.textContent = text;
    tooltip.style.display = "block";
    var x = evt.clientX + 14, y = evt.clientY + 14;
    var w = tooltip.offsetWidth, h = tooltip.offsetHeight;
    if (x + w > window.innerWidth - 8) x = evt.clientX - w - 14;
    if (y + h > window.innerHeight - 8) y = evt.clientY - h - 14;
    tooltip.style.left = x + "px";
    tooltip.style.top = y + "px";
  }
  function hideTip() { if (tooltip) tooltip.style.display = "none"; }


  // ---------------------------------------------------------------- the data the charts read
  /* data: the report payload (sparkexp/report/_data.py html_payload; the dashboard API's view). */
  function Model(data) {
    this.data = data;
    this.exp = data.experiment;
    this.maximize = data.experiment.direction !== "min";
    this.rows = data.trials;
    this.params = data.params;
    this.done = this.rows.filter(function (r) { return r.status === "complete" && isNum(r.metric); });
    var ms = this.done.map(function (r) { return r.metric; });
    this.mlo = ms.length ? Math.min.apply(null, ms) : 0;
    this.mhi = ms.length ? Math.max.apply(null, ms) : 1;
  }
  Model.prototype.better = function (a, b) { return this.maximize ? a > b : a < b; };
  /* 0 = worst completed metric, 1 = best */
  Model.prototype.goodness = function (m) {
    if (this.mhi === this.mlo) return 1;
    var t = (m - this.mlo) / (this.mhi - this.mlo);
    return this.maximize ? t : 1 - t;
  };
  Model.prototype.describe = function (r) {
    var lines = [r.id + "  [" + r.status + "]", this.exp.metric + " = " + (isNum(r.metric) ? fmt(r.metric) : "\u2014")];
    this.params.forEach(function (p, i) { lines.push(p.name + " = " + fmt(r.params[i])); });
    if (r.error) lines.push(errorSummary(r.error));
    return lines.join("\n");
  };


  // ---------------------------------------------------------------- summary tiles
  Model.prototype.renderSummary = function (s) {
    var counts = this.data.counts, rows = this.rows;
    var tiles = el("div", { "class": "tiles" });
    tiles.appendChild(el("div", { "class": "tile" }, [el("div", { "class": "k", text: "Trials" }), el("div", { "class": "v", text: rows.length })]));
    var statuses = Object.keys(counts).sort(function (a, b) {
      var ia = STATUS_ORDER.indexOf(a), ib = STATUS_ORDER.indexOf(b);
      return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || (a < b ? -1 : 1);
    });
    statuses.forEach(function (st) {
      tiles.appendChild(el("div", { "class": "tile", "data-status": st }, [
        el("div", { "class": "k" }, el("span", { "class": "badge " + st, text: st })),
        el("div", { "class": "v", text: counts[st] })]));
    });
    var best = this.data.best === null ? null : rows[this.data.best];
    tiles.appendChild(el("div", { "class": "tile best" }, [
      el("div", { "class": "k", text: "Best " + this.exp.metric + (this.maximize ? " (max)" : " (min)") }),
      el("div", { "class": "v", id: "best-metric", text: best ? fmt(best.metric) : "\u2014" }),
      best ? el("div", { "class": "id", text: best.id }) : null]));
    s.appendChild(tiles);
    if (best) {
      var kv = el("div", { "class": "kv", id: "best-params" });
      this.params.forEach(function (p, i) {
        kv.appendChild(el("span", null, [el("b", { text: p.name + " " }), fmt(best.params[i])]));
      });
      if (best.duration !== null) kv.appendChild(el("span", null, [el("b", { text: "duration " }), fmtDuration(best.duration)]));
      s.appendChild(kv);
    } else if (this.data.objectives) {
      empty(s, "Several objectives have no single best trial: see the Pareto front.");
    } else if (rows.length) {
      empty(s, "No trial completed with a metric, so there is no best trial.");
    } else {
      empty(s, "This experiment has no trials yet.");
    }
  };


  // ---------------------------------------------------------------- several objectives
  /* The Pareto front (data.objectives, data.pareto: row indexes): the first two objectives as
     a scatter (front trials dark), and a table of the front's trials with every objective and
     hyperparameter. The section stays hidden with one objective. */
  Model.prototype.renderPareto = function (s) {
    var objectives = this.data.objectives, self = this, pareto = this.data.pareto || [];
    if (!objectives) return;
    s.hidden = false;
    var names = objectives.map(function (o) { return o.metric; });
    var col = function (name) { return self.data.outputs.indexOf(name); };
    var value = function (r, name) {
      return name === self.exp.metric ? r.metric : r.outputs[col(name)];
    };
    var front = {};
    pareto.forEach(function (i) { front[i] = true; });
    hint(s, pareto.length + " trial(s) on the front of " + objectives.map(function (o) {
      return o.metric + " (" + o.direction + ")"; }).join(", ") + "; infeasible trials are never on it.");
    var pts = this.rows.map(function (r, i) { return { r: r, i: i, x: value(r, names[0]), y: value(r, names[1]) }; })
      .filter(function (p) { return p.r.status === "complete" && isNum(p.x) && isNum(p.y); });
    var W = 520, H = 300, L = 60, R = 16, T = 16, B = 44;
    var x = makeScale("linear", pts.map(function (p) { return p.x; }), L, W - R);
    var y = makeScale("linear", pts.map(function (p) { return p.y; }), H - B, T);
    var svg = sv("svg", { "class": "chart pareto", viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": names[1] + " against " + names[0], "data-front": pareto.length });
    var axis = sv("g", { "class": "axis" });
    x.ticks(5).forEach(function (v) { axis.appendChild(sv("text", { x: x(v), y: H - B + 16, "text-anchor": "middle", text: fmt(v) })); });
    y.ticks(5).forEach(function (v) { axis.appendChild(sv("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", text: fmt(v) })); });
    axis.appendChild(sv("line", { x1: L, x2: W - R, y1: H - B, y2: H - B }));
    axis.appendChild(sv("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "class": "title", text: names[0] }));
    axis.appendChild(sv("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle",
      transform: "rotate(-90 12 " + (T + H - B) / 2 + ")", text: names[1] }));
    svg.appendChild(axis);
    [[false, "#9ca3af"], [true, "#111827"]].forEach(function (g) {
      var sel = pts.filter(function (p) { return !!front[p.i] === g[0]; });
      svg.appendChild(sv("path", { "class": g[0] ? "front" : "dominated", d: dotsPath(sel.map(function (p) { return [x(p.x), y(p.y)]; })),
        stroke: g[1], "stroke-width": g[0] ? 8 : 5, "stroke-linecap": "round", "data-points": sel.length }));
    });
    s.appendChild(el("figure", null, svg));
    var head = el("tr", null, [el("th", { text: "trial" })].concat(names.map(function (n) { return el("th", { text: n }); }))
      .concat(this.params.map(function (p) { return el("th", { text: p.name }); })));
    var body = el("tbody");
    pareto.forEach(function (i) {
      var r = self.rows[i];
      body.appendChild(el("tr", { "data-id": r.id }, [el("td", { text: r.id })]
        .concat(names.map(function (n) { return el("td", { text: fmt(value(r, n)) }); }))
        .concat(r.params.map(function (v) { return el("td", { text: v === null ? "" : fmt(v) }); }))));
    });
    s.appendChild(el("table", { "class": "settings", id: "pareto-table" }, [el("thead", null, head), body]));
  };

  // ---------------------------------------------------------------- settings
  Model.prototype.renderSettings = function (s) {
    var st = this.data.settings || {};
    var keys = Object.keys(st);
    if (!keys.length) { empty(s, "No settings were recorded (no experiment.json)."); return; }
    var tb = el("tbody");
    keys.forEach(function (k) {
      var v = st[k];
      var when = /^(created|started|finished)$/.test(k) && isNum(v) && v > 1e9;  // epoch seconds
      var value = v !== null && typeof v === "object" ? el("pre", { text: JSON.stringify(v, null, 2) })
        : (when ? fmtTime(v) : fmt(v === null ? "None" : v));
      tb.appendChild(el("tr", null, [el("td", { "class": "key", text: k }), el("td", null, value)]));
    });
    s.appendChild(el("table", { "class": "settings" }, tb));
  };


  // ---------------------------------------------------------------- best so far
  Model.prototype.renderProgress = function (s) {
    var self = this;
    var hasTime = this.done.some(function (r) { return isNum(r.finished); });
    hint(s, "Each dot is a completed trial; the line is the best " + this.exp.metric + " found up to that point.");
    if (!this.done.length) { empty(s, "No completed trials with a metric yet."); return; }
    var select = el("select", { id: "progress-x", "aria-label": "x axis" }, [
      hasTime ? el("option", { value: "time", text: "by finish time" }) : null,
      el("option", { value: "index", text: "by trial index" })]);
    s.appendChild(el("div", { "class": "toolbar" }, [el("label", { text: "x axis " }, select)]));
    var holder = el("div");
    s.appendChild(holder);
    var draw = function () { holder.replaceChildren(self.progressChart(select.value)); };
    select.addEventListener("change", draw);
    draw();
  };
  Model.prototype.progressChart = function (mode) {
    var self = this, W = 1000, H = 300, L = 64, R = 20, T = 14, B = 40;
    var t0 = Infinity;
    this.rows.forEach(function (r) {
      if (isNum(r.started)) t0 = Math.min(t0, r.started);
      if (isNum(r.finished)) t0 = Math.min(t0, r.finished);
    });
    var pts = this.done.filter(function (r) { return mode === "index" || isNum(r.finished); }).map(function (r) {
      return { r: r, x: mode === "index" ? r.index : r.finished - t0 };
    });
    pts.sort(function (a, b) { return a.x - b.x || a.r.index - b.r.index; });
    var xs = pts.map(function (p) { return p.x; });
    var xlo = Math.min.apply(null, xs), xhi = Math.max.apply(null, xs);
    var x = makeScale("linear", mode === "index" ? xs : [Math.min(0, xlo), xhi], L, W - R);
    var y = makeScale("linear", [this.mlo, this.mhi], H - B, T);
    var svg = sv("svg", { "class": "chart progress", viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": "best " + this.exp.metric + " so far", "data-points": pts.length, "data-mode": mode });
    var grid = sv("g", { "class": "grid" }), axis = sv("g", { "class": "axis" });
    y.ticks(6).forEach(function (v) {
      grid.appendChild(sv("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      axis.appendChild(sv("text", { x: L - 8, y: y(v) + 4, "text-anchor": "end", text: fmt(v) }));
    });
    x.ticks(8).forEach(function (v) {
      if (mode === "index" && !Number.isInteger(v)) return;
      axis.appendChild(sv("line", { x1: x(v), x2: x(v), y1: H - B, y2: H - B + 4 }));
      axis.appendChild(sv("text", { x: x(v), y: H - B + 17, "text-anchor": "middle", text: mode === "index" ? fmt(v) : fmtDuration(v) }));
    });
    axis.appendChild(sv("line", { x1: L, x2: W - R, y1: H - B, y2: H - B }));
    axis.appendChild(sv("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle",
      text: mode === "index" ? "trial index" : "time since the experiment started" }));
    axis.appendChild(sv("text", { x: 14, y: (T + H - B) / 2, "text-anchor": "middle",
      transform: "rotate(-90 14 " + (T + H - B) / 2 + ")", text: this.exp.metric }));
    svg.appendChild(grid);
    svg.appendChild(axis);
    svg.appendChild(sv("path", { "class": "dots", d: dotsPath(pts.map(function (p) { return [x(p.x), y(p.r.metric)]; })),
      stroke: "#94a3b8", "stroke-width": pts.length > 2000 ? 3 : 6, "stroke-linecap": "round", "stroke-opacity": 0.8 }));
    var line = [], best = null;
    pts.forEach(function (p) {
      var px = x(p.x);
      if (best !== null) line.push(px.toFixed(1) + "," + y(best).toFixed(1));
      // an infeasible trial (constraints violated) is never the best
      if (p.r.feasible !== false && (best === null || self.better(p.r.metric, best))) best = p.r.metric;
      line.push(px.toFixed(1) + "," + y(best).toFixed(1));
    });
    svg.appendChild(sv("polyline", { "class": "best-line", points: line.join(" "), fill: "none", stroke: "#2563eb", "stroke-width": 2.2 }));
    var b = this.data.best === null ? null : this.rows[this.data.best];
    var bp = b && pts.filter(function (p) { return p.r === b; })[0];
    if (bp) {
      svg.appendChild(sv("circle", { cx: x(bp.x), cy: y(b.metric), r: 5.5, fill: "#2563eb", stroke: "#fff", "stroke-width": 2 },
        sv("title", { text: "best: " + b.id + "  " + fmt(b.metric) })));
    }
    return svg;
  };


  // ---------------------------------------------------------------- parallel coordinates
  Model.prototype.dimensions = function (top, bottom) {
    var self = this;
    var dims = this.params.map(function (p, i) {
      var values = self.done.map(function (r) { return r.params[i]; });
      var kind = p.kind === "categorical" ? "band" : (p.log ? "log" : "linear");
      var present = p.kind === "categorical" ? p.categories.filter(function (c) {
        return self.done.some(function (r) { return r.params[i] === c; });
      }) : null;
      return { name: p.name, kind: kind, get: function (r) { return r.params[i]; },
        scale: makeScale(kind, values, bottom, top, present) };
    });
    dims.push({ name: this.exp.metric, kind: "linear", metric: true, get: function (r) { return r.metric; },
      scale: makeScale("linear", [this.mlo, this.mhi], bottom, top) });
    return dims;
  };
  Model.prototype.renderParallel = function (s) {
    var self = this;
    hint(s, "One line per completed trial across every hyperparameter and the metric; colour shows the metric " +
      "(darker is better). Hover a line for its trial.");
    if (!this.done.length) { empty(s, "No completed trials with a metric yet."); return; }
    var legend = el("div", { "class": "legend" }, [el("span", { text: "worse " + fmt(this.maximize ? this.mlo : this.mhi) })]);
    var bar = el("span", { "class": "ramp" });
    bar.style.background = "linear-gradient(to right, " + VIRIDIS.join(", ") + ")";
    legend.appendChild(bar);
    legend.appendChild(el("span", { text: fmt(this.maximize ? this.mhi : this.mlo) + " better" }));
    s.appendChild(legend);
    var T = 44, Bm = 30, H = 400, W = 1000, L = 60, R = 60;
    var dims = this.dimensions(T, H - Bm);
    var gap = dims.length > 1 ? (W - L - R) / (dims.length - 1) : 0;
    var xOf = function (k) { return dims.length > 1 ? L + k * gap : W / 2; };
    var missingY = H - Bm + 16;
    var svg = sv("svg", { "class": "chart pc", viewBox: "0 0 " + W + " " + (H + 8), role: "img",
      "aria-label": "parallel coordinates", "data-lines": this.done.length, "data-axes": dims.length });
    var lines = sv("g", { "class": "lines" });
    var order = this.done.slice().sort(function (a, b) { return self.goodness(a.metric) - self.goodness(b.metric); });
    var many = order.length > 400;
    var bestRow = this.data.best === null ? null : this.rows[this.data.best];
    order.forEach(function (r) {
      var pts = dims.map(function (d, k) {
        var v = d.get(r), py = d.kind === "band" ? d.scale(v) : (isNum(v) ? d.scale(v) : NaN);
        return xOf(k).toFixed(1) + "," + (isFinite(py) ? py : missingY).toFixed(1);
      });
      lines.appendChild(sv("polyline", { points: pts.join(" "), stroke: ramp(self.goodness(r.metric)),
        "stroke-width": r === bestRow ? 3 : (many ? 1 : 1.6), "stroke-opacity": r === bestRow ? 1 : (many ? 0.35 : 0.75),
        "class": r === bestRow ? "best" : null, "data-index": r.index, "data-id": r.id }));
    });
    svg.appendChild(lines);
    var byId = {};
    this.done.forEach(function (r) { byId[r.id] = r; });
    var lastHl = null;
    lines.addEventListener("pointerover", function (evt) {
      var t = evt.target;
      if (t.tagName !== "polyline") return;
      if (lastHl) lastHl.classList.remove("hl");
      t.classList.add("hl");
      lines.appendChild(t);
      lastHl = t;
      showTip(evt, self.describe(byId[t.getAttribute("data-id")]));
    });
    lines.addEventListener("pointerout", function () { if (lastHl) lastHl.classList.remove("hl"); hideTip(); });
    dims.forEach(function (d, k) {
      var g = sv("g", { "class": "axis", transform: "translate(" + xOf(k).toFixed(1) + ",0)", "data-axis": d.name, "data-scale": d.kind });
      g.appendChild(sv("line", { x1: 0, x2: 0, y1: T, y2: H - Bm, "stroke-width": 1.2 }));
      var ticks = d.kind === "band" ? bandLabels(d.scale, 14) : d.scale.ticks(6);
      ticks.forEach(function (v) {
        var py = d.scale(v);
        if (!(py >= T - 0.5 && py <= H - Bm + 0.5)) return;
        var right = d.metric && dims.length > 1;  // the metric axis is last: label it outside
        g.appendChild(sv("line", { x1: right ? 0 : -4, x2: right ? 4 : 0, y1: py, y2: py }));
        g.appendChild(sv("text", { x: right ? 7 : -7, y: py + 4, "text-anchor": right ? "start" : "end", "class": "halo",
          text: d.kind === "band" ? clip(v, 14) : fmt(v) }));
      });
      var anchor = k === 0 ? "start" : (k === dims.length - 1 ? "end" : "middle");
      g.appendChild(sv("text", { x: anchor === "start" ? -8 : (anchor === "end" ? 8 : 0), y: T - 16, "text-anchor": anchor, "class": "title",
        text: clip(d.name, 22) + (d.kind === "log" ? " (log)" : "") }, sv("title", { text: d.name })));
      if (d.kind !== "band" && !d.metric && self.done.some(function (r) { return !isNum(d.get(r)); })) {
        g.appendChild(sv("text", { x: -7, y: missingY + 4, "text-anchor": "end", text: "missing" }));
      }
      svg.appendChild(g);
    });
    s.appendChild(svg);
  };


  // ---------------------------------------------------------------- per-parameter effects
  Model.prototype.renderEffects = function (s) {
    var self = this;
    hint(s, "The metric against each hyperparameter: a scatter for numbers, grouped points with the median (bar) for categories.");
    if (!this.params.length) { empty(s, "This experiment has no hyperparameters."); return; }
    if (!this.done.length) { empty(s, "No completed trials with a metric yet."); return; }
    var grid = el("div", { "class": "effects" });
    this.params.forEach(function (p, i) { grid.appendChild(el("figure", null, self.effectChart(p, i))); });
    s.appendChild(grid);
  };
  Model.prototype.effectChart = function (p, i) {
    var W = 360, H = 240, L = 56, R = 12, T = 24, B = 44;
    var rows = this.done;
    var kind = p.kind === "categorical" ? "band" : (p.log ? "log" : "linear");
    var cats = kind === "band" ? p.categories.filter(function (c) { return rows.some(function (r) { return r.params[i] === c; }); }) : null;
    var x = makeScale(kind, rows.map(function (r) { return r.params[i]; }), L, W - R, cats);
    var y = makeScale("linear", [this.mlo, this.mhi], H - B, T);
    var svg = sv("svg", { "class": "chart effect", viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": this.exp.metric + " by " + p.name, "data-param": p.name, "data-kind": p.kind });
    var grid = sv("g", { "class": "grid" }), axis = sv("g", { "class": "axis" });
    y.ticks(5).forEach(function (v) {
      grid.appendChild(sv("line", { x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      axis.appendChild(sv("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", text: fmt(v) }));
    });
    var xt = kind === "band" ? bandLabels(x, 8) : x.ticks(5);
    xt.forEach(function (v) {
      var px = x(v);
      if (!(px >= L - 0.5 && px <= W - R + 0.5)) return;
      axis.appendChild(sv("line", { x1: px, x2: px, y1: H - B, y2: H - B + 4 }));
      axis.appendChild(sv("text", { x: px, y: H - B + 16, "text-anchor": "middle", text: kind === "band" ? clip(v, 12) : fmt(v) }));
    });
    axis.appendChild(sv("line", { x1: L, x2: W - R, y1: H - B, y2: H - B }));
    axis.appendChild(sv("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "class": "title",
      text: clip(p.name, 40) + (kind === "log" ? " (log)" : "") }));
    axis.appendChild(sv("text", { x: 12, y: (T + H - B) / 2, "text-anchor": "middle",
      transform: "rotate(-90 12 " + (T + H - B) / 2 + ")", text: clip(this.exp.metric, 24) }));
    svg.appendChild(grid);
    svg.appendChild(axis);
    var pts = [], missing = 0;
    rows.forEach(function (r) {
      var v = r.params[i];
      if (kind !== "band" && (!isNum(v) || (kind === "log" && v <= 0))) { missing++; return; }
      var px = x(v) + (kind === "band" ? jitter(r.index) * Math.min(x.step * 0.5, 40) : 0);
      pts.push([px, y(r.metric)]);
    });
    svg.setAttribute("data-points", pts.length);
    svg.appendChild(sv("path", { "class": "dots", d: dotsPath(pts), stroke: "#2563eb",
      "stroke-opacity": rows.length > 1000 ? 0.25 : 0.6, "stroke-width": rows.length > 1000 ? 3 : 6, "stroke-linecap": "round" }));
    if (kind === "band") {
      x.categories.forEach(function (c) {
        var ms = rows.filter(function (r) { return r.params[i] === c; }).map(function (r) { return r.metric; }).sort(function (a, b) { return a - b; });
        if (!ms.length) return;
        var med = ms.length % 2 ? ms[(ms.length - 1) / 2] : (ms[ms.length / 2 - 1] + ms[ms.length / 2]) / 2;
        var half = Math.min(x.step * 0.35, 50);
        svg.appendChild(sv("line", { "class": "median", x1: x(c) - half, x2: x(c) + half, y1: y(med), y2: y(med), stroke: "#111827", "stroke-width": 2.2 },
          sv("title", { text: c + ": median " + fmt(med) + " of " + ms.length })));
      });
    }
    if (missing) svg.appendChild(sv("text", { x: W - R, y: T - 8, "text-anchor": "end", text: missing + " without a value not shown" }));
    return svg;
  };


  // ---------------------------------------------------------------- trial table
  Model.prototype.columns = function () {
    var cols = [
      { key: "index", label: "#", num: true, get: function (r) { return r.index; } },
      { key: "id", label: "trial", get: function (r) { return r.id; } },
      { key: "status", label: "status", get: function (r) { return r.status; }, badge: true },
      { key: "metric", label: this.exp.metric, num: true, get: function (r) { return r.metric; } },
    ];
    this.params.forEach(function (p, i) {
      cols.push({ key: "param:" + p.name, label: p.name, num: p.kind === "numeric", get: function (r) { return r.params[i]; } });
    });
    (this.data.outputs || []).forEach(function (name, i) {
      cols.push({ key: "output:" + name, label: name, num: true, mixed: true, get: function (r) { return r.outputs[i]; } });
    });
    cols.push({ key: "duration", label: "duration", num: true, get: function (r) { return r.duration; }, show: fmtDuration });
    cols.push({ key: "finished", label: "finished", num: true, get: function (r) { return r.finished; }, show: fmtTime });
    cols.push({ key: "host", label: "host", get: function (r) { return r.host; } });
    cols.push({ key: "error", label: "error", get: function (r) { return r.error ? errorSummary(r.error) : null; }, err: true });
    return cols;
  };
  /* opts.state: an object that keeps sort, filters and page across redraws (the dashboard
   * redraws as trials change); opts.statusFilter: a status selector; opts.onRow(row): rows
   * are clickable. */
  Model.prototype.renderTable = function (s, opts) {
    var self = this;
    opts = opts || {};
    var cols = this.columns();
    var state = opts.state || {};
    if (state.key === undefined) {
      state.key = "index"; state.dir = 1; state.filter = ""; state.status = ""; state.page = 0;
      state.size = this.rows.length > 100 ? 50 : 100;
    }
    hint(s, "Click a column header to sort (missing values always last). " +
      (this.rows.length > 100 ? "Large experiments are shown a page at a time." : ""));
    if (!this.rows.length) { empty(s, "No trials."); return; }
    var search = el("input", { type: "search", id: "trial-filter", placeholder: "Filter: id, status, value, error\u2026", "aria-label": "filter trials" });
    search.value = state.filter;
    var statusSel = null;
    if (opts.statusFilter) {
      var present = Object.keys(this.data.counts || {});
      statusSel = el("select", { id: "status-filter", "aria-label": "status" }, [el("option", { value: "", text: "every status" })].concat(
        STATUS_ORDER.filter(function (st) { return present.indexOf(st) >= 0 || st === state.status; }).map(function (st) {
          return el("option", { value: st, text: st + " (" + (self.data.counts[st] || 0) + ")", selected: st === state.status ? "selected" : null });
        })));
      statusSel.addEventListener("change", function () { state.status = statusSel.value; state.page = 0; update(); });
    }
    var sizeSel = el("select", { id: "page-size", "aria-label": "rows per page" }, PAGE_SIZES.map(function (n) {
      return el("option", { value: n, text: n + " rows", selected: n === state.size ? "selected" : null });
    }));
    s.appendChild(el("div", { "class": "toolbar" }, [search, statusSel, el("label", null, ["show ", sizeSel])]));
    var thead = el("thead"), tbody = el("tbody"), headRow = el("tr");
    var table = el("table", { id: "trial-table", "data-total": this.rows.length }, [thead, tbody]);
    cols.forEach(function (c) {
      var btn = el("button", { type: "button", "data-key": c.key, text: c.label, title: "sort by " + c.label });
      var th = el("th", { scope: "col", "data-key": c.key, "aria-sort": c.key === state.key ? "ascending" : "none" }, btn);
      btn.addEventListener("click", function () {
        if (state.key === c.key) state.dir = -state.dir;
        else { state.key = c.key; state.dir = c.key === "metric" && self.maximize ? -1 : 1; }
        state.page = 0;
        update();
      });
      headRow.appendChild(th);
    });
    thead.appendChild(headRow);
    s.appendChild(el("div", { "class": "table-wrap" }, table));
    var info = el("span", { id: "page-info" });
    var prev = el("button", { type: "button", id: "page-prev", text: "\u2039 prev" });
    var next = el("button", { type: "button", id: "page-next", text: "next \u203a" });
    s.appendChild(el("div", { "class": "pager" }, [info, prev, next]));
    prev.addEventListener("click", function () { state.page--; draw(); });
    next.addEventListener("click", function () { state.page++; draw(); });
    sizeSel.addEventListener("change", function () { state.size = +sizeSel.value; state.page = 0; draw(); });
    search.addEventListener("input", function () { state.filter = search.value.trim().toLowerCase(); state.page = 0; update(); });
    var bestRow = this.data.best === null ? null : this.rows[this.data.best];
    var haystack = null, view = [];

    function compare(col, dir) {
      return function (a, b) {
        var va = col.get(a), vb = col.get(b);
        var na = va === null || va === undefined || va === "", nb = vb === null || vb === undefined || vb === "";
        if (na || nb) return na && nb ? a.index - b.index : (na ? 1 : -1);
        var c;
        if (typeof va === "number" && typeof vb === "number") c = va - vb;
        else if (typeof va === "number") c = -1;
        else if (typeof vb === "number") c = 1;
        else c = String(va).localeCompare(String(vb), undefined, { numeric: true });
        return c * dir || a.index - b.index;
      };
    }
    function update() {
      var rows = self.rows;
      if (state.filter) {
        if (!haystack) haystack = rows.map(function (r) {
          return [r.id, r.status, r.host || "", r.error || ""].concat(r.params.map(fmt)).join("\u0001").toLowerCase();
        });
        rows = rows.filter(function (_, k) { return haystack[k].indexOf(state.filter) >= 0; });
      } else {
        rows = rows.slice();
      }
      if (state.status) rows = rows.filter(function (r) { return r.status === state.status; });
      var col = cols.filter(function (c) { return c.key === state.key; })[0];
      rows.sort(compare(col, state.dir));
      view = rows;
      headRow.querySelectorAll("th").forEach(function (th) {
        th.setAttribute("aria-sort", th.getAttribute("data-key") === state.key ? (state.dir > 0 ? "ascending" : "descending") : "none");
      });
      draw();
    }
    function cell(c, r) {
      var v = c.get(r);
      if (c.badge) return el("td", null, el("span", { "class": "badge " + v, text: v }));
      var text = c.show ? c.show(v) : fmt(v);
      var cls = c.err ? "err" : (typeof v === "number" ? "num" : "str");
      var attrs = { "class": cls, text: text };
      if (c.err || (cls === "str" && text.length > 30)) attrs.title = text;
      if (c.key === "id" && r === bestRow) return el("td", { "class": "str" }, [text, " ", el("span", { "class": "badge", title: "best trial", text: "\u2605 best" })]);
      return el("td", attrs);
    }
    function draw() {
      var pages = Math.max(1, Math.ceil(view.length / state.size));
      state.page = Math.max(0, Math.min(state.page, pages - 1));
      var start = state.page * state.size, end = Math.min(view.length, start + state.size);
      var frag = document.createDocumentFragment();
      for (var k = start; k < end; k++) {
        var r = view[k];
        var tr = el("tr", { "data-id": r.id, "class": (r === bestRow ? "best" : "") + (opts.onRow ? " click" : "") || null });
        for (var c = 0; c < cols.length; c++) tr.appendChild(cell(cols[c], r));
        frag.appendChild(tr);
      }
      tbody.replaceChildren(frag);
      table.setAttribute("data-page", state.page);
      table.setAttribute("data-shown", view.length);
      info.textContent = view.length ? "rows " + (start + 1).toLocaleString("en") + "\u2013" + end.toLocaleString("en") +
        " of " + view.length.toLocaleString("en") + (view.length < self.rows.length ? " (filtered from " + self.rows.length.toLocaleString("en") + ")" : "")
        : "no trial matches the filter";
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
    }
    if (opts.onRow) {
      tbody.addEventListener("click", function (evt) {
        var tr = evt.target.closest ? evt.target.closest("tr[data-id]") : null;
        if (!tr) return;
        var id = tr.getAttribute("data-id");
        var row = self.rows.filter(function (r) { return r.id === id; })[0];
        if (row) opts.onRow(row);
      });
    }
    update();
  };


  // ---------------------------------------------------------------- failures
  Model.prototype.renderFailures = function (s) {
    var self = this;
    var failed = this.rows.filter(function (r) { return r.status === "error" || r.status === "timeout" || r.error; });
    s.setAttribute("data-failures", failed.length);
    if (!failed.length) { empty(s, "No trial failed."); return; }
    hint(s, failed.length + " trial" + (failed.length === 1 ? "" : "s") + " failed. Click one to read its full traceback.");
    var groups = {}, order = [];
    failed.forEach(function (r) {
      var k = errorSummary(r.error) || "(" + r.status + ", no error message)";
      if (!groups[k]) { groups[k] = 0; order.push(k); }
      groups[k]++;
    });
    if (order.length > 1) {
      order.sort(function (a, b) { return groups[b] - groups[a]; });
      var tb = el("tbody");
      order.slice(0, 10).forEach(function (k) {
        tb.appendChild(el("tr", null, [el("td", { "class": "count", text: groups[k] }), el("td", { "class": "err", title: k, text: k })]));
      });
      s.appendChild(el("table", { "class": "groups" }, [el("thead", null, el("tr", null, [el("th", { text: "trials" }),
        el("th", { text: "error" + (order.length > 10 ? " (10 most common of " + order.length + ")" : "") })])), tb]));
    }
    var list = el("div", { id: "failure-list" });
    s.appendChild(list);
    var more = el("button", { type: "button", "class": "more" });
    s.appendChild(more);
    var shown = 0;
    function showMore() {
      failed.slice(shown, shown + FAILURES_STEP).forEach(function (r) {
        var params = self.params.map(function (p, i) { return p.name + "=" + fmt(r.params[i]); }).join("  ");
        list.appendChild(el("details", { "class": "failure", "data-id": r.id }, [
          el("summary", null, [el("span", { "class": "id", text: r.id }), el("span", { "class": "badge " + r.status, text: r.status }),
            el("span", { "class": "msg", text: errorSummary(r.error) || "(no error message recorded)" })]),
          el("div", { "class": "body" }, [el("div", { "class": "params", text: params + (r.host ? "  host=" + r.host : "") }),
            el("pre", { "class": "traceback", text: r.error || "" })])]));
      });
      shown = Math.min(failed.length, shown + FAILURES_STEP);
      more.textContent = "show " + Math.min(FAILURES_STEP, failed.length - shown) + " more of " + (failed.length - shown);
      more.style.display = shown < failed.length ? "" : "none";
    }
    more.addEventListener("click", showMore);
    showMore();
  };

  // ---------------------------------------------------------------- timeline of slots
  /* One lane per executor slot, one bar per trial attempt from start to finish (running ones
   * up to now), coloured by status: the gaps between bars are the slot's idle time. */
  var STATUS_COLOR = { complete: "#16a34a", error: "#dc2626", timeout: "#ea580c", stopped: "#6b7280",
    paused: "#a855f7", running: "#2563eb", queued: "#cbd5e1", created: "#cbd5e1" };
  Model.prototype.renderTimeline = function (s, now) {
    var self = this;
    hint(s, "Each lane is one trial slot (an executor task); each bar a trial from start to end, coloured by status. " +
      "Gaps are idle time. Hover a bar for its trial.");
    var rows = this.rows.filter(function (r) { return isNum(r.started); });
    if (!rows.length) { empty(s, "No trial has started yet."); return; }
    var end = isNum(now) ? now : Date.now() / 1000;
    var lanes = {}, order = [], t0 = Infinity, t1 = -Infinity;
    rows.forEach(function (r) {
      var key = (r.executor !== null && r.executor !== undefined ? "executor " + r.executor : (r.host || "?")) +
        (r.slot !== null && r.slot !== undefined ? " \u00b7 slot " + r.slot : "");
      if (!lanes[key]) { lanes[key] = []; order.push(key); }
      var stop = isNum(r.finished) ? r.finished : (r.status === "running" ? Math.max(end, r.started) : r.started);
      lanes[key].push({ r: r, a: r.started, b: stop });
      t0 = Math.min(t0, r.started); t1 = Math.max(t1, stop);
    });
    order.sort(function (a, b) { return a.localeCompare(b, undefined, { numeric: true }); });
    var laneH = 22, L = 190, R = 16, T = 8, B = 34, W = 1000;
    var H = T + B + order.length * laneH;
    var x = makeScale("linear", [0, Math.max(t1 - t0, 1e-3)], L, W - R);
    var svg = sv("svg", { "class": "chart timeline", viewBox: "0 0 " + W + " " + H, role: "img",
      "aria-label": "timeline of trials per slot", "data-lanes": order.length, "data-bars": rows.length });
    var axis = sv("g", { "class": "axis" }), grid = sv("g", { "class": "grid" });
    x.ticks(8).forEach(function (v) {
      if (v < 0) return;
      grid.appendChild(sv("line", { x1: x(v), x2: x(v), y1: T, y2: H - B }));
      axis.appendChild(sv("text", { x: x(v), y: H - B + 16, "text-anchor": "middle", text: fmtDuration(v) || "0" }));
    });
    axis.appendChild(sv("text", { x: (L + W - R) / 2, y: H - 4, "text-anchor": "middle", text: "time since the first trial started" }));
    svg.appendChild(grid);
    svg.appendChild(axis);
    var bars = sv("g", { "class": "bars" }), byId = {};
    order.forEach(function (key, k) {
      var y = T + k * laneH, items = lanes[key].sort(function (a, b) { return a.a - b.a; });
      var busy = 0;
      items.forEach(function (it) { busy += it.b - it.a; });
      var span = Math.max(t1 - items[0].a, 1e-9);
      var idle = Math.max(0, 1 - busy / span);
      axis.appendChild(sv("text", { x: L - 8, y: y + laneH / 2 + 4, "text-anchor": "end", text: clip(key, 26) + "  " + Math.round(idle * 100) + "% idle" },
        sv("title", { text: key + ": busy " + fmtDuration(busy) + ", idle " + Math.round(idle * 100) + "% since its first trial" })));
      items.forEach(function (it) {
        var x0 = x(it.a - t0), x1 = Math.max(x(it.b - t0), x0 + 1.5);
        byId[it.r.id] = it.r;
        bars.appendChild(sv("rect", { x: x0.toFixed(1), y: y + 3, width: (x1 - x0).toFixed(1), height: laneH - 6, rx: 2,
          fill: STATUS_COLOR[it.r.status] || "#94a3b8", "data-id": it.r.id, "class": "bar " + it.r.status }));
      });
    });
    bars.addEventListener("pointerover", function (evt) {
      var id = evt.target.getAttribute && evt.target.getAttribute("data-id");
      if (id && byId[id]) showTip(evt, self.describe(byId[id]) + "\n" + fmtDuration((isNum(byId[id].finished) ? byId[id].finished : end) - byId[id].started));
    });
    bars.addEventListener("pointerout", hideTip);
    svg.appendChild(bars);
    s.appendChild(svg);
  };

  // ---------------------------------------------------------------- learning curves (uPlot)
  var CURVE_COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777",
    "#4b5563", "#65a30d", "#7c3aed", "#0f766e"];
  /* The metrics each trial reported while it ran (reporter.log), one line per trial against
   * step. histories: {trialId: [{step, _time, <metric>: value, ...}, ...]}; opts.key: the
   * metric to draw (default: the experiment's metric when reported, else the first one). */
  function metricKeys(histories) {
    var keys = [];
    Object.keys(histories).forEach(function (id) {
      histories[id].forEach(function (rep) {
        Object.keys(rep).forEach(function (k) {
          if (k !== "step" && k !== "_time" && isNum(rep[k]) && keys.indexOf(k) < 0) keys.push(k);
        });
      });
    });
    return keys;
  }
  function curvesChart(histories, key, width, xLabel) {
    var ids = Object.keys(histories).filter(function (id) { return histories[id].some(function (r) { return isNum(r[key]); }); });
    var steps = {}, xs = [];
    ids.forEach(function (id) {
      histories[id].forEach(function (r, k) {
        var st = isNum(r.step) ? r.step : k;
        if (isNum(r[key]) && !steps[st]) { steps[st] = true; xs.push(st); }
      });
    });
    xs.sort(function (a, b) { return a - b; });
    var pos = {};
    xs.forEach(function (v, i) { pos[v] = i; });
    var data = [xs];
    ids.forEach(function (id) {
      var ys = xs.map(function () { return null; });
      histories[id].forEach(function (r, k) {
        var st = isNum(r.step) ? r.step : k;
        if (isNum(r[key])) ys[pos[st]] = r[key];
      });
      data.push(ys);
    });
    var series = [{ label: "step" }].concat(ids.map(function (id, i) {
      return { label: id, stroke: CURVE_COLORS[i % CURVE_COLORS.length], width: 1.6, spanGaps: true,
        points: { show: xs.length <= 60, size: 4 } };
    }));
    var holder = el("div", { "class": "curves", "data-series": ids.length, "data-points": xs.length, "data-key": key });
    if (!ids.length) { empty(holder, "No trial reported " + key + " yet."); return holder; }
    var opts = { width: width, height: 300, series: series, legend: { live: true },
      scales: { x: { time: false } }, axes: [{ label: xLabel || "step" }, { label: key }], cursor: { drag: { x: true, y: false } } };
    holder.uplot = new window.uPlot(opts, data, holder);
    return holder;
  }
  Model.prototype.renderCurves = function (s, histories, opts) {
    opts = opts || {};
    hint(s, opts.hint || "What trials reported while they ran (reporter.log), against step. Drag to zoom, double-click to reset.");
    var keys = metricKeys(histories);
    if (!keys.length) { empty(s, opts.emptyText || "No trial reported intermediate metrics."); return; }
    var state = opts.state || {};
    if (keys.indexOf(state.key) < 0) state.key = keys.indexOf(this.exp.metric) >= 0 ? this.exp.metric : keys[0];
    var select = el("select", { "class": "curve-key", "aria-label": "metric" }, keys.map(function (k) {
      return el("option", { value: k, text: k, selected: k === state.key ? "selected" : null });
    }));
    s.appendChild(el("div", { "class": "toolbar" }, [el("label", null, ["metric ", select])]));
    var holder = el("div");
    s.appendChild(holder);
    var width = Math.max(320, (s.clientWidth || 960) - 40);
    var draw = function () { holder.replaceChildren(curvesChart(histories, state.key, width)); };
    select.addEventListener("change", function () { state.key = select.value; draw(); });
    draw();
  };

  window.SparkexpCharts = {
    Model: Model, el: el, sv: sv, fmt: fmt, fmtDuration: fmtDuration, fmtTime: fmtTime, isNum: isNum,
    errorSummary: errorSummary, empty: empty, curvesChart: curvesChart, hint: hint, clip: clip, metricKeys: metricKeys,
    STATUS_ORDER: STATUS_ORDER, STATUS_COLOR: STATUS_COLOR
  };

})();
