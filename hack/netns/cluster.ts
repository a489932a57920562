/**
 * startSwarmCluster: the issue-3 topology on a netns network. The origin registry (Debian
 * docker-registry, filesystem storage in a temp dir) in its own namespace, a tracker in another, and
 * one agent per node namespace. Agents are optional (`agents: false`) or injectable (`launchAgent`),
 * so the harness works before the agent binary exists.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import {
  countBlobGets,
  htpasswdLine,
  parseAccessLog,
  registryConfigLines,
  type AccessLogEntry,
  type BlobServed,
  type Credentials,
} from "../testenv/registry";
import {
  removeDir,
  tempDir,
  waitForLogLine,
  waitForLogSettled,
  type ManagedProcess,
} from "../testenv/processes";
import { readFile } from "node:fs/promises";
import { agentNodeArgs } from "../testenv/agent";
import type { OciLayout } from "../testenv/oci-image";
import { createNetwork, logIn, waitForHttpIn, type NetnsNetwork, type NetnsNode } from "./netns";

function repoRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

export const TRACKER_BIN = join(repoRoot(), "build", "peerpull-tracker.js");
export const AGENT_BIN = join(repoRoot(), "build", "peerpull-agent.js");
export const REGISTRY_PORT = 5000;
export const TRACKER_PORT = 65010;
export const AGENT_PORT = 65001;
export const PEER_PORT = 65002;

export interface ClusterAgent {
  node: NetnsNode;
  /** http://<nodeIP>:65001 (reach it from the node's namespace) */
  url: string;
  peerUrl: string;
  cacheDir: string;
  process: ManagedProcess;
}

export interface AgentLaunchContext {
  network: NetnsNetwork;
  dir: string;
  registryHost: string;
  /** The upstream name agents serve the registry as (default: registryHost). */
  registryName: string;
  trackerUrl: string;
  tokenFile: string;
  args: string[];
}

export type AgentLauncher = (node: NetnsNode, ctx: AgentLaunchContext) => Promise<ClusterAgent>;

export interface SwarmClusterOptions {
  nodes: number;
  /** Shape every node's and the origin's upload to this many Mbit/s. */
  shapeMbit?: number;
  /** Extra flags for every agent. */
  agentArgs?: string[];
  /** false: no agents; a function: start them your way. Default: build/peerpull-agent.js. */
  agents?: boolean | AgentLauncher;
  /** Extra flags for the tracker. */
  trackerArgs?: string[];
  runId?: string;
  /** htpasswd (Basic) auth on the origin registry. */
  registryAuth?: Credentials;
  /**
   * The name agents serve the origin as (`--upstream NAME=http://IP:5000`), e.g. "registry.test":
   * a host with a port cannot appear in a rewritten image name. Default: the registry's IP:port.
   */
  registryName?: string;
}

export interface SwarmCluster {
  network: NetnsNetwork;
  dir: string;
  token: string;
  tokenFile: string;
  registry: {
    host: string;
    url: string;
    logPath: string;
    process: ManagedProcess;
    blobGets(since?: number): Promise<Map<string, BlobServed>>;
    accessLog(since?: number): Promise<AccessLogEntry[]>;
    mark(): Promise<number>;
  };
  tracker: { url: string; logPath: string; process: ManagedProcess };
  agents: ClusterAgent[];
  /** skopeo copy of an OCI layout into the origin registry, run inside the registry namespace. */
  pushImage(
    layout: Pick<OciLayout, "dir" | "tag">,
    repo: string,
    tag: string,
    opts?: { format?: "v2s2"; creds?: Credentials },
  ): Promise<void>;
  stop(): Promise<void>;
}

