/** What the desired-object generators take and give. */
import type { KubernetesObject } from "@kubernetes/client-node";
import type { P2PAccelerationConfigSpec, ResolvedRegistry } from "../../crd/p2p-acceleration-config";

export interface DesiredInput {
  spec: P2PAccelerationConfigSpec;
  /** Resolved accelerated registries (static entries and ACR instance domains). */
  registries: readonly ResolvedRegistry[];
  /** The cluster's peer token: read back from its Secret once generated, so it never changes. */
  peerToken: string;
  /** Where everything goes (peerpull-system unless rendered for somewhere else). */
  namespace: string;
  /** Agents ran in mirror mode: rewrite-mode agents first remove their hosts.toml files (mirror-cleanup.ts). */
  mirrorCleanup?: boolean;
  /** The live P2PAccelerationConfig; every object gets an owner reference to it. Absent when rendering. */
  owner?: { apiVersion: string; kind: string; name: string; uid: string };
}

/** A Kubernetes object as applied: apiVersion, kind and metadata.name always set. */
export type ManifestObject = KubernetesObject & {
  apiVersion: string;
  kind: string;
  metadata: NonNullable<KubernetesObject["metadata"]> & { name: string };
  [field: string]: unknown;
};

export type DesiredObjects =
  | { ok: true; objects: ManifestObject[] }
  | { ok: false; reason: "InvalidConfig" | "NoRegistries"; problems: string[] };
