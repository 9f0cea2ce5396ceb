// Live status page of a Flume agent. It reads the status stream at
// ./events (server-sent events; polling ./status.json once a second when
// streams are unavailable) and draws the topology as SVG and each component
// as a card. Everything is built with DOM calls, never from HTML strings,
// since names and reported states are not trusted markup.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var COLUMNS = ["source", "selector", "channel", "sinkprocessor", "sink"];
  var KIND_LABEL = {source: "source", selector: "selector", channel: "channel", sinkprocessor: "sink processor", sink: "sink"};
  var MAIN = {source: "EventAcceptedCount", channel: "EventPutSuccessCount", sink: "EventDrainSuccessCount"};
  var HEADINGS = ["sources", "selectors", "channels", "sink processors", "sinks"];
  var BOX_W = 190, BOX_H = 76, COL_W = 250, ROW_H = 96, PAD = 14, TOP = 34;

  function el(tag, attrs) {
    var e = document.createElement(tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function sv(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    setAttrs(e, attrs);
    for (var i = 2; i < arguments.length; i++) append(e, arguments[i]);
    return e;
  }
  function setAttrs(e, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, String(attrs[k]));
    });
  }
  function append(e, c) {
    if (c === undefined || c === null) return;
    if (Array.isArray(c)) { c.forEach(function (x) { append(e, x); }); return; }
    e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }

  function fmtInt(v) { return Math.round(v).toLocaleString("en-US"); }
  function fmtRate(v) {
    if (v === undefined || v === null) return "–";
    return (v >= 100 ? v.toFixed(0) : v.toFixed(1)) + " ev/s";
  }
  function fillClass(p) { return p >= 95 ? "full" : p >= 75 ? "high" : ""; }
  function isTime(name) { return name === "StartTime" || name === "StopTime"; }
  function isFailure(name) { return /Fail|Error|Failed/.test(name) && !/Percentage/.test(name); }

  // layout assigns every node a column by kind and orders each column by
  // the mean row of its upstream nodes, which keeps edges mostly straight.
  function layout(st) {
    var cols = COLUMNS.map(function () { return []; });
    var pos = {};
    var preds = {};
    st.edges.forEach(function (e) { (preds[e.to] = preds[e.to] || []).push(e.from); });
    st.nodes.forEach(function (n) {
      var c = COLUMNS.indexOf(n.kind);
      cols[c < 0 ? 0 : c].push(n);
    });
    cols.forEach(function (col, ci) {
      col.forEach(function (n) {
        var ps = (preds[n.id] || []).filter(function (p) { return pos[p]; });
        n._key = ps.length ? ps.reduce(function (s, p) { return s + pos[p].row; }, 0) / ps.length : -1;
      });
      col.sort(function (a, b) { return a._key - b._key || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0); });
      col.forEach(function (n, ri) { pos[n.id] = {col: ci, row: ri}; });
    });
    var rows = Math.max.apply(null, cols.map(function (c) { return c.length; }).concat([1]));
    // Centre shorter columns vertically.
    cols.forEach(function (col) {
      var off = (rows - col.length) / 2;
      col.forEach(function (n) {
        var p = pos[n.id];
        p.x = PAD + p.col * COL_W;
        p.y = TOP + (p.row + off) * ROW_H;
      });
    });
    return {pos: pos, width: PAD * 2 + (COLUMNS.length - 1) * COL_W + BOX_W, height: TOP + PAD + rows * ROW_H - (ROW_H - BOX_H)};
  }

  function drawGraph(st) {
    var lay = layout(st);
    var svg = sv("svg", {viewBox: "0 0 " + lay.width + " " + lay.height, id: "topology", role: "img", "aria-label": "agent topology"});
    svg.appendChild(sv("defs", null, sv("marker", {id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse"},
      sv("path", {d: "M 0 0 L 10 5 L 0 10 z", fill: "#667085"}))));
    HEADINGS.forEach(function (h, i) {
      svg.appendChild(sv("text", {x: PAD + i * COL_W + BOX_W / 2, y: 18, "text-anchor": "middle", "class": "heading"}, h));
    });
    st.edges.forEach(function (e) {
      var a = lay.pos[e.from], b = lay.pos[e.to];
      if (!a || !b) return;
      var x1 = a.x + BOX_W, y1 = a.y + BOX_H / 2, x2 = b.x, y2 = b.y + BOX_H / 2, mx = (x1 + x2) / 2;
      svg.appendChild(sv("path", {"class": "edge" + (e.optional ? " optional" : ""), d: "M" + x1 + "," + y1 + " C" + mx + "," + y1 + " " + mx + "," + y2 + " " + x2 + "," + y2, "marker-end": "url(#arrow)"}));
      if (e.label) svg.appendChild(sv("text", {"class": "edge-label", x: mx, y: (y1 + y2) / 2 - 4, "text-anchor": "middle"}, e.label));
    });
    st.nodes.forEach(function (n) {
      var p = lay.pos[n.id];
      var g = sv("g", {"class": "node " + n.kind + (n.error ? " error" : ""), transform: "translate(" + p.x + "," + p.y + ")", "data-id": n.id});
      g.appendChild(sv("title", null, KIND_LABEL[n.kind] + " " + n.name));
      g.appendChild(sv("rect", {"class": "box", width: BOX_W, height: BOX_H, rx: 8, fill: "var(--" + n.kind + ")"}));
      var stateColor = n.state === "running" ? "var(--ok)" : n.state === "starting" ? "var(--warn)" : n.state ? "#98a2b3" : null;
      if (stateColor) g.appendChild(sv("circle", {cx: BOX_W - 12, cy: 13, r: 5, fill: stateColor}));
      g.appendChild(sv("text", {"class": "name", x: 10, y: 18}, clip(n.name, 22)));
      g.appendChild(sv("text", {"class": "kind", x: 10, y: 33}, KIND_LABEL[n.kind] + (n.type ? " · " + clip(n.type, 20) : "")));
      if (n.kind === "channel" && n.fill) {
        var w = BOX_W - 20, p100 = Math.max(0, Math.min(100, n.fill.percent));
        g.appendChild(sv("rect", {"class": "bar-bg", x: 10, y: 41, width: w, height: 10, rx: 3}));
        g.appendChild(sv("rect", {"class": "bar " + fillClass(p100), x: 10, y: 41, width: w * p100 / 100, height: 10, rx: 3}));
        g.appendChild(sv("text", {x: 10, y: 67}, fmtInt(n.fill.size) + " / " + fmtInt(n.fill.capacity) + " · " + fmtRate(n.rate)));
      } else if (MAIN[n.kind]) {
        g.appendChild(sv("text", {x: 10, y: 52}, fmtRate(n.rate)));
        var conn = n.info && n.info.connection;
        if (conn) g.appendChild(sv("text", {x: 10, y: 68, fill: conn === "connected" ? "var(--ok)" : "var(--bad)"}, conn));
        else if (n.counters && MAIN[n.kind] in n.counters) g.appendChild(sv("text", {x: 10, y: 68, "class": "kind"}, fmtInt(n.counters[MAIN[n.kind]]) + " events"));
      } else if (n.details && n.details.length) {
        g.appendChild(sv("text", {"class": "kind", x: 10, y: 52}, clip(n.details[0], 30)));
      }
      svg.appendChild(g);
    });
    return svg;
  }

  function clip(s, n) { s = String(s); return s.length > n ? s.slice(0, n - 1) + "…" : s; }

  function card(n) {
    var c = el("div", {"class": "card " + n.kind, "data-id": n.id});
    var badge = null;
    if (n.state) badge = el("span", {"class": "badge " + (n.state === "running" ? "on" : n.state === "starting" ? "warn" : "off")}, n.state);
    c.appendChild(el("h3", null, el("span", {"class": "name"}, n.name), badge));
    c.appendChild(el("div", {"class": "sub"}, KIND_LABEL[n.kind] + (n.type ? " · " + n.type : "")));
    if (MAIN[n.kind]) c.appendChild(el("div", {"class": "rate", "data-rate": n.rate === undefined ? "" : n.rate}, "rate: " + fmtRate(n.rate)));
    if (n.fill) {
      var p = Math.max(0, Math.min(100, n.fill.percent));
      c.appendChild(el("div", {"class": "fill", title: p.toFixed(1) + "%"}, el("div", {"class": fillClass(p), style: "width:" + p + "%"})));
      c.appendChild(el("div", {"class": "fill-text", "data-fill": n.fill.percent}, fmtInt(n.fill.size) + " of " + fmtInt(n.fill.capacity) + " (" + n.fill.percent.toFixed(1) + "%)"));
    }
    if (n.error) c.appendChild(el("div", {"class": "err"}, "error: " + n.error));
    (n.details || []).forEach(function (d) { c.appendChild(el("div", {"class": "details"}, d)); });
    if (n.info) {
      var it = el("table", {"class": "info"});
      Object.keys(n.info).sort().forEach(function (k) {
        if (n.info[k] === "" || k === "lastError") return;
        it.appendChild(el("tr", null, el("td", {"class": "k"}, k), el("td", {"class": "v", "data-info": k}, n.info[k])));
      });
      c.appendChild(it);
    }
    if (n.counters) {
      var t = el("table", {"class": "counters"});
      Object.keys(n.counters).sort().forEach(function (k) {
        if (isTime(k)) return;
        var r = n.rates && k in n.rates ? n.rates[k].toFixed(1) + "/s" : "";
        t.appendChild(el("tr", null, el("td", {"class": "k"}, k),
          el("td", {"class": "v", "data-counter": k, "data-value": n.counters[k]}, k === "ChannelFillPercentage" ? n.counters[k].toFixed(1) : fmtInt(n.counters[k])),
          el("td", {"class": "r"}, r)));
      });
      c.appendChild(t);
      if (n.counters.StartTime) c.appendChild(el("div", {"class": "details"}, "started " + new Date(n.counters.StartTime).toLocaleString()));
    }
    return c;
  }

  function errors(st) {
    var out = [];
    st.nodes.forEach(function (n) {
      if (n.error) out.push(el("li", {"class": "err"}, KIND_LABEL[n.kind] + " " + n.name + ": " + n.error));
      if (n.state === "starting") out.push(el("li", {"class": "err"}, KIND_LABEL[n.kind] + " " + n.name + " has not started yet (retrying)"));
      Object.keys(n.counters || {}).sort().forEach(function (k) {
        if (isFailure(k) && n.counters[k] > 0) out.push(el("li", null, KIND_LABEL[n.kind] + " " + n.name + ": " + k + " = " + fmtInt(n.counters[k])));
      });
    });
    return out.length ? out : [el("li", {"class": "none"}, "none")];
  }

  function replace(id, children) {
    var e = document.getElementById(id);
    while (e.firstChild) e.removeChild(e.firstChild);
    append(e, children);
  }

  function render(st) {
    document.getElementById("agent-name").textContent = st.agent || "";
    document.getElementById("updated").textContent = "updated " + new Date(st.time).toLocaleTimeString();
    replace("graph", st.nodes.length ? drawGraph(st) : el("p", {"class": "empty"}, "No running components."));
    replace("errors", errors(st));
    replace("components", st.nodes.map(card));
    document.body.setAttribute("data-samples", String(++samples));
  }

  var samples = 0;
  function setConn(text, cls) {
    var b = document.getElementById("conn");
    b.textContent = text;
    b.className = "badge " + cls;
  }

  function poll() {
    fetch("status.json", {cache: "no-store"}).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (st) { setConn("live (polling)", "on"); render(st); },
      function () { setConn("unreachable", "bad"); })
      .then(function () { setTimeout(poll, 1000); });
  }

  function stream() {
    var es = new EventSource("events");
    var got = false;
    es.onmessage = function (m) {
      got = true;
      setConn("live", "on");
      render(JSON.parse(m.data));
    };
    es.onerror = function () {
      if (!got) { es.close(); poll(); return; } // no streams here: poll
      setConn("reconnecting…", "bad");
    };
  }

  if (window.EventSource) stream(); else poll();
})();
