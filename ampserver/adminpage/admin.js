// Live status page of the AMPS server's admin interface. It polls
// ./status.json once a second (the server computes the rates) and keeps the
// last two minutes of total rates for the chart. Everything is built with
// DOM calls, never from HTML strings: client and topic names are not
// trusted markup.
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var HISTORY = 120;
  var history = [];
  var samples = 0;

  function el(tag, attrs) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === undefined || c === null) continue;
      e.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
    }
    return e;
  }
  function sv(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function fmtInt(v) { return Math.round(v || 0).toLocaleString("en-US"); }
  function fmtRate(v) {
    if (v === undefined || v === null) return "–";
    return v >= 100 ? v.toFixed(0) : v.toFixed(1);
  }
  function setText(id, text) { document.getElementById(id).textContent = text; }

  function num(field, value, text) {
    return el("td", {"class": "num", "data-field": field, "data-value": value === undefined || value === null ? "" : value}, text);
  }

  function fillRows(id, rows, cols) {
    var tbody = document.querySelector("#" + id + " tbody");
    while (tbody.firstChild) tbody.removeChild(tbody.firstChild);
    if (!rows.length) {
      tbody.appendChild(el("tr", null, el("td", {"class": "empty", colspan: cols}, "none")));
      return;
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function topics(st) {
    var max = st.topics.reduce(function (m, t) { return Math.max(m, t.sow_records); }, 0);
    return st.topics.map(function (t) {
      var bar = t.sow && max > 0 ? el("span", {"class": "sowbar", style: "width:" + Math.max(2, 80 * t.sow_records / max) + "px"}) : null;
      return el("tr", {"data-topic": t.name},
        el("td", {"data-field": "name"}, t.name),
        el("td", null, t.sow ? "yes" : "no"),
        el("td", {"class": "num", "data-field": "sow_records", "data-value": t.sow_records}, bar, t.sow ? fmtInt(t.sow_records) : "–"),
        num("messages_in", t.messages_in, fmtInt(t.messages_in)),
        num("messages_out", t.messages_out, fmtInt(t.messages_out)),
        num("in_rate", t.in_rate, fmtRate(t.in_rate)),
        num("out_rate", t.out_rate, fmtRate(t.out_rate)));
    });
  }

  function clients(st) {
    return st.clients.map(function (c) {
      return el("tr", {"data-client": c.client_name},
        el("td", {"data-field": "name"}, c.client_name || "(not logged on)"),
        el("td", null, c.remote_address),
        el("td", null, c.transport),
        num("subscriptions", c.subscriptions, fmtInt(c.subscriptions)),
        num("messages_in", c.messages_in, fmtInt(c.messages_in)),
        num("messages_out", c.messages_out, fmtInt(c.messages_out)),
        num("in_rate", c.in_rate, fmtRate(c.in_rate)),
        num("out_rate", c.out_rate, fmtRate(c.out_rate)),
        num("queued_bytes", c.queued_bytes, fmtInt(c.queued_bytes)));
    });
  }

  function chart() {
    var box = document.getElementById("chart");
    // Drawn at the box's own width, so that the labels are not stretched.
    var W = Math.max(300, box.clientWidth - 16), H = 140, P = 16;
    var svg = sv("svg", {viewBox: "0 0 " + W + " " + H, width: W, height: H, id: "rate-chart"});
    var max = 1;
    history.forEach(function (h) { max = Math.max(max, h[0], h[1]); });
    [0, 0.5, 1].forEach(function (f) {
      var y = H - P - f * (H - 2 * P);
      svg.appendChild(sv("line", {"class": "axis", x1: 56, x2: W, y1: y, y2: y}));
      svg.appendChild(sv("text", {x: 50, y: y + 4, "text-anchor": "end"}, fmtRate(max * f) + "/s"));
    });
    function line(i, cls) {
      if (history.length < 2) return;
      var pts = history.map(function (h, j) {
        var x = 56 + (W - 56) * (j + HISTORY - history.length) / (HISTORY - 1);
        var y = H - P - (h[i] / max) * (H - 2 * P);
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      svg.appendChild(sv("polyline", {"class": cls, points: pts.join(" ")}));
    }
    line(0, "line-in");
    line(1, "line-out");
    while (box.firstChild) box.removeChild(box.firstChild);
    box.appendChild(svg);
  }

  function render(st) {
    setText("server-name", st.name);
    setText("server-version", st.version);
    setText("updated", "updated " + new Date(st.time).toLocaleTimeString());
    var t = st.totals;
    setText("total-clients", fmtInt(t.clients));
    setText("total-topics", fmtInt(t.topics));
    setText("total-sow", fmtInt(t.sow_records));
    setText("total-in", fmtInt(t.messages_in));
    setText("total-out", fmtInt(t.messages_out));
    setText("total-in-rate", fmtRate(t.in_rate) + " msg/s");
    setText("total-out-rate", fmtRate(t.out_rate) + " msg/s");
    if (t.in_rate !== undefined) {
      history.push([t.in_rate, t.out_rate || 0]);
      if (history.length > HISTORY) history.shift();
    }
    chart();
    fillRows("topics", topics(st), 7);
    fillRows("clients", clients(st), 9);
    document.body.setAttribute("data-samples", String(++samples));
  }

  function setConn(text, cls) {
    var b = document.getElementById("conn");
    b.textContent = text;
    b.className = "badge " + cls;
  }

  function poll() {
    fetch("status.json", {cache: "no-store"}).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (st) { setConn("live", "on"); render(st); },
      function () { setConn("unreachable", "bad"); })
      .then(function () { setTimeout(poll, 1000); });
  }
  poll();
})();
