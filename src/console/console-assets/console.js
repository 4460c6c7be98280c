// The console's progressive enhancement: charts. Each chart is a <figure data-chart="name">
// holding a <script type="application/json"> with its points ({x: [unix seconds], series:
// [{label, values}], unit}); without JavaScript the figure's table still shows the numbers.
// Drawn charts are kept in window.consoleCharts (tests read their points back).

(() => {
  var palette = ["#2457c5", "#c0392b", "#1e8449", "#8e44ad", "#b9770e"];
  window.consoleCharts = {};

  function draw(figure) {
    var source = figure.querySelector("script[type='application/json']");
    var target = figure.querySelector(".chart");
    if (!source || !target) return;
    var data = JSON.parse(source.textContent);
    var width = Math.max(280, target.clientWidth || 600);
    var options = {
      width: width,
      height: 220,
      scales: { x: { time: data.time !== false } },
      axes: [{}, { size: 70 }],
      series: [{ label: data.xLabel || "day" }].concat(
        data.series.map((s, i) => ({
          label: s.label,
          stroke: palette[i % palette.length],
          width: 2,
          value: (_u, v) =>
            v == null ? "-" : v.toLocaleString() + (data.unit ? ` ${data.unit}` : ""),
        })),
      ),
    };
    var points = [data.x].concat(data.series.map((s) => s.values));
    var chart = new uPlot(options, points, target);
    window.consoleCharts[figure.dataset.chart] = chart;
    figure.dataset.drawn = String(data.x.length);
    window.addEventListener("resize", () => {
      chart.setSize({ width: Math.max(280, target.clientWidth), height: 220 });
    });
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  // A form submits once: a second click while the first is on its way does nothing (the
  // server's idempotency key covers what gets through anyway).
  function submitOnce() {
    document.querySelectorAll("form[method='post']").forEach((form) => {
      form.addEventListener("submit", (event) => {
        if (event.defaultPrevented) return;
        if (form.dataset.submitting) {
          event.preventDefault();
          return;
        }
        form.dataset.submitting = "1";
      });
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("figure[data-chart]").forEach(draw);
    confirmForms();
    submitOnce();
  });
})();