export async function startSwarmCluster(opts: SwarmClusterOptions): Promise<SwarmCluster> {
  const shape = opts.shapeMbit ? { rateBits: opts.shapeMbit * 1e6 } : undefined;
  const network = await createNetwork({
    nodes: opts.nodes,
    runId: opts.runId,
    nodeShape: shape,
    originShape: shape,
  });
  const dir = await tempDir(`netns-${network.runId}`);
  const stop = async () => {
    await network.destroy();
    await removeDir(dir);
  };
  try {
    const token = randomBytes(24).toString("hex");
    const tokenFile = join(dir, "peer-token");
    await writeFile(tokenFile, token + "\n", { mode: 0o600 });
    const registry = await startRegistryIn(network, dir, opts.registryAuth);
    const tracker = await startTrackerIn(network, dir, tokenFile, opts.trackerArgs ?? []);
    const launcher =
      typeof opts.agents === "function" ? opts.agents : opts.agents === false ? undefined : launchAgent;
    const ctx: AgentLaunchContext = {
      network,
      dir,
      registryHost: registry.host,
      registryName: opts.registryName ?? registry.host,
      trackerUrl: tracker.url,
      tokenFile,
      args: opts.agentArgs ?? [],
    };
    const agents = launcher ? await Promise.all(network.nodes.map(node => launcher(node, ctx))) : [];
    const pushImage: SwarmCluster["pushImage"] = async (layout, repo, tag, pushOpts = {}) => {
      const args = ["copy", "--retry-times", "0", "--dest-tls-verify=false"];
      if (pushOpts.format === "v2s2") args.push("--format", "v2s2");
      if (pushOpts.creds) args.push("--dest-creds", `${pushOpts.creds.user}:${pushOpts.creds.password}`);
      args.push(`oci:${layout.dir}:${layout.tag}`, `docker://${registry.host}/${repo}:${tag}`);
      await network.exec(network.registry.ns, "skopeo", args, { timeoutMs: 120_000 });
    };
    return { network, dir, token, tokenFile, registry, tracker, agents, pushImage, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

export async function startRegistryIn(
  network: NetnsNetwork,
  dir: string,
  auth?: Credentials,
): Promise<SwarmCluster["registry"]> {
  const root = join(dir, "registry");
  const host = `${network.registry.ip}:${REGISTRY_PORT}`;
  const config = registryConfigLines(root, host);
  if (auth) {
    const htpasswd = join(dir, "htpasswd");
    await writeFile(htpasswd, (await htpasswdLine(auth.user, auth.password)) + "\n");
    config.push("auth:", "  htpasswd:", "    realm: peerpull-netns", `    path: ${htpasswd}`);
  }
  const configPath = join(dir, "registry.yml");
  await writeFile(configPath, config.join("\n") + "\n");
  const logPath = logIn(dir, "registry");
  // A clean env: docker-registry reads REGISTRY_* variables as config overrides.
  const env = { PATH: process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin", HOME: dir };
  const proc = await network.spawnIn(network.registry.ns, "docker-registry", ["serve", configPath], {
    logPath,
    env,
  });
  await waitForLogLine(logPath, /listening on/, { process: proc, timeoutMs: 15_000 });
  const url = `http://${host}`;
  const ready = auth ? [401] : [200];
  await waitForHttpIn(network, network.registry.ns, `${url}/v2/`, { statuses: ready, process: proc });
  const settle = () => waitForLogSettled(logPath);
  const accessLog = async (since = 0) => {
    await settle();
    return parseAccessLog((await readFile(logPath)).subarray(since).toString("utf8"));
  };
  return {
    host,
    url,
    logPath,
    process: proc,
    mark: settle,
    accessLog,
    blobGets: async since => countBlobGets(await accessLog(since)),
  };
}

async function startTrackerIn(
  network: NetnsNetwork,
  dir: string,
  tokenFile: string,
  extra: string[],
): Promise<SwarmCluster["tracker"]> {
  if (!existsSync(TRACKER_BIN)) throw new Error(`${TRACKER_BIN} is missing: run npm run build`);
  const listen = `${network.tracker.ip}:${TRACKER_PORT}`;
  const logPath = logIn(dir, "tracker");
  const args = [
    TRACKER_BIN,
    "--listen",
    listen,
    "--peer-token-file",
    tokenFile,
    "--log-level",
    "debug",
    ...extra,
  ];
  const proc = await network.spawnIn(network.tracker.ns, process.execPath, args, { logPath });
  const url = `http://${listen}`;
  await waitForHttpIn(network, network.tracker.ns, `${url}/readyz`, { statuses: [200], process: proc });
  return { url, logPath, process: proc };
}

/** The default launcher: build/peerpull-agent.js with the swarm flags of DESIGN 2.5. */
export const launchAgent: AgentLauncher = async (node, ctx) => {
  if (!existsSync(AGENT_BIN))
    throw new Error(`${AGENT_BIN} is missing: run npm run build (or pass agents: false)`);
  const name = node.ns.split("-").pop()!;
  const cacheDir = join(ctx.dir, `cache-${name}`);
  const args = [
    ...agentNodeArgs(AGENT_BIN),
    AGENT_BIN,
    "--listen",
    `0.0.0.0:${AGENT_PORT}`,
    "--peer-listen",
    `${node.ip}:${PEER_PORT}`,
    "--upstream",
    `${ctx.registryName}=http://${ctx.registryHost}`,
    "--cache-dir",
    cacheDir,
    "--tracker",
    ctx.trackerUrl,
    "--peer-token-file",
    ctx.tokenFile,
    ...ctx.args,
  ];
  const logPath = logIn(ctx.dir, `agent-${name}`);
  const proc = await ctx.network.spawnIn(node.ns, process.execPath, args, { logPath });
  const peerUrl = `http://${node.ip}:${PEER_PORT}`;
  await waitForHttpIn(ctx.network, node.ns, `${peerUrl}/readyz`, { statuses: [200], process: proc });
  return { node, url: `http://${node.ip}:${AGENT_PORT}`, peerUrl, cacheDir, process: proc };
};
