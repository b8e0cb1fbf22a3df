// The score history chart. Chart.js draws on a <canvas>: no SVG or HTML markup to escape, and no
// stylesheet injected (v3+); it sizes the canvas through element.style (the CSSOM), which a
// style-src 'self' policy allows, unlike style="" attributes or <style> elements. Loaded on
// demand (its own chunk), registering only the parts a line chart needs.
import {
  CategoryScale, Chart, Filler, LinearScale, LineController, LineElement, PointElement, Tooltip,
} from "chart.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Filler);

export function riskChart(canvas: HTMLCanvasElement, labels: string[], percents: number[]): Chart {
  return new Chart(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [{
        label: "Emergency admission risk (%)",
        data: percents,
        borderColor: "#005eb8",
        backgroundColor: "#005eb8",
        pointRadius: 4,
        tension: 0,
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        y: { beginAtZero: true, title: { display: true, text: "Risk (%)" }, ticks: { color: "#212b32" } },
        x: { ticks: { color: "#212b32" } },
      },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.parsed.y}%` } } },
    },
  });
}
