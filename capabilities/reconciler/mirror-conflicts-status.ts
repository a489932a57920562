/**
 * Pure: what the agents said about mirror mode's conflicts (agent-conflicts.ts) -> the config's
 * `status.mirrorConflicts` (at most MAX_LISTED entries, sorted by registry then node) and the
 * `MirrorConflicts` condition: True while some node keeps a hosts.toml the agent did not write
 * (pulls of that registry there bypass the agent), False when every agent that answered has none,
 * Unknown when none answered.
 */
import type { Condition } from "../crd/p2p-acceleration-config";
import type { ConflictsReading, NodeConflict } from "./agent-conflicts";
import { PEER_PORT } from "./names";

export const MAX_LISTED_CONFLICTS = 20;
const MAX_NAMED_REGISTRIES = 5;

type Verdict = Pick<Condition, "status" | "reason" | "message">;

export function conflictsStatus(reading: ConflictsReading): { listed: NodeConflict[]; verdict: Verdict } {
  const listed = [...reading.conflicts]
    .sort((a, b) => compare(a.registry, b.registry) || compare(a.node, b.node))
    .slice(0, MAX_LISTED_CONFLICTS);
  return { listed, verdict: verdictOf(reading) };
}

function verdictOf(reading: ConflictsReading): Verdict {
  const unanswered = reading.agents - reading.answered;
  const asked = `${reading.answered} of ${reading.agents} ready agents answered`;
  if (reading.agents === 0)
    return { status: "Unknown", reason: "NoAgentsReady", message: "no ready agent to ask yet" };
  if (reading.answered === 0)
    return {
      status: "Unknown",
      reason: "AgentsUnreachable",
      message:
        `none of ${reading.agents} ready agents answered on port ${PEER_PORT}` +
        (reading.failed[0] ? ` (${reading.failed[0].node}: ${reading.failed[0].error})` : "") +
        "; the module's watcher pod must reach the agents' peer port",
    };
  const note = unanswered > 0 ? `; ${unanswered} did not answer (yet)` : "";
  if (reading.conflicts.length === 0)
    return { status: "False", reason: "NoConflicts", message: `${asked}, none has a conflict${note}` };
  const nodes = new Map<string, Set<string>>();
  for (const c of reading.conflicts) nodes.set(c.registry, (nodes.get(c.registry) ?? new Set()).add(c.node));
  const named = [...nodes]
    .sort(([a], [b]) => compare(a, b))
    .slice(0, MAX_NAMED_REGISTRIES)
    .map(([registry, on]) => `${registry} (${on.size} node${on.size === 1 ? "" : "s"})`);
  const more = nodes.size > MAX_NAMED_REGISTRIES ? ` and ${nodes.size - MAX_NAMED_REGISTRIES} more` : "";
  return {
    status: "True",
    reason: "ForeignHostsFiles",
    message:
      `a hosts.toml peerpull-agent did not write is left alone, so pulls of these registries on those ` +
      `nodes bypass the agent: ${named.join(", ")}${more}; remove the file (or put the line ` +
      `"# managed-by: peerpull-agent" first) to hand it to the agent; status.mirrorConflicts lists ` +
      `up to ${MAX_LISTED_CONFLICTS} (${asked}${note})`,
  };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
