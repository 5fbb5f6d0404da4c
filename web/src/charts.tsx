/**
 * Charts of the club room, drawn with Chart.js (tree-shaken: only the line and doughnut
 * pieces are bundled). Numbers are parsed from the API's decimal strings only to draw; every
 * figure shown as text comes from the strings themselves.
 */
import {
  ArcElement,
  CategoryScale,
  Chart,
  DoughnutController,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, DoughnutController, ArcElement, Filler, Tooltip, Legend);
Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
Chart.defaults.animation = false;
Chart.defaults.maintainAspectRatio = false;

const PALETTE = ["#0f766e", "#2563eb", "#d97706", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626", "#475569", "#ca8a04"];

function css(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** A chart bound to a canvas; rebuilt when `key` changes, updated in place otherwise. */
function useChart(build: () => ChartConfiguration, update: (chart: Chart) => void, key: string): RefObject<HTMLCanvasElement | null> {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart | null>(null);
  useEffect(() => {
    if (!canvas.current) return;
    chart.current = new Chart(canvas.current, build());
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, [key]);
  useEffect(() => {
    if (chart.current) {
      update(chart.current);
      chart.current.update("none");
    }
  });
  return canvas;
}

export interface NavPoint {
  date: string;
  nav: string;
  unitValue: string;
}

/** NAV (left axis) and unit value (right axis) at each valuation date. */
export function NavChart({ points, currency }: { points: NavPoint[]; currency: string }) {
  const canvas = useChart(
    () => ({
      type: "line",
      data: { labels: [], datasets: [] },
      options: {
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { grid: { display: false }, ticks: { maxTicksLimit: 6 } },
          nav: { position: "left", title: { display: true, text: `NAV (${currency})` }, grid: { color: css("--line", "#e3e8ee") } },
          unit: { position: "right", title: { display: true, text: "Unit value" }, grid: { display: false } },
        },
      },
    }),
    (chart) => {
      chart.data.labels = points.map((p) => p.date);
      chart.data.datasets = [
        {
          label: "NAV", data: points.map((p) => Number.parseFloat(p.nav)), yAxisID: "nav",
          borderColor: "#0f766e", backgroundColor: "rgba(15,118,110,0.12)", fill: true, tension: 0.25, pointRadius: 2,
        },
        {
          label: "Unit value", data: points.map((p) => Number.parseFloat(p.unitValue)), yAxisID: "unit",
          borderColor: "#d97706", backgroundColor: "#d97706", borderDash: [5, 4], tension: 0.25, pointRadius: 2,
        },
      ];
    },
    currency,
  );
  return (
    <div class="chart chart-nav" data-testid="nav-chart">
      <canvas ref={canvas} role="img" aria-label="NAV and unit value at each valuation" />
    </div>
  );
}

export interface Slice {
  label: string;
  value: string;
}

/** Share of the portfolio by holding (and cash). */
export function AllocationChart({ slices }: { slices: Slice[] }) {
  const canvas = useChart(
    () => ({
      type: "doughnut",
      data: { labels: [], datasets: [] },
      options: { cutout: "60%", plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } },
    }),
    (chart) => {
      chart.data.labels = slices.map((s) => s.label);
      chart.data.datasets = [
        {
          data: slices.map((s) => Math.max(0, Number.parseFloat(s.value))),
          backgroundColor: slices.map((_, i) => PALETTE[i % PALETTE.length] as string),
          borderColor: css("--panel", "#fff"),
          borderWidth: 2,
        },
      ];
    },
    "allocation",
  );
  return (
    <div class="chart chart-allocation" data-testid="allocation-chart">
      <canvas ref={canvas} role="img" aria-label="Allocation of the portfolio" />
    </div>
  );
}

/** A small line of recent prices, coloured by the day's direction. */
export function Sparkline({ values, direction, testId }: { values: number[]; direction: "up" | "down" | "flat"; testId?: string }) {
  const colour = direction === "up" ? css("--spark-up", "#16a34a") : direction === "down" ? css("--spark-down", "#dc2626") : css("--spark-flat", "#64748b");
  const canvas = useChart(
    () => ({
      type: "line",
      data: { labels: [], datasets: [] },
      options: {
        events: [],
        plugins: { legend: { display: false }, tooltip: { enabled: false } },
        scales: { x: { display: false }, y: { display: false } },
        layout: { padding: 2 },
      },
    }),
    (chart) => {
      chart.data.labels = values.map((_, i) => i);
      chart.data.datasets = [
        { data: values, borderColor: colour, borderWidth: 1.5, pointRadius: 0, tension: 0.2, fill: true, backgroundColor: `${colour}1f` },
      ];
    },
    "spark",
  );
  return (
    <div class="sparkline" data-testid={testId} data-points={values.length}>
      <canvas ref={canvas} aria-hidden="true" />
    </div>
  );
}
