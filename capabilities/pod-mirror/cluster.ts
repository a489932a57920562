/** The Kubernetes API as pod mutation sees it. `k8s-cluster.ts` is the real one, `testing/memory-cluster.ts` the twin. */
import { V1Secret } from "@kubernetes/client-node";
import { P2PAccelerationConfig } from "../crd/p2p-acceleration-config";

export interface MirrorCluster {
  /** Labels of a namespace from a watch-fed cache; undefined when the namespace is unknown. */
  namespaceLabels(namespace: string): Promise<Readonly<Record<string, string>> | undefined>;
  /** Every P2PAccelerationConfig, from a watch-fed cache. */
  accelerationConfigs(): Promise<readonly P2PAccelerationConfig[]>;
  /** undefined when the Secret does not exist. */
  readSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  /** Create or replace (server-side apply, forced). */
  applySecret(secret: V1Secret): Promise<void>;
  /** No error when it is already gone. */
  deleteSecret(namespace: string, name: string): Promise<void>;
}
