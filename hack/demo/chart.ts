/**
 * Pure: a hand-written SVG of every node's progress over time, one panel per phase side by side on
 * the same time scale, so the gap between "straight from the registry" and "through peerpull" is
 * what the eye sees. No fonts or scripts beyond generic families; a white background so it reads
 * the same in light and dark viewers.
 */

export interface ChartLine {
  name: string;
  total: number;
  /** [ms since the phase started, bytes received] */
  samples: ReadonlyArray<readonly [number, number]>;
}

export interface ChartPanel {
  title: string;
  /** One line under the title, e.g. "last node 50.1 s, registry served 6.00x the image". */
  note: string;
  lines: ChartLine[];
}

export interface ChartInput {
  title: string;
  subtitle: string;
  panels: ChartPanel[];
}

const WIDTH = 960;
const PANEL_TOP = 92;
const PLOT_HEIGHT = 250;
const MARGIN = { left: 56, right: 24 };
const LEGEND_TOP = PANEL_TOP + PLOT_HEIGHT + 52;
const LEGEND_ROW = 20;
const LEGEND_COLUMN = 110;
const MAX_POINTS = 300;
const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
];

export function colorFor(index: number, count: number): string {
  return count <= PALETTE.length ? PALETTE[index] : `hsl(${Math.round((index * 360) / count)}, 65%, 45%)`;
}

export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!,
  );
}

/** A tick step of 1, 2 or 5 times a power of ten giving at most `maxTicks` steps up to `max`. */
export function niceStep(max: number, maxTicks = 6): number {
  if (!(max > 0)) return 1;
  const raw = max / maxTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map(m => m * power).find(step => step >= raw)!;
}

/** At most `max` points, evenly picked, always keeping the first and the last. */
export function thin<T>(points: readonly T[], max = MAX_POINTS): T[] {
  if (points.length <= max) return [...points];
  const picked: T[] = [];
  for (let i = 0; i < max - 1; i++) picked.push(points[Math.floor((i * (points.length - 1)) / (max - 1))]);
  picked.push(points[points.length - 1]);
  return picked;
}

export function legendHeight(lines: number): number {
  const perRow = Math.floor((WIDTH - 2 * MARGIN.left) / LEGEND_COLUMN);
  return Math.ceil(lines / perRow) * LEGEND_ROW;
}

export function renderChart(input: ChartInput): string {
  const names = input.panels[0]?.lines.map(l => l.name) ?? [];
  const height = LEGEND_TOP + legendHeight(names.length) + 16;
  const maxMs = Math.max(1, ...input.panels.flatMap(p => p.lines.flatMap(l => l.samples.map(([t]) => t))));
  const step = niceStep(maxMs / 1000);
  const axisMax = Math.ceil(maxMs / 1000 / step) * step;
  const panelWidth = WIDTH / Math.max(1, input.panels.length);
  const body = input.panels.map((panel, i) =>
    renderPanel(panel, i * panelWidth, panelWidth, axisMax, step, names.length),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold" fill="#222">${escapeXml(input.title)}</text>`,
    `<text x="${WIDTH / 2}" y="50" text-anchor="middle" fill="#444">${escapeXml(input.subtitle)}</text>`,
    ...body,
    ...legend(names),
    "</svg>",
    "",
  ].join("\n");
}

function renderPanel(
  panel: ChartPanel,
  left: number,
  width: number,
  axisMax: number,
  step: number,
  count: number,
): string {
  const x0 = left + MARGIN.left;
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const y0 = PANEL_TOP + PLOT_HEIGHT;
  const x = (ms: number) => x0 + (ms / 1000 / axisMax) * plotWidth;
  const y = (fraction: number) => y0 - Math.min(1, Math.max(0, fraction)) * PLOT_HEIGHT;
  const out = [
    `<g>`,
    `<text x="${x0 + plotWidth / 2}" y="${PANEL_TOP - 22}" text-anchor="middle" font-size="14" font-weight="bold" fill="#222">${escapeXml(panel.title)}</text>`,
    `<text x="${x0 + plotWidth / 2}" y="${PANEL_TOP - 6}" text-anchor="middle" fill="#555">${escapeXml(panel.note)}</text>`,
  ];
  for (let pct = 0; pct <= 100; pct += 25) {
    const yy = fmt(y(pct / 100));
    out.push(
      `<line x1="${fmt(x0)}" y1="${yy}" x2="${fmt(x0 + plotWidth)}" y2="${yy}" stroke="#e4e4e4"/>`,
      `<text x="${fmt(x0 - 6)}" y="${yy}" dy="4" text-anchor="end" fill="#555">${pct}%</text>`,
    );
  }
  for (let s = 0; s <= axisMax + 1e-9; s += step) {
    const xx = fmt(x(s * 1000));
    out.push(
      `<line x1="${xx}" y1="${y0}" x2="${xx}" y2="${y0 + 4}" stroke="#888"/>`,
      `<text x="${xx}" y="${y0 + 18}" text-anchor="middle" fill="#555">${trimNumber(s)}</text>`,
    );
  }
  out.push(
    `<line x1="${fmt(x0)}" y1="${y0}" x2="${fmt(x0 + plotWidth)}" y2="${y0}" stroke="#888"/>`,
    `<line x1="${fmt(x0)}" y1="${PANEL_TOP}" x2="${fmt(x0)}" y2="${y0}" stroke="#888"/>`,
    `<text x="${x0 + plotWidth / 2}" y="${y0 + 36}" text-anchor="middle" fill="#555">seconds</text>`,
  );
  panel.lines.forEach((line, i) => {
    const points = thin(line.samples)
      .map(([t, bytes]) => `${fmt(x(t))},${fmt(y(line.total > 0 ? bytes / line.total : 0))}`)
      .join(" ");
    out.push(
      `<polyline fill="none" stroke="${colorFor(i, count)}" stroke-width="2" stroke-linejoin="round" points="${points}"><title>${escapeXml(line.name)}</title></polyline>`,
    );
  });
  out.push(`</g>`);
  return out.join("\n");
}

function legend(names: string[]): string[] {
  const perRow = Math.floor((WIDTH - 2 * MARGIN.left) / LEGEND_COLUMN);
  return names.map((name, i) => {
    const lx = MARGIN.left + (i % perRow) * LEGEND_COLUMN;
    const ly = LEGEND_TOP + Math.floor(i / perRow) * LEGEND_ROW;
    const color = colorFor(i, names.length);
    return `<g><line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="3"/><text x="${lx + 28}" y="${ly + 4}" fill="#333">${escapeXml(name)}</text></g>`;
  });
}

function fmt(n: number): string {
  return (Math.round(n * 10) / 10).toString();
}

function trimNumber(n: number): string {
  return Number(n.toFixed(3)).toString();
}
