/* Charts of the admin front page (Chart.js, served from our static files). Data: the "wx-board-data" JSON. */
(() => {
  const source = document.getElementById("wx-board-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const names = data.names;
  const palette = ["#2b6cb0", "#38a169", "#d69e2e", "#805ad5", "#dd6b20", "#319795", "#e53e3e", "#718096"];
  const common = { responsive: true, maintainAspectRatio: false, animation: false, interaction: { mode: "index", intersect: false } };

  const growth = data.growth;
  new Chart(document.getElementById("chart-growth"), {
    data: {
      labels: growth.labels,
      datasets: [
        { type: "bar", label: names.new, data: growth.series.new, backgroundColor: "#38a169", yAxisID: "y" },
        { type: "bar", label: names.cancel, data: growth.series.cancel.map((n) => -n), backgroundColor: "#e53e3e", yAxisID: "y" },
        { type: "line", label: names.net, data: growth.series.net, borderColor: "#d69e2e", backgroundColor: "#d69e2e", yAxisID: "y", tension: 0.2 },
        { type: "line", label: names.cumulate, data: growth.series.cumulate, borderColor: "#2b6cb0", backgroundColor: "#2b6cb0", yAxisID: "total", tension: 0.2, pointRadius: 0 },
      ],
    },
    options: {
      ...common,
      scales: {
        x: { stacked: true },
        y: { stacked: false, position: "left" },
        total: { position: "right", grid: { drawOnChartArea: false } },
      },
    },
  });

  const messages = data.messages;
  new Chart(document.getElementById("chart-messages"), {
    type: "bar",
    data: {
      labels: messages.labels,
      datasets: Object.entries(messages.series).map(([type, counts], i) => ({ label: type, data: counts, backgroundColor: palette[i % palette.length] })),
    },
    options: { ...common, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });

  const sends = data.sends;
  const sendsCanvas = document.getElementById("chart-sends");
  if (sendsCanvas) {
    new Chart(sendsCanvas, {
      type: "bar",
      data: {
        labels: sends.labels,
        datasets: [
          { label: names.delivered, data: sends.delivered, backgroundColor: "#38a169" },
          { label: names.failed, data: sends.failed, backgroundColor: "#e53e3e" },
        ],
      },
      options: { ...common, indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } },
    });
  }
})();
