/**
 * Pure: what one reconcile pass found -> the config's status. Conditions keep their
 * lastTransitionTime while their status does not change; reasons are CamelCase and messages say what
 * a person can do.
 */
import type { Condition, ConditionType, P2PAccelerationConfigStatus } from "../crd/p2p-acceleration-config";
import type { RegistriesOutcome } from "./registries";
import type { CleanupRollout } from "./mirror-finalizer";
import type { ConflictsReading } from "./agent-conflicts";
import { conflictsStatus } from "./mirror-conflicts-status";
import { AGENT_NAME, MIRROR_CLEANUP_FINALIZER, NODE_SELECTOR_LABEL } from "./names";

export interface DaemonSetView {
  metadata?: { generation?: number };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    numberUnavailable?: number;
  };
}

export interface PassReport {
  generation?: number;
  namespace: string;
  registries: RegistriesOutcome;
  /** Rendering refused (InvalidConfig, NoRegistries) with its problems; nothing was applied. */
  refused?: { reason: string; problems: string[] };
  /** Applying failed; retried after `retryInSeconds`. */
  applyError?: { message: string; retryInSeconds?: number };
  /** Another config is the active one (the one named default, else the first by name). */
  inactiveBecause?: string;
  agentDaemonSet?: DaemonSetView;
  nodeSelectorEnable?: boolean;
  /** The config holds the mirror-cleanup finalizer and agents are removing hosts.toml files. */
  mirrorCleanup?: { config: string; deleting: boolean; rollout: CleanupRollout; applied: boolean };
  /** Mirror mode: what the ready agents said about hosts.toml files they did not write. */
  mirrorConflicts?: ConflictsReading;
}

type Verdict = Pick<Condition, "status" | "reason" | "message">;

export function statusOf(
  previous: P2PAccelerationConfigStatus | undefined,
  report: PassReport,
  now: Date,
): P2PAccelerationConfigStatus {
  const registriesCondition: Verdict = {
    status: report.registries.resolved ? "True" : "False",
    reason: report.registries.reason,
    message: report.registries.message,
  };
  const agents = agentsVerdict(report);
  const ready = readyVerdict(report, registriesCondition, agents.verdict);
  const at = now.toISOString();
  const condition = (type: ConditionType, verdict: Verdict): Condition => {
    const before = previous?.conditions?.find(c => c.type === type);
    return {
      type,
      ...verdict,
      observedGeneration: report.generation,
      lastTransitionTime: before && before.status === verdict.status ? before.lastTransitionTime : at,
    };
  };
  const conditions = [
    condition("Ready", ready),
    condition("RegistriesResolved", registriesCondition),
    condition("AgentsReady", agents.verdict),
  ];
  if (report.mirrorCleanup) conditions.push(condition("MirrorCleanup", cleanupVerdict(report.mirrorCleanup)));
  const conflicts = report.mirrorConflicts && conflictsStatus(report.mirrorConflicts);
  if (conflicts) conditions.push(condition("MirrorConflicts", conflicts.verdict));
  return {
    observedGeneration: report.generation,
    conditions,
    registries: report.registries.registries,
    agents: agents.counts,
    // a status patch merges: once listed, the field is emptied rather than left out
    ...(conflicts || previous?.mirrorConflicts ? { mirrorConflicts: conflicts?.listed ?? [] } : {}),
  };
}

