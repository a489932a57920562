/**
 * The one TypeScript type of the `P2PAccelerationConfig` custom resource (peerpull.io/v1alpha1,
 * cluster-scoped; DESIGN 3.1). The OpenAPI schema is `crds/p2p-acceleration-config.yaml`; the two
 * are kept in step by `p2p-acceleration-config.test.ts`.
 */
import { a, RegisterKind } from "pepr";

export const P2P_CONFIG_GVK = {
  group: "peerpull.io",
  version: "v1alpha1",
  kind: "P2PAccelerationConfig",
  plural: "p2paccelerationconfigs",
} as const;

export const DEFAULT_OPT_IN_LABEL = "k8s.aliyun.com/image-accelerate-mode";
export const OPT_IN_VALUE = "p2p";
export const DEFAULT_P2P_PORT = 65001;

export interface RegistrySpec {
  /** Registry host as it appears in image references, e.g. "registry.example.com" or "docker.io". */
  host: string;
  /** Origin base URL for fetches; default https://<host> (docker.io -> https://registry-1.docker.io). */
  origin?: string;
  /** Public images: rewrite even when the pod has no pull secret for this registry. */
  anonymous?: boolean;
}

export interface CredentialsSpec {
  /** Secret with keys access-key-id / access-key-secret; default kube-system/alibaba-addon-secret. */
  secretRef?: { namespace?: string; name?: string };
  ramRole?: string;
}

export interface P2PSpec {
  port?: number;
  /** Node-wide byte rate, e.g. "512M". */
  ratelimit?: string;
  /** e.g. "24h". */
  cacheTTL?: string;
  cacheHostPath?: string;
  /** e.g. "100G". */
  cacheMaxSize?: string;
  downloadPattern?: "p2p" | "source";
  nodeSelectorEnable?: boolean;
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export interface P2PAccelerationConfigSpec {
  region?: string;
  acrInstances?: string[];
  registries?: RegistrySpec[];
  pullImageInternet?: boolean;
  mode?: "rewrite" | "mirror";
  optInLabel?: string;
  credentials?: CredentialsSpec;
  p2p?: P2PSpec;
  agent?: { image?: string; resources?: ResourceRequirements };
  tracker?: { replicas?: number };
}

export type ConditionType =
  | "Ready"
  | "RegistriesResolved"
  | "AgentsReady"
  | "MirrorCleanup"
  | "MirrorConflicts";

/** metav1.Condition as it travels in JSON (the timestamp stays an RFC 3339 string). */
export interface Condition {
  type: ConditionType;
  status: "True" | "False" | "Unknown";
  observedGeneration?: number;
  lastTransitionTime: string;
  /** CamelCase, machine-readable. */
  reason: string;
  /** What a person can do about it. */
  message: string;
}

export interface ResolvedRegistry {
  host: string;
  origin: string;
  source: "acr" | "static";
  instanceId?: string;
}

export interface P2PAccelerationConfigStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  registries?: ResolvedRegistry[];
  agents?: { desired?: number; ready?: number };
  /** Mirror mode: hosts.toml files the agents left alone, per node (at most 20 listed). */
  mirrorConflicts?: { node: string; registry: string; reason: string }[];
}

export class P2PAccelerationConfig extends a.GenericKind {
  declare spec?: P2PAccelerationConfigSpec;
  declare status?: P2PAccelerationConfigStatus;
}

RegisterKind(P2PAccelerationConfig, P2P_CONFIG_GVK);
