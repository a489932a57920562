/**
 * One reconcile pass over the whole cluster, in order: pick the config in charge (the active one,
 * else one being deleted that waits for mirror mode's cleanup) -> release the cleanup finalizer on
 * every other config -> resolve registries -> read the kept peer token and the live agent DaemonSet
 * (did agents run in mirror mode?) -> add the finalizer (mirror mode) -> desired objects -> apply
 * (prune what is no longer wanted) -> remove the finalizer once the cleanup rollout is complete
 * (mirror-finalizer.ts) -> in mirror mode, ask the ready agents for hosts.toml conflicts -> status.
 * No config left: remove everything peerpull created, derived pull secrets included.
 * Idempotent; the controller decides when it runs and retries it (waiting for a cleanup rollout is
 * retried with its backoff too, besides the DaemonSet watch asking for a pass).
 */
import { randomBytes } from "node:crypto";
import type { AcrResolver } from "../acr/acr-resolver";
import type { P2PAccelerationConfig, P2PAccelerationConfigStatus } from "../crd/p2p-acceleration-config";
import { P2P_CONFIG_GVK } from "../crd/p2p-acceleration-config";
import { activeConfig } from "../crd/active-config";
import { applyDesired, removeEverything } from "./apply";
import type { ConflictsReading } from "./agent-conflicts";
import { AgentPod, ReconcileCluster, errorText } from "./cluster";
import { credentialsSecretOf, SecretRef } from "./credentials-secret";
import { desiredObjects, ManifestObject } from "./desired-objects";
import { DaemonSetVolumes, mirrorCleanupNeeded, mountsHostsDir } from "./desired-objects/mirror-cleanup";
import {
  cleanupRollout,
  deletingWithCleanup,
  finalizerDecision,
  finalizersAfter,
  holdsCleanupFinalizer,
  LiveAgentDaemonSet,
} from "./mirror-finalizer";
import { AGENT_NAME, PEER_TOKEN_KEY, PEER_TOKEN_SECRET, SYSTEM_NAMESPACE } from "./names";
import { resolveRegistries } from "./registries";
import { DaemonSetView, PassReport, statusOf } from "./status";

export interface ReconcileLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ReconcilerDeps {
  cluster: ReconcileCluster;
  acr?: AcrResolver;
  /** Mirror mode: asks the ready agents for hosts.toml conflicts (agent-conflicts.ts). */
  agentConflicts?: { read(pods: readonly AgentPod[]): Promise<ConflictsReading> };
  log: ReconcileLog;
  namespace?: string;
  /** A new random peer token (only when none is kept yet). */
  newToken?: () => string;
  now?: () => Date;
}

export interface PassResult {
  /** Something failed that may succeed later (API error, cloud error): retry with backoff. */
  retry: boolean;
  active?: string;
  /** The Secret the active config's ACR resolution reads: a change to it asks for a pass. */
  credentialsSecret?: SecretRef;
}

const MIN_TOKEN_CHARS = 16;
const FOREGROUND = "foregroundDeletion";

export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}

