/** Pure: the summary after both phases, as numbers (summary.json) and as the table the demo prints. */
import { PhaseResult } from "./model";
import { mib, seconds } from "./progress-format";

export interface NodeSummary {
  name: string;
  directMs: number;
  peerpullMs: number;
  /** directMs / peerpullMs */
  speedup: number;
  /** Through peerpull: what this node's agent fetched from the registry and from other nodes. */
  fromRegistry: number;
  fromPeers: number;
}

export interface PhaseSummary {
  /** When the last node finished. */
  lastNodeMs: number;
  registryBytes: number;
  /** registryBytes / image size */
  registryImages: number;
}

export interface DemoSummary {
  imageBytes: number;
  nodes: NodeSummary[];
  direct: PhaseSummary;
  peerpull: PhaseSummary;
  /** direct.lastNodeMs / peerpull.lastNodeMs */
  speedup: number;
}

export function summarize(imageBytes: number, direct: PhaseResult, peerpull: PhaseResult): DemoSummary {
  if (direct.nodes.length !== peerpull.nodes.length) throw new Error("both phases need the same nodes");
  const phase = (p: PhaseResult): PhaseSummary => ({
    lastNodeMs: p.wallMs,
    registryBytes: p.registryBytes,
    registryImages: imageBytes > 0 ? p.registryBytes / imageBytes : 0,
  });
  const nodes = direct.nodes.map((d, i) => {
    const p = peerpull.nodes[i];
    const directMs = d.doneMs ?? direct.wallMs;
    const peerpullMs = p.doneMs ?? peerpull.wallMs;
    return {
      name: d.name,
      directMs,
      peerpullMs,
      speedup: ratio(directMs, peerpullMs),
      fromRegistry: p.fromRegistry,
      fromPeers: p.fromPeers,
    };
  });
  return {
    imageBytes,
    nodes,
    direct: phase(direct),
    peerpull: phase(peerpull),
    speedup: ratio(direct.wallMs, peerpull.wallMs),
  };
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : 0;
}

const times = (x: number) => `${x.toFixed(2)}x`;

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
export function alignColumns(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, col) => Math.max(...rows.map(r => (r[col] ?? "").length)));
  return rows.map(row =>
    row
      .map((cell, col) => (col === 0 ? cell.padEnd(widths[col]) : cell.padStart(widths[col])))
      .join("   ")
      .trimEnd(),
  );
}

export function renderSummary(s: DemoSummary): string {
  const perNode = alignColumns([
    ["", "straight", "peerpull", "speedup", "peerpull: from registry", "from peers"],
    ...s.nodes.map(n => [
      n.name,
      seconds(n.directMs),
      seconds(n.peerpullMs),
      times(n.speedup),
      mib(n.fromRegistry),
      mib(n.fromPeers),
    ]),
  ]);
  const totals = alignColumns([
    ["", "last node done", "registry served", "registry / image"],
    [
      "straight from the registry",
      seconds(s.direct.lastNodeMs),
      mib(s.direct.registryBytes),
      `${times(s.direct.registryImages)}`,
    ],
    [
      "through peerpull",
      seconds(s.peerpull.lastNodeMs),
      mib(s.peerpull.registryBytes),
      `${times(s.peerpull.registryImages)}`,
    ],
  ]);
  return [
    ...perNode,
    "",
    ...totals,
    "",
    `speedup: ${times(s.speedup)} (last node straight from the registry / last node through peerpull)`,
  ].join("\n");
}