function agentsVerdict(report: PassReport): { verdict: Verdict; counts: { desired: number; ready: number } } {
  const ds = report.agentDaemonSet;
  const desired = ds?.status?.desiredNumberScheduled ?? 0;
  const ready = ds?.status?.numberReady ?? 0;
  const counts = { desired, ready };
  const pods = `kubectl -n ${report.namespace} get pods -l app.kubernetes.io/name=${AGENT_NAME}`;
  if (!ds)
    return {
      counts,
      verdict: {
        status: "False",
        reason: "NotDeployed",
        message: `DaemonSet ${AGENT_NAME} does not exist yet`,
      },
    };
  if (
    ds.status?.observedGeneration === undefined ||
    ds.status.observedGeneration < (ds.metadata?.generation ?? 0)
  )
    return {
      counts,
      verdict: {
        status: "Unknown",
        reason: "Pending",
        message: "the DaemonSet controller has not seen the latest spec yet",
      },
    };
  if (desired === 0)
    return {
      counts,
      verdict: {
        status: "False",
        reason: "NoNodes",
        message: report.nodeSelectorEnable
          ? `no node is labelled ${NODE_SELECTOR_LABEL}=true (kubectl label node NODE ${NODE_SELECTOR_LABEL}=true)`
          : "no node is scheduled to run an agent",
      },
    };
  if (ready < desired)
    return {
      counts,
      verdict: {
        status: "False",
        reason: "AgentsNotReady",
        message: `${ready} of ${desired} agents ready; see ${pods}`,
      },
    };
  if ((ds.status.updatedNumberScheduled ?? desired) < desired)
    return {
      counts,
      verdict: {
        status: "False",
        reason: "RollingOut",
        message: `${ds.status.updatedNumberScheduled} of ${desired} agents run the current config`,
      },
    };
  return {
    counts,
    verdict: { status: "True", reason: "AgentsReady", message: `${ready} of ${desired} agents ready` },
  };
}

/** How to let a deletion go on without the cleanup (the module is not running, a node is stuck). */
export function skipCleanupHint(config: string): string {
  return (
    `to delete without it: kubectl patch p2paccelerationconfig ${config} --type=json ` +
    `-p '[{"op":"remove","path":"/metadata/finalizers"}]' (drops ${MIRROR_CLEANUP_FINALIZER}; ` +
    `the files stay on the nodes)`
  );
}

function cleanupVerdict(cleanup: NonNullable<PassReport["mirrorCleanup"]>): Verdict {
  const { rollout, deleting, config } = cleanup;
  const then = deleting ? `; the deletion waits for it; ${skipCleanupHint(config)}` : "";
  if (!cleanup.applied)
    return {
      status: "True",
      reason: "Blocked",
      message: `the agents that remove mirror mode's hosts.toml files could not be applied (see Ready)${then}`,
    };
  return {
    status: "True",
    reason: "InProgress",
    message:
      `agents are removing mirror mode's hosts.toml files from the nodes: ${rollout.available} of ` +
      `${rollout.desired} done, ${rollout.updated} updated${then}`,
  };
}

function readyVerdict(report: PassReport, registries: Verdict, agents: Verdict): Verdict {
  if (report.inactiveBecause)
    return { status: "False", reason: "NotActive", message: report.inactiveBecause };
  if (report.mirrorCleanup?.deleting && !report.refused && !report.applyError)
    return {
      status: "False",
      reason: "Deleting",
      message:
        "being deleted once the agents have removed mirror mode's hosts.toml files (see MirrorCleanup)",
    };
  // nothing to accelerate because the ACR instances did not resolve: the cloud's error is the cause
  if (report.refused?.reason === "NoRegistries" && registries.status !== "True")
    return { status: "False", reason: "RegistriesNotResolved", message: registries.message };
  if (report.refused)
    return { status: "False", reason: report.refused.reason, message: report.refused.problems.join("; ") };
  if (report.applyError) {
    const retry = report.applyError.retryInSeconds;
    const when = retry === undefined ? "" : `; retrying in ${retry}s`;
    return { status: "False", reason: "ApplyFailed", message: `${report.applyError.message}${when}` };
  }
  if (registries.status !== "True")
    return { status: "False", reason: "RegistriesNotResolved", message: registries.message };
  if (agents.status !== "True") return { status: "False", reason: agents.reason, message: agents.message };
  return {
    status: "True",
    reason: "Ready",
    message: `agents serve ${report.registries.registries.length} registries`,
  };
}
