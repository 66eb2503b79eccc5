/* reelrank console: confirmations, schema templates and Chart.js charts from the page's JSON. */
(function () {
  "use strict";

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }

  function schemaTemplates() {
    document.querySelectorAll("select[data-schema-templates]").forEach(function (select) {
      var source = document.getElementById(select.getAttribute("data-schema-templates"));
      if (!source) { return; }
      var templates = JSON.parse(source.textContent);
      var form = select.form;
      var text = form.querySelector("textarea[name=schema]");
      var name = form.querySelector("input[name=name]");
      var schemaName = form.querySelector("input[name=schemaName]");
      var previous = select.value;
      select.addEventListener("change", function () {
        var known = Object.keys(templates).some(function (kind) { return templates[kind] === text.value; });
        if (known || !text.value.trim()) { text.value = templates[select.value] || ""; }
        [name, schemaName].forEach(function (input) {
          if (input) { input.value = input.value.replace(previous.toLowerCase(), select.value.toLowerCase()); }
        });
        previous = select.value;
      });
    });
  }

  var PALETTE = ["#3b6ff5", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899", "#84cc16",
                 "#f97316", "#64748b", "#14b8a6", "#a855f7"];

  function chartConfig(kind, series, label) {
    var base = {responsive: true, maintainAspectRatio: false, animation: false,
                plugins: {legend: {display: false}}};
    if (kind === "line") {
      return {type: "line", data: {labels: series.labels, datasets: [{label: label, data: series.values,
        borderColor: PALETTE[0], backgroundColor: "rgba(59,111,245,0.15)", fill: true, pointRadius: 0,
        tension: 0.2}]}, options: base};
    }
    if (kind === "tail") {
      base.scales = {y: {type: "logarithmic", title: {display: true, text: "interactions"}},
                     x: {title: {display: true, text: "item rank by popularity"}, ticks: {maxTicksLimit: 10}}};
      return {type: "line", data: {labels: series.labels, datasets: [{label: label, data: series.values,
        borderColor: PALETTE[1], backgroundColor: "rgba(245,158,11,0.2)", fill: true, pointRadius: 0}]},
        options: base};
    }
    if (kind === "doughnut") {
      base.plugins.legend = {display: true, position: "right"};
      return {type: "doughnut", data: {labels: series.labels, datasets: [{label: label, data: series.values,
        backgroundColor: PALETTE}]}, options: base};
    }
    if (kind === "compare") {
      base.plugins.legend = {display: true};
      base.indexAxis = "y";
      base.scales = {y: {ticks: {autoSkip: false}}};
      return {type: "bar", data: {labels: series.labels, datasets: [
        {label: "model (latest version)", data: series.model, backgroundColor: PALETTE[0]},
        {label: "most popular", data: series.baseline, backgroundColor: PALETTE[9]}]}, options: base};
    }
    base.indexAxis = "y";
    base.scales = {y: {ticks: {autoSkip: false}}};
    return {type: "bar", data: {labels: series.labels, datasets: [{label: label, data: series.values,
      backgroundColor: PALETTE[2]}]}, options: base};
  }

  function charts() {
    var source = document.getElementById("chart-data");
    if (!source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var series = data[canvas.getAttribute("data-chart")];
      if (!series || !series.labels || !series.labels.length) { return; }
      var chart = new window.Chart(canvas, chartConfig(canvas.getAttribute("data-kind"), series,
                                                       canvas.getAttribute("data-label") || ""));
      canvas.setAttribute("data-rendered", String(chart.data.labels.length));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    confirmations();
    schemaTemplates();
    charts();
  });
})();
