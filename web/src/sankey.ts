// The population page's flow diagram of movement between segments from one stratification run to
// the next: a Sankey diagram (chartjs-chart-sankey, Chart.js's maintained plugin by its core
// maintainer), drawn on a <canvas> like the other charts — no markup from data, no stylesheet, no
// eval — in its own chunk, loaded only on the population page. The canvas has role="img" and an
// aria-label stating every flow; the movement table beside it holds the same figures. Suppressed
// flows (null) are not drawn; nor are zero ones.
import { Chart, LinearScale, Tooltip } from "chart.js";
import { Flow, SankeyController } from "chartjs-chart-sankey";

Chart.register(LinearScale, Tooltip, SankeyController, Flow);

const TEXT = "#212b32";
// NHS.UK colours, one per state; flows take the colour of where people came from.
const PALETTE = ["#005eb8", "#007f3b", "#330072", "#ae2573", "#ed8b00", "#00a499", "#41b6e6", "#7c2855", "#425563", "#ffb81c", "#768692", "#003087"];

export interface Movement { model: string; from: string[]; to: string[]; counts: (number | null)[] }

/** The flows drawn: every non-suppressed, non-zero count, as from → to. */
export function flows(m: Movement): { from: number; to: number; count: number }[] {
  const out: { from: number; to: number; count: number }[] = [];
  m.from.forEach((_, i) => m.to.forEach((_, j) => {
    const c = m.counts[i * m.to.length + j];
    if (typeof c === "number" && c > 0) out.push({ from: i, to: j, count: c });
  }));
  return out;
}

/** A node's label: "Tier 4" for "Tier 4: three or more …" (the table and the aria-label have the whole name). */
function short(label: string): string {
  const m = /^([^:]{1,24}):\s/.exec(label);
  return m ? m[1] : label;
}

export function flowChart(canvas: HTMLCanvasElement, m: Movement, fromRun: string, toRun: string): Chart<"sankey"> {
  const labels: Record<string, string> = {};
  const column: Record<string, number> = {};
  const priority: Record<string, number> = {};
  m.from.forEach((f, i) => { labels[`f${i}`] = `${short(f)} (${fromRun})`; column[`f${i}`] = 0; priority[`f${i}`] = i; });
  m.to.forEach((t, j) => { labels[`t${j}`] = `${short(t)} (${toRun})`; column[`t${j}`] = 1; priority[`t${j}`] = j; });
  const colour = (key: string) => PALETTE[Number(key.slice(1)) % PALETTE.length];
  const data = flows(m).map((f) => ({ from: `f${f.from}`, to: `t${f.to}`, flow: f.count }));
  return new Chart(canvas, {
    type: "sankey",
    data: {
      datasets: [{
        label: `${m.model}: movement between segments`,
        data,
        labels,
        column,
        priority,
        colorFrom: (c) => colour(c.raw.from),
        colorTo: (c) => colour(c.raw.to.replace(/^t/, "f")),
        colorMode: "from",
        alpha: 0.55,
        borderColor: TEXT,
        borderWidth: 1,
        color: TEXT,
        nodeWidth: 12,
        size: "max",
        parsing: { from: "from", to: "to", flow: "flow" },
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        tooltip: {
          callbacks: {
            label: (c) => {
              const raw = c.raw as { from: string; to: string; flow: number };
              return `${labels[raw.from]} → ${labels[raw.to]}: ${raw.flow.toLocaleString("en-GB")} people`;
            },
          },
        },
      },
    },
  });
}
