/**
 * Pure: the `peerpull.io/mirror-cleanup` finalizer. Mirror-mode agents write hosts.toml files into
 * each node's containerd directory, and nothing removes them once the agents are gone, so the config
 * in force carries the finalizer while agents may have left files:
 * - in mirror mode it is added (before the mirror-mode DaemonSet is applied);
 * - back in rewrite mode, or being deleted, the agents roll out with the `mirror-cleanup` init
 *   container (mirror-cleanup.ts), and the finalizer is removed once that rollout is complete on
 *   every node; a deletion then proceeds and the garbage collector removes the rest;
 * - on any other config (inactive, or a second one being deleted) it is removed at once: the config
 *   in force owns the agents and so the files.
 */
import type { P2PAccelerationConfig } from "../crd/p2p-acceleration-config";
import { DEFAULT_CONFIG_NAME } from "../crd/active-config";
import { MIRROR_CLEANUP_FINALIZER } from "./names";

/** The bit of the live agent DaemonSet the decision reads. */
export interface LiveAgentDaemonSet {
  metadata?: { generation?: number };
  spec?: { template?: { spec?: { initContainers?: { name?: string }[] } } };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberUnavailable?: number;
  };
}

export interface CleanupRollout {
  /** The live DaemonSet's pods run the mirror-cleanup init container. */
  runsCleanup: boolean;
  /** ...and every scheduled node runs such a pod, available (its init container has finished). */
  complete: boolean;
  desired: number;
  updated: number;
  available: number;
}

export const CLEANUP_CONTAINER = "mirror-cleanup";

/** Like `kubectl rollout status`, for the cleanup DaemonSet (a node count of 0 is complete). */
export function cleanupRollout(ds: LiveAgentDaemonSet | undefined): CleanupRollout {
  const status = ds?.status ?? {};
  const desired = status.desiredNumberScheduled ?? 0;
  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  const runsCleanup = (ds?.spec?.template?.spec?.initContainers ?? []).some(
    c => c.name === CLEANUP_CONTAINER,
  );
  const observed =
    status.observedGeneration !== undefined && status.observedGeneration >= (ds?.metadata?.generation ?? 0);
  const complete =
    runsCleanup &&
    observed &&
    updated >= desired &&
    available >= desired &&
    (status.numberUnavailable ?? 0) === 0;
  return { runsCleanup, complete, desired, updated, available };
}

export function holdsCleanupFinalizer(config: P2PAccelerationConfig): boolean {
  return (config.metadata?.finalizers ?? []).includes(MIRROR_CLEANUP_FINALIZER);
}

/**
 * The config being deleted whose agents must clean up first: among those being deleted that hold
 * the finalizer, the one the active-config rule would pick (named "default", else the first by name).
 * Only asked when no live config is active.
 */
export function deletingWithCleanup(
  configs: readonly P2PAccelerationConfig[],
): P2PAccelerationConfig | undefined {
  const waiting = configs.filter(c => c.metadata?.deletionTimestamp && holdsCleanupFinalizer(c));
  return (
    waiting.find(c => c.metadata?.name === DEFAULT_CONFIG_NAME) ??
    [...waiting].sort((a, b) => ((a.metadata?.name ?? "") < (b.metadata?.name ?? "") ? -1 : 1))[0]
  );
}

/** `active`: the live config in force; `deleting`: the one being deleted that waits for its cleanup. */
export type Role = "active" | "deleting";

export interface FinalizerInput {
  role: Role;
  mode: "rewrite" | "mirror";
  holds: boolean;
  /** The pass applied the desired objects (the live DaemonSet is the one it rendered). */
  applied: boolean;
  rollout: CleanupRollout;
}

export interface FinalizerDecision {
  change?: "add" | "remove";
  /** Agents are removing hosts.toml files and the finalizer waits for them (status says so). */
  waiting: boolean;
}

export function finalizerDecision(input: FinalizerInput): FinalizerDecision {
  if (input.role === "active" && input.mode === "mirror")
    return { change: input.holds ? undefined : "add", waiting: false };
  if (!input.holds) return { waiting: false };
  if (input.applied && input.rollout.complete) return { change: "remove", waiting: false };
  return { waiting: true };
}

/** The finalizer list after a change (others' finalizers kept, in order). */
export function finalizersAfter(config: P2PAccelerationConfig, change: "add" | "remove"): string[] {
  const now = (config.metadata?.finalizers ?? []).filter(f => f !== MIRROR_CLEANUP_FINALIZER);
  return change === "add" ? [...now, MIRROR_CLEANUP_FINALIZER] : now;
}
