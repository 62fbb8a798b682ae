// Charts come from Chart.js (installed from npm, served by the gateway); this file only
// configures it. Every chart made here is destroyed before a view re-renders.
const live = [];
const COLOURS = ["#b3261e", "#1d5fa8", "#2e7d32", "#8e24aa", "#ef6c00", "#00838f", "#6d4c41",
  "#c2185b", "#546e7a", "#9e9d24", "#3949ab", "#00695c"];

export function destroyCharts() {
  while (live.length) live.pop().destroy();
}

function make(canvas, config) {
  const chart = new window.Chart(canvas, config);
  live.push(chart);
  return chart;
}

/** A small trend line without axes, for a table cell; every sparkline shares the 0–100% scale. */
export function sparkline(canvas, values) {
  return make(canvas, {
    type: "line",
    data: { labels: values.map((_, i) => i), datasets: [{ data: values, borderColor: "#1d5fa8",
      borderWidth: 2, pointRadius: 0, tension: 0.3 }] },
    options: { responsive: false, animation: false, events: [],
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
      scales: { x: { display: false }, y: { display: false, min: 0, max: 1 } } },
  });
}

// Legends in small boxes under the chart: twelve districts take a few lines, not half the card.
const LEGEND = { position: "bottom", labels: { boxWidth: 10, boxHeight: 10, padding: 6, font: { size: 11 } } };

function scales({ axes, percent = false }) {
  const title = (text) => (text ? { display: true, text } : undefined);
  return {
    x: { title: title(axes?.x) },
    y: { beginAtZero: true, title: title(axes?.y),
      ...(percent ? { max: 1, ticks: { callback: (v) => `${Math.round(v * 100)}%` } } : {}) },
  };
}

// The last month is the current, partial one: its segment is dashed (its label carries a *).
const PARTIAL = { borderDash: (ctx) => (ctx.p1DataIndex === ctx.chart.data.labels.length - 1 ? [6, 4] : undefined) };

/** A line chart of several series over the same labels; `percent` formats the y axis as %. */
export function lineChart(canvas, { labels, series, percent = false, axes = null }) {
  return make(canvas, {
    type: "line",
    data: { labels, datasets: series.map((s, i) => ({ label: s.label, data: s.values,
      borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length],
      borderWidth: s.emphasis ? 4 : 2, tension: 0.2, segment: PARTIAL })) },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: LEGEND }, scales: scales({ axes, percent }) },
  });
}

export function barChart(canvas, { labels, series, axes = null }) {
  return make(canvas, {
    type: "bar",
    data: { labels, datasets: series.map((s, i) => ({ label: s.label, data: s.values,
      backgroundColor: COLOURS[i % COLOURS.length] })) },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: LEGEND }, scales: scales({ axes }) },
  });
}
