/**
 * A private multi-node network for tests and benches: one network namespace per node, one for the
 * registry, one for the tracker, all joined by veth pairs to a bridge that itself lives in a
 * dedicated namespace, so nothing is added to the host's root namespace. Every name starts with
 * `pp-<runId>-`; destroy() (and `destroyRun(runId)`) removes all of it, also after a failed create.
 *
 * The test process stays in the root namespace and cannot reach these addresses; it talks to them
 * through processes started inside (`exec`, `spawnIn`, `httpIn`).
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { run, spawnLogged, type ManagedProcess, type RunResult } from "../testenv/processes";

export interface NetnsNode {
  /** Namespace name, e.g. pp-a1b2-n1. */
  ns: string;
  ip: string;
  /** The interface inside `ns` (its egress is this node's upload). */
  dev: string;
}

export interface ShapeOptions {
  /** Egress rate in bits per second. */
  rateBits: number;
  /** Bucket size in bytes (default: 10 ms of rate, at least 64 KiB so GSO packets pass). */
  burstBytes?: number;
  /** How long a packet may queue (default 100 ms). */
  latencyMs?: number;
}

export interface NetnsNetworkOptions {
  nodes: number;
  runId?: string;
  /** Shape every node's upload (egress of its interface). */
  nodeShape?: ShapeOptions;
  /** Shape the registry's upload. */
  originShape?: ShapeOptions;
}

export interface NetnsNetwork {
  readonly runId: string;
  /** 10.231.X.0/24 */
  readonly subnet: string;
  readonly bridgeNs: string;
  readonly registry: NetnsNode;
  readonly tracker: NetnsNode;
  readonly nodes: readonly NetnsNode[];
  /** Every namespace this run created (bridge last). */
  namespaces(): string[];
  exec(ns: string, cmd: string, args: string[], opts?: { timeoutMs?: number }): Promise<RunResult>;
  spawnIn(
    ns: string,
    cmd: string,
    args: string[],
    opts: { logPath: string; env?: NodeJS.ProcessEnv },
  ): Promise<ManagedProcess>;
  shape(node: NetnsNode, shape: ShapeOptions): Promise<void>;
  /** Stops what spawnIn started, ends anything else left in these namespaces, deletes them. */
  destroy(): Promise<void>;
}

export const NS_PREFIX = "pp-";
const RUN_ID = /^[a-z0-9]{1,8}$/;

export function newRunId(): string {
  return randomBytes(3).toString("hex");
}

/** The /24 for a run: 10.231.<n % 250>.0 where n is derived from the run id. */
export function subnetFor(runId: string): string {
  let n = 0;
  for (const ch of runId) n = (n * 31 + ch.charCodeAt(0)) % 250;
  return `10.231.${n}`;
}

export function ip(args: string[], timeoutMs = 15_000): Promise<RunResult> {
  return run("ip", args, { timeoutMs });
}

export async function listRunNamespaces(runId?: string): Promise<string[]> {
  const { stdout } = await ip(["netns", "list"]);
  const prefix = runId ? `${NS_PREFIX}${runId}-` : NS_PREFIX;
  return stdout
    .split("\n")
    .map(line => line.split(" ")[0])
    .filter(name => name.startsWith(prefix));
}

export async function createNetwork(opts: NetnsNetworkOptions): Promise<NetnsNetwork> {
  const runId = opts.runId ?? newRunId();
  if (!RUN_ID.test(runId)) throw new Error(`runId must match ${RUN_ID}, got ${JSON.stringify(runId)}`);
  if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 200)
    throw new Error(`nodes must be 1..200, got ${opts.nodes}`);
  const subnet = subnetFor(runId);
  const name = (suffix: string) => `${NS_PREFIX}${runId}-${suffix}`;
  const created: string[] = [];
  const spawned: ManagedProcess[] = [];
  const bridgeNs = name("br");
  const member = (suffix: string, host: number): NetnsNode => ({
    ns: name(suffix),
    ip: `${subnet}.${host}`,
    dev: "eth0",
  });
  const registry = member("reg", 2);
  const tracker = member("trk", 3);
  const nodes = Array.from({ length: opts.nodes }, (_, i) => member(`n${i + 1}`, 10 + i));

  const network: NetnsNetwork = {
    runId,
    subnet: `${subnet}.0/24`,
    bridgeNs,
    registry,
    tracker,
    nodes,
    namespaces: () => [...created],
    exec: (ns, cmd, args, o) =>
      run("ip", ["netns", "exec", ns, cmd, ...args], { timeoutMs: o?.timeoutMs ?? 60_000 }),
    async spawnIn(ns, cmd, args, o) {
      // `ip netns exec` execs the command, so the PID tracked is the command's own.
      const proc = await spawnLogged("ip", ["netns", "exec", ns, cmd, ...args], o);
      spawned.push(proc);
      return proc;
    },
    shape: (node, shape) => shapeEgress(node, shape),
    async destroy() {
      await Promise.all(spawned.map(proc => proc.stop(3000)));
      await deleteNamespaces(created.slice().reverse());
    },
  };

  try {
    await addNamespace(bridgeNs, created);
    await ip(["-n", bridgeNs, "link", "add", "br0", "type", "bridge"]);
    await ip(["-n", bridgeNs, "addr", "add", `${subnet}.1/24`, "dev", "br0"]);
    await ip(["-n", bridgeNs, "link", "set", "br0", "up"]);
    for (const [i, node] of [registry, tracker, ...nodes].entries())
      await attach(bridgeNs, node, `v${i}`, created);
    if (opts.originShape) await shapeEgress(registry, opts.originShape);
    if (opts.nodeShape) for (const node of nodes) await shapeEgress(node, opts.nodeShape);
    return network;
  } catch (err) {
    await network.destroy().catch(() => undefined);
    throw err;
  }
}

