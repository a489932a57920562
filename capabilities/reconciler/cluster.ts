/**
 * The Kubernetes API as the reconciler sees it. `k8s-reconcile-cluster.ts` is the real one,
 * `testing/memory-cluster.ts` the twin. Each method is one API request (listed beside it), which is
 * what the RBAC test checks against the module's generated ClusterRole.
 */
import type { P2PAccelerationConfig, P2PAccelerationConfigStatus } from "../crd/p2p-acceleration-config";
import type { ManifestObject, ObjectRef } from "./desired-objects";

/** An agent pod as the conflicts probe needs it (host network: `ip` is the node's address). */
export interface AgentPod {
  name: string;
  node: string;
  ip: string;
  ready: boolean;
}

export interface ReconcileCluster {
  /** PATCH (server-side apply, field manager `peerpull`, force) on the object's resource. */
  apply(object: ManifestObject): Promise<void>;
  /** GET; undefined when it does not exist. */
  read<T = ManifestObject>(ref: ObjectRef): Promise<T | undefined>;
  /** DELETE (background propagation); no error when it is already gone. */
  remove(ref: ObjectRef): Promise<void>;
  /** LIST secrets in all namespaces with the label `peerpull.io/derived-from`. */
  derivedSecrets(): Promise<{ namespace: string; name: string }[]>;
  /** PATCH (merge) p2paccelerationconfigs/<name>/status. */
  patchConfigStatus(name: string, status: P2PAccelerationConfigStatus): Promise<void>;
  /**
   * PATCH (merge) p2paccelerationconfigs/<name>: `metadata.finalizers` replaced, with
   * `resourceVersion` for optimistic locking (a config changed meanwhile is 409; the pass retries).
   */
  patchConfigFinalizers(name: string, finalizers: string[], resourceVersion: string): Promise<void>;
  /** LIST pods in `namespace` with the agent's selector labels. */
  agentPods(namespace: string): Promise<AgentPod[]>;
  /** LIST p2paccelerationconfigs. */
  listConfigs(): Promise<P2PAccelerationConfig[]>;
}

/** An API error as both clusters report it: the HTTP status and the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** kind -> REST resource of everything the reconciler touches. */
export const RESOURCES: Record<string, { group: string; resource: string; namespaced: boolean }> = {
  Namespace: { group: "", resource: "namespaces", namespaced: false },
  ServiceAccount: { group: "", resource: "serviceaccounts", namespaced: true },
  ConfigMap: { group: "", resource: "configmaps", namespaced: true },
  Secret: { group: "", resource: "secrets", namespaced: true },
  Service: { group: "", resource: "services", namespaced: true },
  Pod: { group: "", resource: "pods", namespaced: true },
  DaemonSet: { group: "apps", resource: "daemonsets", namespaced: true },
  StatefulSet: { group: "apps", resource: "statefulsets", namespaced: true },
  P2PAccelerationConfig: { group: "peerpull.io", resource: "p2paccelerationconfigs", namespaced: false },
};

/** A Pod object (as listed) -> AgentPod: Ready condition True, address from status.podIP. */
export function agentPodOf(pod: {
  metadata?: { name?: string };
  spec?: { nodeName?: string };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}): AgentPod {
  return {
    name: pod.metadata?.name ?? "",
    node: pod.spec?.nodeName ?? "",
    ip: pod.status?.podIP ?? "",
    ready: (pod.status?.conditions ?? []).some(c => c.type === "Ready" && c.status === "True"),
  };
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return `${err.status} ${err.message}`;
  const status = (err as { status?: unknown } | null)?.status;
  const text = err instanceof Error ? err.message : String(err);
  return typeof status === "number" ? `${status} ${text}` : text;
}
