/**
 * The agent's mirror-mode conflicts as JSON, `GET /mirror/conflicts` on the peer port (no token,
 * like /metrics, which already carries the same registries as `peerpull_mirror_hosts_conflicts`).
 * The reconciler reads it from each ready agent to list conflicts in the config's status, so the
 * decoder treats the body as untrusted: bounded counts and lengths, every field checked.
 */
export const MIRROR_CONFLICTS_PATH = "/mirror/conflicts";
/** Caps a well-behaved agent never reaches (one conflict per configured registry). */
export const MAX_CONFLICTS = 256;
export const MAX_FIELD_CHARS = 1024;
export const MAX_BODY_BYTES = 512 * 1024;

export interface MirrorConflict {
  /** The registry whose hosts.toml the agent left alone, e.g. "docker.io". */
  registry: string;
  /** The file (or directory) in the node's containerd hosts directory. */
  path: string;
  /** Why it is not the agent's, e.g. "hosts.toml not written by peerpull-agent". */
  reason: string;
}

export interface MirrorConflictsBody {
  /** The agent writes hosts.toml files (mirror mode); false: it never has conflicts. */
  mirror: boolean;
  conflicts: MirrorConflict[];
}

export type Decoded = { ok: true; body: MirrorConflictsBody } | { ok: false; problem: string };

export function decodeMirrorConflicts(value: unknown): Decoded {
  if (!isObject(value)) return { ok: false, problem: "not a JSON object" };
  if (typeof value.mirror !== "boolean") return { ok: false, problem: "mirror: not a boolean" };
  if (!Array.isArray(value.conflicts)) return { ok: false, problem: "conflicts: not an array" };
  if (value.conflicts.length > MAX_CONFLICTS)
    return { ok: false, problem: `conflicts: more than ${MAX_CONFLICTS}` };
  const conflicts: MirrorConflict[] = [];
  for (const [i, item] of value.conflicts.entries()) {
    if (!isObject(item)) return { ok: false, problem: `conflicts[${i}]: not an object` };
    const fields = ["registry", "path", "reason"] as const;
    for (const field of fields) {
      const text = item[field];
      if (typeof text !== "string" || text.length === 0 || text.length > MAX_FIELD_CHARS)
        return {
          ok: false,
          problem: `conflicts[${i}].${field}: not a string of 1..${MAX_FIELD_CHARS} chars`,
        };
    }
    conflicts.push({
      registry: item.registry as string,
      path: item.path as string,
      reason: item.reason as string,
    });
  }
  return { ok: true, body: { mirror: value.mirror, conflicts } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
