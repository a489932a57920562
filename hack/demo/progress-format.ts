/** Pure: the live display's text, one line per node (a terminal) or milestone lines (a pipe or file). */
import { MiB, NodeProgress, PhaseName } from "./model";

const BAR_WIDTH = 24;

export function bar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export function mbit(bytesPerSecond: number): string {
  return `${((bytesPerSecond * 8) / 1e6).toFixed(1)} Mbit/s`;
}

/** Bytes per second over the last `windowMs` of samples (0 with fewer than two in it). */
export function recentRate(samples: ReadonlyArray<[number, number]>, nowMs: number, windowMs = 2000): number {
  const recent = samples.filter(([t]) => t >= nowMs - windowMs);
  if (recent.length < 2) return 0;
  const [t0, b0] = recent[0];
  const [t1, b1] = recent[recent.length - 1];
  return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
}

function sources(node: NodeProgress, phase: PhaseName): string {
  const registry = `registry ${mib(node.fromRegistry).padStart(9)}`;
  return phase === "direct" ? registry : `${registry}   peers ${mib(node.fromPeers).padStart(9)}`;
}

/** `node 3  ██████░░░░  48%  41.9 Mbit/s   registry  24.0 MiB   peers   0.0 MiB` */
export function nodeLine(node: NodeProgress, phase: PhaseName, nowMs: number, nameWidth: number): string {
  const fraction = node.total > 0 ? node.received / node.total : 0;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const state =
    node.doneMs !== undefined
      ? `done ${seconds(node.doneMs).padStart(7)}`
      : mbit(recentRate(node.samples, nowMs)).padStart(12);
  return `${node.name.padEnd(nameWidth)}  ${bar(fraction)} ${percent}  ${state}   ${sources(node, phase)}`;
}

export interface Milestones {
  half: boolean;
  done: boolean;
}

/** Lines to print when not on a terminal: half way, and done, each once per node. */
export function milestoneLines(
  seen: Milestones,
  node: NodeProgress,
  phase: PhaseName,
): { lines: string[]; seen: Milestones } {
  const lines: string[] = [];
  const next = { ...seen };
  if (node.doneMs !== undefined) {
    if (!seen.done)
      lines.push(
        `  ${node.name}: done in ${seconds(node.doneMs)} (${sources(node, phase).replace(/ +/g, " ")})`,
      );
    next.done = next.half = true;
  } else if (!seen.half && node.total > 0 && node.received >= node.total / 2) {
    lines.push(`  ${node.name}: half way`);
    next.half = true;
  }
  return { lines, seen: next };
}
