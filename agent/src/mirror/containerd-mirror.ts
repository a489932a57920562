/**
 * Mirror mode in the running agent: keeps containerd's hosts dir in line with `--upstream` at start
 * and on every housekeeping tick (so a conflict an operator clears, or a file someone deleted, is
 * picked up without a restart), says what it changed and what it had to leave alone, and checks
 * containerd's config.toml once. Files stay when the agent stops: a restart must not make pulls
 * flap, and a hosts.toml whose agent is gone still falls back to the registry.
 */
import type { Logger } from "pino";
import type { HostPort, Upstream } from "../../../protocol/agent-config";
import type { MirrorConflict } from "../../../protocol/mirror-conflicts";
import type { AgentMetrics } from "../metrics";
import { checkContainerdConfig, readContainerdConfig } from "./containerd-config";
import { HostsDirReport, reconcileHostsDir } from "./hosts-dir-writer";
import { agentMirrorUrl, MirrorEntry } from "./hosts-toml";

type MirrorMetrics = Pick<
  AgentMetrics,
  "mirrorHostsFiles" | "mirrorHostsConflicts" | "mirrorHostsFailures" | "mirrorCriIgnoresHostsDir"
>;

export interface ContainerdMirrorOptions {
  hostsDir: string;
  containerdConfig?: string;
  upstreams: readonly Upstream[];
  metrics: MirrorMetrics;
  log: Logger;
}

export class ContainerdMirror {
  private readonly entries: MirrorEntry[];
  private conflicts: MirrorConflict[] = [];
  private agentUrl?: string;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: ContainerdMirrorOptions) {
    this.entries = options.upstreams.map(upstream => ({ registry: upstream.host, server: upstream.origin }));
  }

  /** Call once the registry API listens, with its bound address. */
  async start(registryAddress: HostPort): Promise<void> {
    this.agentUrl = agentMirrorUrl(registryAddress);
    this.options.log.info(
      {
        hostsDir: this.options.hostsDir,
        mirror: this.agentUrl,
        registries: this.entries.map(e => e.registry),
      },
      "mirror mode: writing containerd hosts.toml files",
    );
    await this.checkContainerd();
    await this.reconcile();
  }

  /** One pass over the hosts dir; never throws (a failure is logged and counted), never overlaps. */
  reconcile(): Promise<void> {
    if (this.stopped || this.agentUrl === undefined) return Promise.resolve();
    this.running ??= this.pass(this.agentUrl).finally(() => (this.running = undefined));
    return this.running;
  }

  /** The conflicts the last pass found (served on the peer port as `GET /mirror/conflicts`). */
  currentConflicts(): MirrorConflict[] {
    return this.conflicts.map(c => ({ ...c }));
  }

  /** No more passes; the files stay (see the header). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async pass(agentUrl: string): Promise<void> {
    const { hostsDir, log, metrics } = this.options;
    try {
      const report = await reconcileHostsDir(hostsDir, this.entries, agentUrl);
      this.logChanges(report);
      metrics.mirrorHostsFiles.set(report.written.length + report.unchanged.length);
      metrics.mirrorHostsConflicts.reset();
      for (const conflict of report.conflicts)
        metrics.mirrorHostsConflicts.set({ registry: conflict.registry }, 1);
    } catch (err) {
      metrics.mirrorHostsFailures.inc();
      log.error({ err, hostsDir }, "mirror mode: could not update containerd hosts.toml files");
    }
  }

  private logChanges(report: HostsDirReport): void {
    const { log } = this.options;
    if (report.written.length > 0)
      log.info({ registries: report.written }, "mirror mode: hosts.toml written");
    if (report.removed.length > 0)
      log.info({ dirs: report.removed }, "mirror mode: hosts.toml removed (registry no longer configured)");
    const before = new Map(this.conflicts.map(c => [c.registry, c.reason]));
    const now = new Map(report.conflicts.map(c => [c.registry, c.reason]));
    for (const conflict of report.conflicts) {
      if (before.get(conflict.registry) === conflict.reason) continue;
      log.warn(
        conflict,
        `mirror mode: ${conflict.path} was not written by peerpull-agent and is left as it is, so pulls of ` +
          `${conflict.registry} do not go through the agent; remove it to let the agent manage it`,
      );
    }
    for (const registry of before.keys())
      if (!now.has(registry)) log.info({ registry }, "mirror mode: hosts.toml conflict resolved");
    this.conflicts = report.conflicts.map(({ registry, path, reason }) => ({ registry, path, reason }));
  }

  private async checkContainerd(): Promise<void> {
    const { containerdConfig, hostsDir, log, metrics } = this.options;
    if (containerdConfig === undefined) {
      log.info(
        { hostsDir },
        "mirror mode: containerd's CRI plugin reads these files only when its registry config_path lists " +
          "this directory; pass --containerd-config to have the agent check",
      );
      return;
    }
    try {
      const check = checkContainerdConfig(await readContainerdConfig(containerdConfig), hostsDir);
      metrics.mirrorCriIgnoresHostsDir.set(check.ok ? 0 : 1);
      if (check.ok) log.info({ configPath: check.configPath }, "mirror mode: containerd reads the hosts dir");
      else log.warn({ containerdConfig }, check.problem);
    } catch (err) {
      log.warn(
        { err, containerdConfig },
        "mirror mode: cannot read containerd's config to check config_path",
      );
    }
  }
}

/** The one-shot `--containerd-hosts-cleanup`: removes every hosts.toml the agent wrote under `hostsDir`. */
export async function removeManagedHostsFiles(hostsDir: string): Promise<HostsDirReport> {
  return reconcileHostsDir(hostsDir, [], "");
}
