/**
 * The reconciler's side of the ACR credentials: which Secret the resolver reads for the active config
 * (so a change to it triggers a pass at once instead of at the next resync), and reading a Secret
 * through the reconciler's own cluster client (one GET, recorded by the RBAC test like every call).
 */
import type { V1Secret } from "@kubernetes/client-node";
import type { ReadSecret } from "../acr/acr-credentials";
import { acrInputsOf } from "../acr/acr-inputs";
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import type { ReconcileCluster } from "./cluster";

export interface SecretRef {
  namespace: string;
  name: string;
}

/** Pure: the Secret the ACR resolver reads for this spec; undefined without instances or with a RAM role. */
export function credentialsSecretOf(spec: P2PAccelerationConfigSpec): SecretRef | undefined {
  const check = acrInputsOf(spec);
  if (check.kind !== "ok" || check.inputs.credentials.kind !== "secret") return undefined;
  const { namespace, name } = check.inputs.credentials;
  return { namespace, name };
}

export function isSecret(ref: SecretRef | undefined, namespace?: string, name?: string): boolean {
  return ref !== undefined && ref.namespace === namespace && ref.name === name;
}

/** `readSecret` for `createAcrResolver`: a GET of the Secret, undefined when it does not exist. */
export function readSecretVia(cluster: Pick<ReconcileCluster, "read">): ReadSecret {
  return (namespace, name) => cluster.read<V1Secret>({ apiVersion: "v1", kind: "Secret", namespace, name });
}
