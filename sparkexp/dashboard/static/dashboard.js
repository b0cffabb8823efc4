/* sparkexp dashboard: the experiments list, one experiment, a comparison; live from the API.
 *
 * Every page reads the REST API once, then again each time the server pushes an event on its
 * stream (Server-Sent Events: /api/events, /api/experiments/<id>/events) saying the journal
 * or the manifest changed; it redraws what changed. Without EventSource, or when the stream
 * fails, the page polls the API about once a second instead (the next poll starts when the
 * last one ended). The charts are the HTML report's (charts.js). Every user string goes
 * through textContent or setAttribute, never innerHTML. The page sets data-ready="1" once
 * drawn, data-updates to the number of reads that changed something and data-live to "push"
 * or "poll". */
(function () {
  "use strict";
  var C = window.SparkexpCharts;
  var el = C.el, fmt = C.fmt, fmtDuration = C.fmtDuration, fmtTime = C.fmtTime, isNum = C.isNum;
  var POLL_MS = 1000;
  var HEAVY_ROWS = 2000, HEAVY_EVERY_MS = 5000;
  var meta = document.querySelector('meta[name="sparkexp-token"]');
  var TOKEN = meta ? meta.getAttribute("content") : "";
  var root = document.documentElement;
  var app = document.getElementById("app");

  // ---------------------------------------------------------------- API
  function api(path, method, body) {
    var headers = { "Accept": "application/json" };
    if (TOKEN) headers.Authorization = "Token " + TOKEN;
    var init = { method: method || "GET", headers: headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (resp) {
      return resp.json().catch(function () { return { error: "HTTP " + resp.status }; }).then(function (data) {
        if (!resp.ok) { var e = new Error(data.error || ("HTTP " + resp.status)); e.status = resp.status; throw e; }
        return data;
      });
    });
  }
  function enc(s) { return encodeURIComponent(s); }

  function showError(text) {
    var box = document.getElementById("report-error");
    box.textContent = text;
    box.style.display = text ? "block" : "none";
  }
  function setLive(ok) {
    var live = document.getElementById("live-state");
    live.textContent = ok ? "live" : "not reachable, retrying";
    live.className = ok ? "live" : "live stale";
  }
  function crumbs(parts) {
    var c = document.getElementById("crumbs");
    c.replaceChildren();
    parts.forEach(function (p, i) {
      if (i) c.appendChild(document.createTextNode(" / "));
      c.appendChild(p.href ? el("a", { href: p.href, text: p.text }) : el("span", { text: p.text }));
    });
  }
  function card(id, title) {
    return el("section", { "class": "card", id: id }, el("h2", { text: title }));
  }
  function refill(section, title) {
    section.replaceChildren(el("h2", { text: title }));
    return section;
  }
  function badge(status) { return el("span", { "class": "badge " + status, text: status }); }

  /* Calls step() now and again each time the event stream at streamPath sends a change that
   * wanted(data) accepts (default: every one); one step at a time, events during a step make
   * one more. Without EventSource, or once the stream fails (a proxy that buffers or cuts it,
   * a server that went away), polls instead: step() again POLL_MS after each call settles.
   * step returns a promise of whether it drew something new. */
  function keepLive(step, streamPath, wanted) {
    var updates = 0, busy = false, again = false, polling = false;
    function run() {
      if (busy) { again = true; return; }
      busy = true;
      step().then(function (changed) {
        setLive(true);
        if (changed) root.setAttribute("data-updates", String(++updates));
        root.setAttribute("data-ready", "1");
      }, function (err) {
        setLive(false);
        showError(err && err.message ? err.message : String(err));
        root.setAttribute("data-ready", "1");
      }).then(function () {
        busy = false;
        if (again) { again = false; run(); } else if (polling) window.setTimeout(run, POLL_MS);
      });
    }
    function startPolling() {
      if (polling) return;
      polling = true;
      root.setAttribute("data-live", "poll");
      if (!busy) run();
    }
    run();
    if (!window.EventSource) { startPolling(); return; }
    var source = new EventSource(streamPath);  // same origin: the token's cookie goes with it
    root.setAttribute("data-live", "push");
    source.addEventListener("change", function (ev) {
      var data = null;
      try { data = JSON.parse(ev.data); } catch (e) { data = null; }
      if (!wanted || wanted(data)) run();
    });
    source.onerror = function () { source.close(); startPolling(); };
  }

  // ---------------------------------------------------------------- experiments
  function experimentsPage() {
    crumbs([{ text: "experiments" }]);
    var state = { q: "", state: "", selected: {} };
    var s = card("experiments", "Experiments");
    app.appendChild(s);
    var search = el("input", { type: "search", id: "exp-filter", placeholder: "Search: name, strategy, function\u2026", "aria-label": "search experiments" });
    var stateSel = el("select", { id: "exp-state", "aria-label": "state" }, ["", "running", "finished", "aborted", "killed", "interrupted"].map(function (v) {
      return el("option", { value: v, text: v || "every state" });
    }));
    var compare = el("button", { type: "button", id: "compare-selected", text: "compare selected", disabled: "disabled" });
    s.appendChild(el("div", { "class": "toolbar" }, [search, stateSel, compare]));
    var tbody = el("tbody");
    var table = el("table", { id: "experiment-table" }, [el("thead", null, el("tr", null,
      ["", "experiment", "state", "progress", "trials", "failed", "best", "strategy", "started", "duration"].map(function (h) {
        return el("th", { text: h });
      }))), tbody]);
    s.appendChild(el("div", { "class": "table-wrap" }, table));
    var rootNote = el("p", { "class": "note", id: "project-root" });
    s.appendChild(rootNote);
    var last = "";
    function selectedIds() { return Object.keys(state.selected).filter(function (k) { return state.selected[k]; }); }
    function updateCompare() {
      var ids = selectedIds();
      compare.disabled = ids.length < 2;
      compare.textContent = "compare selected (" + ids.length + ")";
    }
    compare.addEventListener("click", function () { window.location.href = "/compare?ids=" + selectedIds().map(enc).join(","); });
    function draw(data) {
      rootNote.textContent = "project root: " + data.root;
      var frag = document.createDocumentFragment();
      data.experiments.forEach(function (e) {
        var box = el("input", { type: "checkbox", "aria-label": "select " + e.id, "data-id": e.id, checked: state.selected[e.id] ? "checked" : null });
        box.addEventListener("change", function () { state.selected[e.id] = box.checked; updateCompare(); });
        var of = Math.max(e.trials, e.planned || 0);
        var bar = el("span", { "class": "progressbar", title: e.finished_trials + " of " + of + (e.planned ? " planned" : " known") + " trials finished" }, el("span"));
        bar.firstChild.style.width = Math.round(100 * e.progress) + "%";
        frag.appendChild(el("tr", { "data-id": e.id, "data-state": e.state }, [
          el("td", null, box),
          el("td", { "class": "str" }, el("a", { href: "/experiments/" + enc(e.id), text: e.id })),
          el("td", null, [badge(e.state), e.live ? " \u25cf" : null]),
          el("td", null, [bar, " " + e.finished_trials + "/" + of]),
          el("td", { "class": "num", text: e.trials }),
          el("td", { "class": "num", text: e.failed }),
          el("td", { "class": "num", text: e.best ? fmt(e.best.metric) : "" }),
          el("td", { "class": "str", text: e.strategy || "" }),
          el("td", { "class": "str", text: fmtTime(e.created) }),
          el("td", { "class": "num", text: fmtDuration(e.duration) })]));
      });
      tbody.replaceChildren(frag);
      if (!data.experiments.length) tbody.appendChild(el("tr", null, el("td", { colspan: 10, "class": "empty", text: "No experiment matches." })));
      table.setAttribute("data-shown", data.experiments.length);
    }
    function step() {
      var q = "/api/experiments?state=" + enc(state.state) + "&q=" + enc(state.q);
      return api(q).then(function (data) {
        var key = JSON.stringify(data);
        if (key === last) return false;
        last = key;
        draw(data);
        return true;
      });
    }
    var timer = null;
    search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { state.q = search.value.trim(); last = ""; step(); }, 150);
    });
    stateSel.addEventListener("change", function () { state.state = stateSel.value; last = ""; step(); });
    keepLive(step, "/api/events");
  }

  // ---------------------------------------------------------------- one experiment
  function experimentPage(expId) {
    crumbs([{ text: "experiments", href: "/" }, { text: expId }]);
    var base = "/api/experiments/" + enc(expId);
    var header = el("header", { "class": "top" }, [el("h1", { id: "title", text: expId }), el("span", { "class": "sub", id: "subtitle" })]);
    var killBtn = el("button", { type: "button", id: "action-kill", "class": "danger", text: "kill", disabled: "disabled" });
    var retryBtn = el("button", { type: "button", id: "action-retry", text: "retry failed trials", disabled: "disabled" });
    var actionNote = el("span", { "class": "note", id: "action-note" });
    header.appendChild(el("div", { "class": "actions" }, [actionNote, retryBtn, killBtn]));
    app.appendChild(header);
    var ids = [["summary", "Summary"], ["pareto", "Pareto front"], ["progress", "Best so far"], ["parallel", "Parallel coordinates"], ["effects", "Parameter effects"],
      ["curves", "Learning curves"], ["timeline", "Timeline"], ["trials", "Trials"], ["trial-panel", "Trial"], ["failures", "Failures"], ["settings", "Settings"]];
    var sections = {};
    ids.forEach(function (p) { sections[p[0]] = card(p[0], p[1]); app.appendChild(sections[p[0]]); });
    sections.pareto.hidden = true;  // shown by renderPareto when the experiment has several objectives
    var titles = {};
    ids.forEach(function (p) { titles[p[0]] = p[1]; });
    var rows = {}, cursor = 0, spec = null, view = null, model = null, heavyAt = 0, lastDraw = {};
    var tableState = {}, curveState = {}, histories = {}, historyNext = {}, picked = [], autoPick = true;
    var current = null;  // the trial shown in the panel: {id, logs: {stdout: offset, stderr: offset}}
    var following = null;  // the panel's refresh in flight (two at once would append a log twice)

    function buildModel() {
      var list = Object.keys(rows).map(function (k) { return rows[k]; }).sort(function (a, b) { return a.index - b.index; });
      var best = null, front = {}, pareto = [];
      (view.pareto_ids || []).forEach(function (id) { front[id] = true; });
      list.forEach(function (r, i) { if (r.id === view.best_id) best = i; if (front[r.id]) pareto.push(i); });
      model = new C.Model({ experiment: view.experiment, settings: view.settings, counts: view.counts, params: view.params,
        outputs: view.outputs, best: best, trials: list, objectives: view.objectives || null, pareto: pareto });
    }
    function draw(name, fn) {
      var s = refill(sections[name], titles[name]);
      try { fn(s); } catch (err) {
        s.appendChild(el("div", { "class": "empty", text: "could not draw: " + (err && err.message ? err.message : err) }));
        root.setAttribute("data-draw-errors", (+(root.getAttribute("data-draw-errors") || 0) + 1));
      }
      lastDraw[name] = Date.now();
    }
    function drawTable() {
      var focused = document.activeElement && document.activeElement.id === "trial-filter";
      var caret = focused ? document.activeElement.selectionStart : 0;
      draw("trials", function (s) { model.renderTable(s, { state: tableState, statusFilter: true, onRow: openTrial }); });
      if (focused) { var f = document.getElementById("trial-filter"); f.focus(); f.setSelectionRange(caret, caret); }
    }
    function drawHeader() {
      var e = view.experiment;
      document.getElementById("subtitle").textContent = [e.path, "state: " + e.state + (e.live ? " (driver running)" : ""),
        (e.direction === "min" ? "minimize " : "maximize ") + e.metric, "strategy: " + (view.settings.strategy || "?")].join("  \u00b7  ");
      killBtn.disabled = !e.live;
      var failed = (view.counts.error || 0) + (view.counts.timeout || 0);
      retryBtn.disabled = e.live || !failed;
      retryBtn.textContent = "retry failed trials" + (failed ? " (" + failed + ")" : "");
      root.setAttribute("data-state", e.state);
    }
    function pickDefault() {
      // until someone picks trials: the best five with reports, and the running ones
      if (!autoPick) return;
      var done = model.done.slice().sort(function (a, b) { return model.better(a.metric, b.metric) ? -1 : (model.better(b.metric, a.metric) ? 1 : a.index - b.index); });
      var running = model.rows.filter(function (r) { return r.status === "running"; });
      picked = running.slice(0, 5).concat(done.slice(0, 5)).map(function (r) { return r.id; })
        .filter(function (id, i, a) { return a.indexOf(id) === i; });
    }
    function fetchHistories() {
      var wanted = picked.filter(function (id) {
        var r = rows[id];
        return r && (historyNext[id] === undefined || r.status === "running" || r.status === "queued" || historyNext[id + ":status"] !== r.status);
      });
      return Promise.all(wanted.map(function (id) {
        var since = historyNext[id] || 0;
        return api(base + "/trials/" + enc(id) + "/metadata?since=" + since).then(function (m) {
          if (since === 0 || !histories[id]) histories[id] = [];
          histories[id] = histories[id].concat(m.metadata);
          var grew = m.metadata.length > 0 || historyNext[id] === undefined;
          historyNext[id] = m.next;
          historyNext[id + ":status"] = m.status;
          return grew;
        });
      })).then(function (grew) { return grew.some(Boolean); });
    }
    function drawCurves() {
      draw("curves", function (s) {
        var chips = el("div", { "class": "chips", id: "curve-trials" }, [el("span", { "class": "note", text: autoPick ?
          "Showing the best and the running trials; click rows of the trial table to pick others." : "Picked trials (click to remove):" })]);
        picked.forEach(function (id) {
          var b = el("button", { type: "button", "data-id": id, text: id + " \u00d7" });
          b.addEventListener("click", function () { autoPick = false; picked = picked.filter(function (x) { return x !== id; }); drawCurves(); });
          chips.appendChild(b);
        });
        s.appendChild(chips);
        var shown = {};
        picked.forEach(function (id) { if (histories[id]) shown[id] = histories[id]; });
        model.renderCurves(s, shown, { state: curveState, emptyText: "The picked trials reported no intermediate metrics (yet)." });
      });
    }
    /* Summary and table first, so the page answers at once; the charts follow one task each,
     * so clicks and typing are handled between them. data-charts counts finished chart passes. */
    var chartsPass = 0;
    function drawAll(heavy) {
      drawHeader();
      draw("summary", function (s) { model.renderSummary(s); });
      drawTable();
      draw("failures", function (s) { model.renderFailures(s); });
      if (!lastDraw.settings) draw("settings", function (s) { model.renderSettings(s); });
      if (!heavy) return;
      heavyAt = Date.now();
      var pass = ++chartsPass, m = model;
      var jobs = [
        function () { if (m.data.objectives) draw("pareto", function (s) { m.renderPareto(s); }); },
        function () { draw("progress", function (s) { m.renderProgress(s); }); },
        function () { draw("parallel", function (s) { m.renderParallel(s); }); },
        function () { draw("effects", function (s) { m.renderEffects(s); }); },
        function () { draw("timeline", function (s) { m.renderTimeline(s, view.experiment.live ? null : view.settings.finished); }); }
      ];
      (function next(k) {
        if (pass !== chartsPass) return;  // newer data started another pass
        if (k === jobs.length) { root.setAttribute("data-charts", String(pass)); return; }
        jobs[k]();
        window.setTimeout(function () { next(k + 1); }, 0);
      })(0);
    }

    // -- the trial panel: record, traceback, logs (following a running trial)
    function openTrial(r) {
      if (picked.indexOf(r.id) < 0) { autoPick = false; picked.push(r.id); }
      current = { id: r.id, logs: {} };
      var s = refill(sections["trial-panel"], "Trial " + r.id);
      s.setAttribute("data-id", r.id);
      s.appendChild(el("p", { "class": "hint", text: "Loading\u2026" }));
      s.scrollIntoView({ block: "start" });
      refreshTrial(true).then(function () { return fetchHistories(); }).then(drawCurves).catch(function (err) { showError(err.message); });
    }
    function refreshTrial(first) {
      if (!current) return Promise.resolve(false);
      var id = current.id, s = sections["trial-panel"];
      return api(base + "/trials/" + enc(id)).then(function (t) {
        if (!current || current.id !== id) return false;
        if (first) {
          refill(s, "Trial " + id);
          var kv = el("div", { "class": "kv", id: "trial-fields" });
          [["status", t.status], ["metric", fmt(t.metric)], ["attempt", t.attempt], ["host", t.host], ["executor", t.executor],
            ["slot", t.slot], ["Spark task", t.spark_task], ["duration", fmtDuration(t.duration)], ["reports", t.history.length]].forEach(function (p) {
            kv.appendChild(el("span", { "data-field": p[0] }, [el("b", { text: p[0] + " " }), p[1] === null || p[1] === undefined ? "\u2014" : String(p[1])]));
          });
          s.appendChild(kv);
          s.appendChild(el("pre", { "class": "params", text: JSON.stringify(t.params, null, 1) }));
          if (t.error) s.appendChild(el("pre", { "class": "traceback", id: "trial-error", text: t.error }));
          var tbButton = el("button", { type: "button", id: "open-tensorboard", text: "TensorBoard" });
          var tbNote = el("span", { "class": "note", id: "trial-tensorboard" }, [" logdir ", el("code", { text: t.logdir || "" })]);
          tbButton.addEventListener("click", function () {
            tbButton.disabled = true;
            tbNote.textContent = " starting TensorBoard\u2026";
            api(base + "/tensorboard", "POST").then(function (res) {
              tbNote.replaceChildren(" ", el("a", { href: res.url, target: "_blank", rel: "noopener", id: "tensorboard-link", text: res.url }),
                " (run ", el("code", { text: id }), ")");
            }, function (err) { tbNote.textContent = " " + err.message; tbButton.disabled = false; });
          });
          s.appendChild(el("p", { "class": "toolbar" }, [tbButton, tbNote]));
          ["stdout", "stderr"].forEach(function (stream) {
            s.appendChild(el("h3", { text: stream }));
            s.appendChild(el("pre", { "class": "log", id: "log-" + stream, "data-stream": stream, text: "" }));
          });
        } else {
          var st = s.querySelector('[data-field="status"]');
          if (st) st.replaceChildren(el("b", { text: "status " }), t.status);
        }
        return Promise.all(["stdout", "stderr"].map(function (stream) {
          var off = current.logs[stream];
          if (off !== undefined && !(t.status === "running" || first)) return false;
          var q = base + "/trials/" + enc(id) + "/logs?stream=" + stream + (off === undefined ? "" : "&offset=" + off);
          return api(q).then(function (log) {
            if (!current || current.id !== id) return false;
            current.logs[stream] = log.next;
            var pre = document.getElementById("log-" + stream);
            if (!pre || !log.text) return false;
            var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
            pre.appendChild(document.createTextNode(log.text));
            pre.setAttribute("data-bytes", log.next);
            if (atEnd) pre.scrollTop = pre.scrollHeight;
            return true;
          });
        }));
      });
    }

    function followTrial() {
      if (!following) following = refreshTrial(false).finally(function () { following = null; });
      return following;
    }
    // a running trial's logs grow without its journal changing: follow them while it is shown
    window.setInterval(function () {
      var r = current && rows[current.id];
      if (root.getAttribute("data-live") === "push" && r && r.status === "running") followTrial().catch(function () {});
    }, POLL_MS);

    // -- actions
    function act(button, path, body, confirmText) {
      if (confirmText && !window.confirm(confirmText)) return;
      button.disabled = true;
      actionNote.textContent = "working\u2026";
      api(base + path, "POST", body).then(function (res) {
        actionNote.textContent = path === "/kill" ? (res.stopped ? "stopped (" + res.state + ")" : "not confirmed yet") :
          "retry started (action " + res.id + ", pid " + res.pid + ")";
      }, function (err) { actionNote.textContent = err.message; });
    }
    killBtn.addEventListener("click", function () { act(killBtn, "/kill", undefined, "Stop experiment " + expId + "?"); });
    retryBtn.addEventListener("click", function () { act(retryBtn, "/retry", { failed: true }, null); });

    function step() {
      var q = base + "/view?since=" + cursor + (spec ? "&spec=" + enc(spec) : "");
      var asked = performance.now();
      return api(q).then(function (v) {
        if (!root.hasAttribute("data-ready")) root.setAttribute("data-fetch-ms", String(Math.round(performance.now() - asked)));
        var changed = v.full || v.trials.length > 0 || !view || JSON.stringify(v.experiment) !== JSON.stringify(view.experiment);
        if (v.full) rows = {};
        v.trials.forEach(function (r) { rows[r.id] = r; });
        cursor = v.cursor; spec = v.spec; view = v;
        root.setAttribute("data-cursor", String(cursor));
        if (!changed) return Promise.all([fetchHistories(), followTrial()]).then(function (g) {
          if (g[0]) drawCurves();
          return false;
        });
        buildModel();
        pickDefault();
        var n = model.rows.length;
        var heavy = n <= HEAVY_ROWS || !heavyAt || Date.now() - heavyAt > HEAVY_EVERY_MS;
        var t0 = performance.now();
        drawAll(heavy);
        root.setAttribute("data-trials", String(n));
        if (!root.hasAttribute("data-ready")) {
          // interactive now: the summary and the table answer; curves and charts follow
          root.setAttribute("data-first-draw-ms", String(Math.round(performance.now() - t0)));
          root.setAttribute("data-interactive-ms", String(Math.round(performance.now())));
          root.setAttribute("data-ready", "1");
        }
        return Promise.all([fetchHistories(), followTrial()]).then(function () { drawCurves(); return true; });
      });
    }
    keepLive(step, base + "/events");
  }

  // ---------------------------------------------------------------- comparison
  function comparePage(ids) {
    crumbs([{ text: "experiments", href: "/" }, { text: "compare " + ids.join(", ") }]);
    var s1 = card("compare-progress", "Best so far, overlaid"), s2 = card("compare-settings", "Settings and bests side by side");
    app.appendChild(s1);
    app.appendChild(s2);
    if (ids.length < 2) { C.empty(s1, "Pick two or more experiments on the experiments page."); root.setAttribute("data-ready", "1"); return; }
    var last = "";
    function bestSoFar(v) {
      var max = v.experiment.direction !== "min", t0 = Infinity, best = null;
      var done = v.trials.filter(function (r) { return r.status === "complete" && isNum(r.metric) && isNum(r.finished); });
      v.trials.forEach(function (r) { if (isNum(r.started)) t0 = Math.min(t0, r.started); });
      done.sort(function (a, b) { return a.finished - b.finished; });
      return done.map(function (r) {
        if (best === null || (max ? r.metric > best : r.metric < best)) best = r.metric;
        var p = { step: Math.round((r.finished - t0) * 10) / 10 };
        p["best " + v.experiment.metric] = best;
        p.best = best;
        return p;
      });
    }
    function draw(views) {
      var hist = {};
      views.forEach(function (v) { hist[v.experiment.id] = bestSoFar(v); });
      refill(s1, "Best so far, overlaid");
      C.hint(s1, "The best metric each experiment had found, against seconds since its first trial started.");
      var holder = el("div", { id: "compare-chart" });
      s1.appendChild(holder);
      holder.appendChild(C.curvesChart(hist, "best", Math.max(320, (s1.clientWidth || 960) - 40), "seconds since the first trial started"));
      refill(s2, "Settings and bests side by side");
      var keys = ["state", "strategy", "function", "direction", "metric", "max_parallel", "search", "early_stopping", "trial_timeout", "created", "finished"];
      var head = el("tr", null, [el("th", { text: "" })].concat(views.map(function (v) {
        return el("th", null, el("a", { href: "/experiments/" + enc(v.experiment.id), text: v.experiment.id }));
      })));
      var tb = el("tbody");
      function row(label, cells) { tb.appendChild(el("tr", { "data-key": label }, [el("td", { "class": "key", text: label })].concat(cells))); }
      row("trials", views.map(function (v) { return el("td", { text: v.trials.length }); }));
      row("best", views.map(function (v) {
        var b = v.trials.filter(function (r) { return r.id === v.best_id; })[0];
        return el("td", { "class": "num", text: b ? fmt(b.metric) + " (" + b.id + ")" : "\u2014" });
      }));
      row("best params", views.map(function (v) {
        var b = v.trials.filter(function (r) { return r.id === v.best_id; })[0];
        return el("td", null, b ? el("pre", { text: v.params.map(function (p, i) { return p.name + " = " + fmt(b.params[i]); }).join("\n") }) : "\u2014");
      }));
      keys.forEach(function (k) {
        row(k, views.map(function (v) {
          var val = v.settings[k];
          if ((k === "created" || k === "finished") && isNum(val)) return el("td", { text: fmtTime(val) });
          return el("td", null, val !== null && typeof val === "object" ? el("pre", { text: JSON.stringify(val, null, 1) }) : fmt(val === undefined || val === null ? "\u2014" : val));
        }));
      });
      s2.appendChild(el("table", { "class": "settings compare", id: "compare-table" }, [el("thead", null, head), tb]));
    }
    function step() {
      return Promise.all(ids.map(function (id) { return api("/api/experiments/" + enc(id) + "/view"); })).then(function (views) {
        var key = JSON.stringify(views.map(function (v) { return [v.cursor, v.experiment]; }));
        if (key === last) return false;
        last = key;
        draw(views);
        return true;
      });
    }
    var versions = "";
    keepLive(step, "/api/events", function (data) {  // only changes of the compared experiments
      var now = JSON.stringify(ids.map(function (id) { return data && data.experiments ? data.experiments[id] : null; }));
      if (now === versions) return false;
      versions = now;
      return true;
    });
  }

  // ---------------------------------------------------------------- route
  var path = window.location.pathname;
  var m = /^\/experiments\/([^/]+)\/?$/.exec(path);
  if (m) experimentPage(decodeURIComponent(m[1]));
  else if (path === "/compare") {
    var raw = new URLSearchParams(window.location.search).get("ids") || "";
    comparePage(raw.split(",").filter(Boolean));
  } else experimentsPage();
})();
