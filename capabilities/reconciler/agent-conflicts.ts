/**
 * Reads mirror mode's conflicts from the agents themselves (they have no API rights, by design):
 * `GET http://<pod IP>:65002/mirror/conflicts` on each ready agent pod (host network: the node's
 * address). Bounded on every side: a timeout per request, a few requests at once, a deadline per
 * read (agents not reached by then wait for a later pass), a cap on the body, and each agent's
 * answer kept for `maxAgeMs`, so the passes a rollout triggers do not ask every agent each time.
 * Failures are answers too (kept as long), so an unreachable agent costs one timeout per max age.
 */
import {
  decodeMirrorConflicts,
  MAX_BODY_BYTES,
  MIRROR_CONFLICTS_PATH,
  MirrorConflict,
} from "../../protocol/mirror-conflicts";
import type { AgentPod } from "./cluster";
import { PEER_PORT } from "./names";

export interface NodeConflict {
  node: string;
  registry: string;
  reason: string;
}

export interface ConflictsReading {
  /** Ready agent pods with an address. */
  agents: number;
  /** Of those, how many answered (now or within the max age). */
  answered: number;
  /** Agents that did not answer usably, with why. */
  failed: { node: string; error: string }[];
  conflicts: NodeConflict[];
}

export interface AgentConflictsOptions {
  port?: number;
  timeoutMs?: number;
  concurrency?: number;
  /** Per read: agents not started by then are left for a later pass. */
  deadlineMs?: number;
  maxAgeMs?: number;
  now?: () => number;
}

type Answer = { ok: true; conflicts: MirrorConflict[] } | { ok: false; error: string };

export const CONFLICTS_DEFAULTS = {
  port: PEER_PORT,
  timeoutMs: 2_000,
  concurrency: 16,
  deadlineMs: 15_000,
  maxAgeMs: 60_000,
};

export class AgentConflictsProbe {
  readonly #opts: typeof CONFLICTS_DEFAULTS & { now: () => number };
  readonly #answers = new Map<string, { at: number; answer: Answer }>();

  constructor(options: AgentConflictsOptions = {}) {
    this.#opts = { ...CONFLICTS_DEFAULTS, now: Date.now, ...options };
  }

  async read(pods: readonly AgentPod[]): Promise<ConflictsReading> {
    const agents = pods.filter(p => p.ready && p.ip && p.node);
    const keys = new Set(agents.map(keyOf));
    for (const key of this.#answers.keys()) if (!keys.has(key)) this.#answers.delete(key);
    const now = this.#opts.now();
    const stale = agents.filter(p => {
      const kept = this.#answers.get(keyOf(p));
      return !kept || now - kept.at >= this.#opts.maxAgeMs;
    });
    await this.#askAll(stale, now + this.#opts.deadlineMs);
    const reading: ConflictsReading = { agents: agents.length, answered: 0, failed: [], conflicts: [] };
    for (const pod of agents) {
      const answer = this.#answers.get(keyOf(pod))?.answer;
      if (!answer) continue; // not reached before the deadline
      if (!answer.ok) {
        reading.failed.push({ node: pod.node, error: answer.error });
        continue;
      }
      reading.answered += 1;
      for (const c of answer.conflicts)
        reading.conflicts.push({ node: pod.node, registry: c.registry, reason: c.reason });
    }
    return reading;
  }

  async #askAll(pods: AgentPod[], deadline: number): Promise<void> {
    const queue = [...pods];
    const worker = async () => {
      for (let pod = queue.shift(); pod; pod = queue.shift()) {
        if (this.#opts.now() >= deadline) return;
        this.#answers.set(keyOf(pod), { at: this.#opts.now(), answer: await this.#ask(pod) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#opts.concurrency, queue.length) }, worker));
  }

  async #ask(pod: AgentPod): Promise<Answer> {
    const host = pod.ip.includes(":") ? `[${pod.ip}]` : pod.ip;
    const url = `http://${host}:${this.#opts.port}${MIRROR_CONFLICTS_PATH}`;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(this.#opts.timeoutMs), redirect: "error" });
      const text = await boundedText(res);
      if (res.status !== 200) return { ok: false, error: `HTTP ${res.status} from ${url}` };
      const decoded = decodeMirrorConflicts(JSON.parse(text));
      if (!decoded.ok) return { ok: false, error: `${url}: ${decoded.problem}` };
      if (!decoded.body.mirror) return { ok: false, error: `${url}: the agent is not in mirror mode` };
      return { ok: true, conflicts: decoded.body.conflicts };
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      return { ok: false, error: `${url}: ${cause ?? (err instanceof Error ? err.message : String(err))}` };
    }
  }
}

function keyOf(pod: AgentPod): string {
  return `${pod.name}@${pod.ip}`;
}

async function boundedText(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw new Error(`answer larger than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
