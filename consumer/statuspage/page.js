// The status page's refresh: fetch the same view as JSON every interval
// and rebuild the tables and the chart. Every value from the server is
// placed with textContent or setAttribute, never parsed as markup.
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var body = document.body;
  var interval = parseInt(body.getAttribute("data-interval-ms"), 10) || 2000;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = String(text); }
    return e;
  }
  function swatch(color) {
    var s = document.createElementNS(SVG, "svg");
    s.setAttribute("width", "10");
    s.setAttribute("height", "10");
    s.setAttribute("aria-hidden", "true");
    var r = document.createElementNS(SVG, "rect");
    r.setAttribute("width", "10");
    r.setAttribute("height", "10");
    r.setAttribute("fill", color);
    s.appendChild(r);
    return s;
  }
  function replaceRows(tbody, rows, empty, cols) {
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    if (rows.length === 0) {
      var tr = el("tr", "empty");
      var td = el("td", "", empty);
      td.setAttribute("colspan", String(cols));
      tr.appendChild(td);
      tbody.appendChild(tr);
      return;
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function consumerRow(c) {
    var tr = el("tr");
    tr.setAttribute("data-consumer", c.name);
    var name = el("td", "name");
    name.appendChild(swatch(c.color));
    name.appendChild(document.createTextNode(" " + c.name));
    tr.appendChild(name);
    tr.appendChild(el("td", "num partitions", c.partitions));
    tr.appendChild(el("td", "num behind", c.behind_text));
    tr.appendChild(el("td", "num lag-age", c.lag_age_text));
    tr.appendChild(el("td", "state", c.state));
    tr.appendChild(el("td", "owner " + (c.owner_present ? "present" : (c.owner ? "gone" : "")), c.owner_text));
    var waiting = el("td", "waiting");
    if (c.waiting_for.length === 0) {
      waiting.textContent = "-";
    }
    c.waiting_for.forEach(function (w) {
      waiting.appendChild(el("div", "writer", "pid " + w.pid + " · xid " + w.transaction_id + " · " + w.age + " · " + w.state + " · " + w.query));
    });
    tr.appendChild(waiting);
    tr.appendChild(el("td", "cursor", c.cursor));
    tr.appendChild(el("td", "updated", c.updated));
    return tr;
  }

  function failureRow(f) {
    var tr = el("tr");
    tr.appendChild(el("td", "", f.consumer));
    tr.appendChild(el("td", "", f.at));
    tr.appendChild(el("td", "num", f.attempts));
    tr.appendChild(el("td", "num", f.position));
    tr.appendChild(el("td", "", f.stopped ? "yes" : "no"));
    var td = el("td");
    td.appendChild(el("pre", "", f.error));
    tr.appendChild(td);
    return tr;
  }

  function drawChart(chart) {
    var svg = document.getElementById("lag-chart");
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    svg.setAttribute("width", String(chart.width));
    svg.setAttribute("height", String(chart.height));
    svg.setAttribute("viewBox", "0 0 " + chart.width + " " + chart.height);
    var legend = document.getElementById("legend");
    while (legend.firstChild) { legend.removeChild(legend.firstChild); }
    chart.lines.forEach(function (l) {
      var line = document.createElementNS(SVG, "polyline");
      line.setAttribute("data-consumer", l.consumer);
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", l.color);
      line.setAttribute("stroke-width", "2");
      line.setAttribute("points", l.points);
      svg.appendChild(line);
      var item = el("span");
      item.appendChild(swatch(l.color));
      item.appendChild(document.createTextNode(" " + l.consumer));
      legend.appendChild(item);
    });
    document.getElementById("chart-max").textContent = chart.max_text;
    document.getElementById("window").textContent = chart.window;
  }

  function render(v) {
    document.getElementById("generated").textContent = v.generated_at;
    document.getElementById("error").textContent = v.error || "";
    replaceRows(document.querySelector("#consumers tbody"), v.consumers.map(consumerRow), "No consumer has a checkpoint yet.", 9);
    replaceRows(document.querySelector("#failures tbody"), v.failures.map(failureRow), "No consumer has failed.", 6);
    drawChart(v.chart);
    body.setAttribute("data-updates", String((parseInt(body.getAttribute("data-updates"), 10) || 0) + 1));
  }

  function refresh() {
    var url = window.location.pathname + "?format=json";
    fetch(url, { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) { throw new Error("status " + r.status); }
        return r.json();
      })
      .then(render)
      .catch(function (err) {
        document.getElementById("error").textContent = "refreshing failed: " + err.message;
      })
      .then(function () { window.setTimeout(refresh, interval); });
  }
  window.setTimeout(refresh, Math.min(interval, 1000));
})();
