/**
 * The names, labels, ports and paths of everything the reconciler creates (the contract in the README
 * and in the other branches' code: the agent, the tracker and the pod mutation rely on them).
 */
export const SYSTEM_NAMESPACE = "peerpull-system";
/** Server-side apply field manager of every object the reconciler applies. */
export const FIELD_MANAGER = "peerpull";

export const AGENT_NAME = "peerpull-agent";
export const TRACKER_NAME = "peerpull-tracker";
export const PEER_TOKEN_SECRET = "peerpull-peer-token";
export const PEER_TOKEN_KEY = "token";
export const AGENT_CONFIG_KEY = "agent.yaml";

export const PEER_PORT = 65002;
export const TRACKER_PORT = 65010;

/** Where the agent and tracker containers see their volumes. */
export const CONFIG_DIR = "/etc/peerpull/config";
export const TOKEN_DIR = "/etc/peerpull/token";
export const CACHE_DIR = "/var/lib/peerpull";
/** Mirror mode: the node's containerd hosts directory, mounted at the same path. */
export const CONTAINERD_CERTS_DIR = "/etc/containerd/certs.d";
/** Mirror mode: the node's containerd config directory (read-only), for the agent's config_path check. */
export const CONTAINERD_CONFIG_DIR = "/etc/containerd";
export const CONTAINERD_CONFIG_FILE = `${CONTAINERD_CONFIG_DIR}/config.toml`;

export const NODE_SELECTOR_LABEL = "k8s.aliyun.com/p2p-plus-node";
/**
 * Finalizer the reconciler keeps on the config in force while agents may have left hosts.toml files
 * on nodes (mirror mode, and leaving it): deletion waits until every node has removed them.
 */
export const MIRROR_CLEANUP_FINALIZER = "peerpull.io/mirror-cleanup";
/** Pod template annotation: a hash of the agent config and token, so a change rolls the pods. */
export const CHECKSUM_ANNOTATION = "peerpull.io/config-checksum";

/** Until a published image exists, build the Dockerfile and set spec.agent.image. */
export const DEFAULT_IMAGE = "ghcr.io/peerpull/peerpull:0.1.0";
/** The image's non-root user (Dockerfile `USER 65532:65532`). */
export const IMAGE_USER = 65532;

export type Component = typeof AGENT_NAME | typeof TRACKER_NAME;

export const MANAGED_BY = { "app.kubernetes.io/managed-by": "peerpull" } as const;

export function labelsOf(component: Component): Record<string, string> {
  return { "app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "peerpull", ...MANAGED_BY };
}

/** Pod selector of a component (a subset of its labels, stable across versions). */
export function selectorOf(component: Component): Record<string, string> {
  return { "app.kubernetes.io/name": component, "app.kubernetes.io/part-of": "peerpull" };
}

/** Stable per-replica URLs through the headless Service (agents shard digests over them). */
export function trackerUrls(namespace: string, replicas: number): string[] {
  return Array.from(
    { length: replicas },
    (_, i) => `http://${TRACKER_NAME}-${i}.${TRACKER_NAME}.${namespace}.svc:${TRACKER_PORT}`,
  );
}
