/** The demo's numbers, shared by the live display, the summary table and the chart. No I/O. */

export type PhaseName = "direct" | "peerpull";

export const PHASE_TITLES: Record<PhaseName, string> = {
  direct: "straight from the registry",
  peerpull: "through peerpull",
};

/** One node's pull during one phase; times are milliseconds since the phase started. */
export interface NodeProgress {
  name: string;
  /** Bytes of the image's blobs (config and layers). */
  total: number;
  /** Bytes the node's client has received and verified so far. */
  received: number;
  /** Bytes fetched from the registry for this node (its agent's origin bytes through peerpull). */
  fromRegistry: number;
  /** Bytes its agent fetched from other nodes (0 straight from the registry). */
  fromPeers: number;
  doneMs?: number;
  /** [ms, received] over time, first at 0. */
  samples: Array<[number, number]>;
}

export interface PhaseResult {
  name: PhaseName;
  nodes: NodeProgress[];
  /** When the last node finished. */
  wallMs: number;
  /** Blob bytes the registry served during the phase, from its access log. */
  registryBytes: number;
}

export const MiB = 1024 * 1024;

/** An image of `bytes` as layers: one below 8 MiB, else four of 40/30/20/10 %, as images often are. */
export function layerSizes(bytes: number): number[] {
  if (bytes < 8 * MiB) return [Math.round(bytes)];
  const parts = [0.4, 0.3, 0.2, 0.1].map(share => Math.floor(bytes * share));
  parts[0] += Math.round(bytes) - parts.reduce((a, b) => a + b, 0);
  return parts;
}
