// Charts: the score history (person page) and the population page's pyramid, Lorenz curve and
// risk bands. Chart.js draws on a <canvas>: no SVG or HTML markup to escape, and no stylesheet
// injected (v3+); it sizes the canvas through element.style (the CSSOM), which a style-src
// 'self' policy allows, unlike style="" attributes or <style> elements. Loaded on demand (its
// own chunk), registering only the parts these charts need. Every canvas has role="img" and an
// aria-label with its figures, and a table beside it holds the same figures; series differ by
// pattern (dashes, point shapes) and legend text as well as colour.
import {
  BarController, BarElement, CategoryScale, Chart, Filler, Legend, LinearScale, LineController, LineElement,
  PointElement, Tooltip,
} from "chart.js";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip, Filler,
  BarController, BarElement, Legend);

const TEXT = "#212b32";
const BLUE = "#005eb8";
const DARK = "#003087";
const GREY = "#4c6272";

export function riskChart(canvas: HTMLCanvasElement, labels: string[], percents: number[]): Chart {
  return new Chart(canvas, {
    type: "line",
    data: {
      labels,
      datasets: [{
        label: "Emergency admission risk (%)",
        data: percents,
        borderColor: BLUE,
        backgroundColor: BLUE,
        pointRadius: 4,
        tension: 0,
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        y: { beginAtZero: true, title: { display: true, text: "Risk (%)" }, ticks: { color: TEXT } },
        x: { ticks: { color: TEXT } },
      },
      plugins: { tooltip: { callbacks: { label: (c) => `${c.parsed.y}%` } } },
    },
  });
}

/**
 * The population pyramid: age bands down the side, females to the left (negative values), males
 * to the right; the axis and tooltips show absolute numbers. Suppressed counts are drawn as 0
 * (the table says "suppressed").
 */
export function pyramidChart(canvas: HTMLCanvasElement, bands: string[], female: (number | null)[], male: (number | null)[]): Chart {
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels: bands,
      datasets: [
        { label: "Females (left)", data: female.map((v) => -(v ?? 0)), backgroundColor: DARK, borderColor: DARK, borderWidth: 1 },
        { label: "Males (right)", data: male.map((v) => v ?? 0), backgroundColor: "#ffffff", borderColor: BLUE, borderWidth: 2 },
      ],
    },
    options: {
      indexAxis: "y",
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { stacked: true, ticks: { color: TEXT, callback: (v) => Math.abs(Number(v)).toLocaleString("en-GB") }, title: { display: true, text: "People", color: TEXT } },
        y: { stacked: true, reverse: true, ticks: { color: TEXT, autoSkip: false }, title: { display: true, text: "Age band (years)", color: TEXT } },
      },
      plugins: {
        legend: { labels: { color: TEXT } },
        tooltip: { callbacks: { label: (c) => `${c.dataset.label?.replace(/ \(.*\)$/, "")}: ${Math.abs(Number(c.parsed.x)).toLocaleString("en-GB")}` } },
      },
    },
  });
}

/** The Lorenz curve of 12-month cost: share of people (x) against share of cost (y), in %. */
export function lorenzChart(canvas: HTMLCanvasElement, points: [number, number][]): Chart {
  const pct = (x: number) => Math.round(x * 1000) / 10;
  return new Chart(canvas, {
    type: "line",
    data: {
      datasets: [
        { label: "Share of cost (Lorenz curve)", data: points.map(([x, y]) => ({ x: pct(x), y: pct(y) })), borderColor: BLUE, backgroundColor: BLUE, pointRadius: 3, pointStyle: "circle", tension: 0 },
        { label: "Line of equality (dashed)", data: [{ x: 0, y: 0 }, { x: 100, y: 100 }], borderColor: GREY, backgroundColor: GREY, borderDash: [6, 4], pointRadius: 0, tension: 0 },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      scales: {
        x: { type: "linear", min: 0, max: 100, title: { display: true, text: "Share of people, least costly first (%)", color: TEXT }, ticks: { color: TEXT } },
        y: { min: 0, max: 100, title: { display: true, text: "Share of cost (%)", color: TEXT }, ticks: { color: TEXT } },
      },
      plugins: {
        legend: { labels: { color: TEXT } },
        tooltip: { callbacks: { label: (c) => `${c.parsed.x}% of people: ${c.parsed.y}% of cost` } },
      },
    },
  });
}

/** People per emergency-admission risk band. Suppressed counts are drawn as 0. */
export function bandsChart(canvas: HTMLCanvasElement, labels: string[], people: (number | null)[]): Chart {
  return new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [{ label: "People", data: people.map((v) => v ?? 0), backgroundColor: BLUE, borderColor: BLUE }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { ticks: { color: TEXT }, title: { display: true, text: "Chance of an emergency admission in the next year", color: TEXT } },
        y: { beginAtZero: true, ticks: { color: TEXT }, title: { display: true, text: "People", color: TEXT } },
      },
      plugins: { legend: { display: false } },
    },
  });
}