export async function reconcilePass(deps: ReconcilerDeps, retryInSeconds?: number): Promise<PassResult> {
  const namespace = deps.namespace ?? SYSTEM_NAMESPACE;
  const configs = await deps.cluster.listConfigs();
  const active = activeConfig(configs);
  const inCharge = active ?? deletingWithCleanup(configs);
  for (const other of configs) if (other !== inCharge) await releaseFinalizer(deps, other);
  if (!inCharge) {
    await removeEverything(deps.cluster, namespace);
    deps.log.info({ namespace }, "no P2PAccelerationConfig left: everything peerpull created is removed");
    return { retry: false };
  }
  const deleting = inCharge !== active;
  const name = inCharge.metadata!.name!;
  // a config being deleted runs its agents in rewrite mode: they remove the hosts.toml files first
  const spec = deleting ? { ...inCharge.spec, mode: "rewrite" as const } : (inCharge.spec ?? {});
  const mode = spec.mode ?? "rewrite";
  const holds = holdsCleanupFinalizer(inCharge);
  const registries = await resolveRegistries(spec, deps.acr, inCharge.status?.registries);
  const report: PassReport = {
    generation: inCharge.metadata?.generation,
    namespace,
    registries,
    nodeSelectorEnable: spec.p2p?.nodeSelectorEnable === true,
  };
  let retry = registries.retry;
  const agentRef = { apiVersion: "apps/v1", kind: "DaemonSet", namespace, name: AGENT_NAME };
  const liveBefore = await deps.cluster.read<DaemonSetVolumes>(agentRef);
  const desired = desiredObjects({
    spec,
    registries: registries.registries,
    peerToken: await keptToken(deps, namespace),
    namespace,
    mirrorCleanup: (holds && mode !== "mirror") || mirrorCleanupNeeded(spec, liveBefore),
    // `kubectl delete --cascade=foreground` has the garbage collector delete the config's objects
    // while it waits: disowned, they stay for the cleanup, and the pass after the config is gone
    // removes them (as it removes the derived pull secrets)
    ...(orphanForCleanup(inCharge)
      ? {}
      : {
          owner: {
            apiVersion: `${P2P_CONFIG_GVK.group}/${P2P_CONFIG_GVK.version}`,
            kind: P2P_CONFIG_GVK.kind,
            name,
            uid: inCharge.metadata!.uid!,
          },
        }),
  });
  const role = deleting ? "deleting" : "active";
  const before = finalizerDecision({ role, mode, holds, applied: false, rollout: cleanupRollout(undefined) });
  // added before any mirror-mode agent can write a file; a config refused from the start has none
  if (before.change === "add" && (desired.ok || mountsHostsDir(liveBefore)))
    await changeFinalizer(deps, inCharge, "add");
  let applied = false;
  if (!desired.ok) {
    report.refused = { reason: desired.reason, problems: desired.problems };
    deps.log.warn({ config: name, problems: desired.problems }, "config not applied");
  } else {
    try {
      await applyDesired(deps.cluster, desired.objects, namespace);
      applied = true;
    } catch (err) {
      report.applyError = { message: errorText(err), retryInSeconds };
      deps.log.warn({ config: name, err: errorText(err) }, "applying peerpull objects failed");
      retry = true;
    }
  }
  const live = await deps.cluster.read<DaemonSetView & LiveAgentDaemonSet>(agentRef);
  report.agentDaemonSet = live;
  const rollout = cleanupRollout(live);
  const after = finalizerDecision({ role, mode, holds, applied, rollout });
  if (after.change === "remove") {
    await changeFinalizer(deps, inCharge, "remove");
    deps.log.info(
      { config: name, nodes: rollout.desired },
      "mirror mode: hosts.toml files removed from every node",
    );
    if (deleting) return { retry, ...secretOf(spec) }; // gone, or going: no status to write
  }
  if (!deleting && mode === "mirror" && deps.agentConflicts)
    report.mirrorConflicts = await deps.agentConflicts.read(await deps.cluster.agentPods(namespace));
  if (after.waiting) {
    report.mirrorCleanup = { config: name, deleting, rollout, applied };
    retry = true;
  }
  await writeStatus(deps, inCharge, report);
  for (const other of configs)
    if (other !== inCharge && other.metadata?.name && !other.metadata.deletionTimestamp)
      await writeStatus(deps, other, inactiveReport(namespace, name));
  return { retry, ...(deleting ? {} : { active: name }), ...secretOf(spec) };
}

function orphanForCleanup(config: P2PAccelerationConfig): boolean {
  return !!config.metadata?.deletionTimestamp && (config.metadata.finalizers ?? []).includes(FOREGROUND);
}

function secretOf(spec: P2PAccelerationConfig["spec"] & object): { credentialsSecret?: SecretRef } {
  const credentialsSecret = credentialsSecretOf(spec);
  return credentialsSecret ? { credentialsSecret } : {};
}

/** A config not in charge holds no cleanup finalizer: the config in charge owns the agents' files. */
async function releaseFinalizer(deps: ReconcilerDeps, config: P2PAccelerationConfig): Promise<void> {
  if (holdsCleanupFinalizer(config)) await changeFinalizer(deps, config, "remove");
}

async function changeFinalizer(
  deps: ReconcilerDeps,
  config: P2PAccelerationConfig,
  change: "add" | "remove",
): Promise<void> {
  const name = config.metadata!.name!;
  await deps.cluster.patchConfigFinalizers(
    name,
    finalizersAfter(config, change),
    config.metadata!.resourceVersion!,
  );
  config.metadata!.finalizers = finalizersAfter(config, change);
  deps.log.info({ config: name, change }, `mirror-cleanup finalizer: ${change}`);
}

function inactiveReport(namespace: string, active: string): PassReport {
  const message = `P2PAccelerationConfig "${active}" is the active one (the one named "default", else the first by name); delete this one`;
  return {
    namespace,
    inactiveBecause: message,
    registries: { registries: [], resolved: false, reason: "NotActive", message, retry: false },
  };
}

async function writeStatus(
  deps: ReconcilerDeps,
  config: P2PAccelerationConfig,
  report: PassReport,
): Promise<void> {
  const now = deps.now?.() ?? new Date();
  const status = statusOf(config.status, { ...report, generation: config.metadata?.generation }, now);
  if (sameStatus(config.status, status)) return;
  await deps.cluster.patchConfigStatus(config.metadata!.name!, status);
}

function sameStatus(a: P2PAccelerationConfigStatus | undefined, b: P2PAccelerationConfigStatus): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b);
}

/** The token in the cluster's Secret, or a new one when there is none (or it is unusable). */
async function keptToken(deps: ReconcilerDeps, namespace: string): Promise<string> {
  const secret = await deps.cluster.read<ManifestObject & { data?: Record<string, string> }>({
    apiVersion: "v1",
    kind: "Secret",
    namespace,
    name: PEER_TOKEN_SECRET,
  });
  const encoded = secret?.data?.[PEER_TOKEN_KEY];
  const token = encoded ? Buffer.from(encoded, "base64").toString("utf8").trim() : "";
  return token.length >= MIN_TOKEN_CHARS ? token : (deps.newToken ?? randomToken)();
}
