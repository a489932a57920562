/** Runs the built agent (build/peerpull-agent.js) as a real process on loopback ports it picks itself. */
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  boundPort,
  ManagedProcess,
  removeDir,
  requireListeningLogged,
  spawnLogged,
  tempDir,
  waitForListening,
} from "./processes";
import { parsePromText, PromSample } from "./prom-text";

/** The repository root: works from sources (jest) and from the bundled bench in build/. */
function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const AGENT_BIN = join(repoRoot(), "build", "peerpull-agent.js");

/**
 * The node flags the bundle's shebang starts it with (`#!/usr/bin/env -S node FLAGS`, set in
 * hack/build.mjs), for launchers that run `node FLAGS build/peerpull-agent.js` as the image's
 * `peerpull-agent` command does. Read from the built file, so the two cannot drift apart.
 */
export function agentNodeFlags(bin = AGENT_BIN): string[] {
  if (!existsSync(bin)) return []; // not built: starting it fails with its own error
  const head = Buffer.alloc(256);
  const fd = openSync(bin, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const firstLine = head.toString("utf8").split("\n")[0];
  const flags = /^#!\/usr\/bin\/env -S node (.+)$/.exec(firstLine)?.[1];
  return flags ? flags.split(" ").filter(Boolean) : [];
}

/**
 * Node's arguments for a test or bench agent: the shebang's flags, then PEERPULL_AGENT_NODE_ARGS
 * (extra flags for every agent, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
export function agentNodeArgs(bin = AGENT_BIN): string[] {
  const extra = (process.env.PEERPULL_AGENT_NODE_ARGS ?? "").split(" ").filter(Boolean);
  return [...agentNodeFlags(bin), ...extra];
}

export interface AgentOptions {
  /** `HOST=ORIGIN` upstream flags. */
  upstreams: string[];
  /** Reuse a cache directory (e.g. across a restart); default: a fresh temp dir removed on stop. */
  cacheDir?: string;
  args?: string[];
  /** Run under this open-file limit (soft and hard, through prlimit). */
  fileLimit?: number;
}

export interface AgentProcess {
  /** 127.0.0.1:PORT of the registry API. */
  readonly host: string;
  readonly url: string;
  readonly peerUrl: string;
  readonly cacheDir: string;
  readonly logPath: string;
  readonly process: ManagedProcess;
  metrics(): Promise<PromSample[]>;
  /** Sum of a metric's samples matching the labels. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGKILL: a crash, no cleanup. */
  crash(): Promise<void>;
  /** Graceful stop; removes the cache dir unless it was passed in. */
  stop(): Promise<void>;
}

export async function startAgent(opts: AgentOptions): Promise<AgentProcess> {
  requireListeningLogged(opts.args ?? [], "startAgent");
  const ownsCache = opts.cacheDir === undefined;
  const cacheDir = opts.cacheDir ?? (await tempDir("agent-cache"));
  const logDir = await tempDir("agent-log");
  const args = [
    ...agentNodeArgs(),
    AGENT_BIN,
    "--listen",
    "127.0.0.1:0",
    "--peer-listen",
    "127.0.0.1:0",
    "--cache-dir",
    cacheDir,
    "--log-level",
    "debug",
    ...opts.upstreams.flatMap(upstream => ["--upstream", upstream]),
    ...(opts.args ?? []),
  ];
  const logPath = join(logDir, "agent.log");
  const proc =
    opts.fileLimit === undefined
      ? await spawnLogged(process.execPath, args, { logPath })
      : await spawnLogged(
          "prlimit",
          [`--nofile=${opts.fileLimit}:${opts.fileLimit}`, "--", process.execPath, ...args],
          {
            logPath,
          },
        );
  let port: number, peerPort: number;
  try {
    const listening = await waitForListening(proc); // logged once ready
    [port, peerPort] = [boundPort(listening, "registry"), boundPort(listening, "peer")];
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const metrics = async () => parsePromText(await (await fetch(`${peerUrl}/metrics`)).text());
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    peerUrl,
    cacheDir,
    logPath,
    process: proc,
    metrics,
    async metric(name, labels = {}) {
      return (await metrics())
        .filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((sum, s) => sum + s.value, 0);
    },
    async crash() {
      process.kill(proc.pid, "SIGKILL");
      await proc.exited;
    },
    async stop() {
      await proc.stop();
      if (ownsCache) await removeDir(cacheDir);
      await removeDir(logDir);
    },
  };
}