async function addNamespace(ns: string, created: string[]): Promise<void> {
  await ip(["netns", "add", ns]);
  created.push(ns);
  await ip(["-n", ns, "link", "set", "lo", "up"]);
}

async function attach(
  bridgeNs: string,
  node: NetnsNode,
  bridgeSide: string,
  created: string[],
): Promise<void> {
  await addNamespace(node.ns, created);
  await ip([
    "-n",
    bridgeNs,
    "link",
    "add",
    bridgeSide,
    "type",
    "veth",
    "peer",
    "name",
    node.dev,
    "netns",
    node.ns,
  ]);
  await ip(["-n", bridgeNs, "link", "set", bridgeSide, "master", "br0", "up"]);
  await ip(["-n", node.ns, "addr", "add", `${node.ip}/24`, "dev", node.dev]);
  await ip(["-n", node.ns, "link", "set", node.dev, "up"]);
}

export async function shapeEgress(node: NetnsNode, shape: ShapeOptions): Promise<void> {
  if (!(shape.rateBits > 0)) throw new Error("rateBits must be positive");
  const burst = shape.burstBytes ?? Math.max(64 * 1024, Math.ceil(shape.rateBits / 8 / 100));
  const latency = shape.latencyMs ?? 100;
  await run(
    "ip",
    ["netns", "exec", node.ns, "tc", "qdisc", "replace", "dev", node.dev, "root", "tbf"].concat([
      "rate",
      `${Math.round(shape.rateBits)}bit`,
      "burst",
      String(burst),
      "latency",
      `${latency}ms`,
    ]),
    { timeoutMs: 15_000 },
  );
}

/** Ends every process still inside the namespaces (only ever ones this harness started), then deletes them. */
export async function deleteNamespaces(namespaces: readonly string[]): Promise<void> {
  for (const ns of namespaces) {
    const pids = await ip(["netns", "pids", ns]).then(
      r => r.stdout.split(/\s+/).filter(Boolean).map(Number),
      () => [],
    );
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }
  const errors: string[] = [];
  for (const ns of namespaces) {
    try {
      await ip(["netns", "del", ns]);
    } catch (err) {
      if (!/No such file|not found/i.test((err as Error).message))
        errors.push(`${ns}: ${(err as Error).message}`);
    }
  }
  if (errors.length) throw new Error(`netns teardown failed:\n${errors.join("\n")}`);
}

/** `down` for a run whose creator is gone: every `pp-<runId>-*` namespace. */
export async function destroyRun(runId: string): Promise<string[]> {
  if (!RUN_ID.test(runId)) throw new Error(`runId must match ${RUN_ID}`);
  const namespaces = await listRunNamespaces(runId);
  // Members before the bridge namespace, so the veths go with their members.
  namespaces.sort((a, b) => Number(a.endsWith("-br")) - Number(b.endsWith("-br")));
  await deleteNamespaces(namespaces);
  return namespaces;
}

export interface HttpInResult {
  status: number;
  bytes: number;
  seconds: number;
  body: string;
}

/** An HTTP GET made with curl from inside `ns`. Status 0 means no connection. */
export async function httpIn(
  network: Pick<NetnsNetwork, "exec">,
  ns: string,
  url: string,
  opts: { headers?: Record<string, string>; timeoutMs?: number; keepBody?: boolean; method?: string } = {},
): Promise<HttpInResult> {
  const timeoutS = (opts.timeoutMs ?? 10_000) / 1000;
  const args = ["-sS", "--max-time", String(timeoutS), "-w", "\n%{http_code} %{size_download} %{time_total}"];
  if (opts.method) args.push("-X", opts.method);
  for (const [k, v] of Object.entries(opts.headers ?? {})) args.push("-H", `${k}: ${v}`);
  if (!opts.keepBody) args.push("-o", "/dev/null");
  args.push(url);
  let stdout: string;
  try {
    stdout = (
      await network.exec(ns, "curl", args, { timeoutMs: opts.timeoutMs ? opts.timeoutMs + 5000 : 15_000 })
    ).stdout;
  } catch (err) {
    stdout = (err as { stdout?: string }).stdout ?? "";
    if (!/\n\d{3} \d+ [\d.]+$/.test(stdout)) return { status: 0, bytes: 0, seconds: 0, body: "" };
  }
  const at = stdout.lastIndexOf("\n");
  const [status, bytes, seconds] = stdout
    .slice(at + 1)
    .split(" ")
    .map(Number);
  return { status, bytes, seconds, body: stdout.slice(0, at) };
}

/** Polls with curl from `ns` until `url` answers one of `statuses`; bounded. */
export async function waitForHttpIn(
  network: Pick<NetnsNetwork, "exec">,
  ns: string,
  url: string,
  opts: { statuses?: number[]; timeoutMs?: number; process?: ManagedProcess } = {},
): Promise<number> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (opts.process?.hasExited())
      throw new Error(`${url}: process ${opts.process.pid} exited (log ${opts.process.logPath})`);
    const { status } = await httpIn(network, ns, url, { timeoutMs: 2000 });
    if (status !== 0 && (!opts.statuses || opts.statuses.includes(status))) return status;
    if (Date.now() > deadline) break;
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${url} from ${ns}`);
}

export function logIn(dir: string, name: string): string {
  return join(dir, `${name}.log`);
}
