/** Pure: the namespace, the agent's ServiceAccount (no API rights) and the peer-token Secret. */
import type { V1Namespace, V1Secret, V1ServiceAccount } from "@kubernetes/client-node";
import { AGENT_NAME, MANAGED_BY, PEER_TOKEN_KEY, PEER_TOKEN_SECRET, labelsOf } from "../names";
import { DesiredInput, ManifestObject } from "./types";

export function systemNamespace(input: DesiredInput): ManifestObject {
  const object = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: input.namespace,
      labels: {
        "app.kubernetes.io/part-of": "peerpull",
        ...MANAGED_BY,
        // the agent needs hostNetwork and hostPath, which the baseline Pod Security level forbids
        "pod-security.kubernetes.io/enforce": "privileged",
      },
    },
  } satisfies V1Namespace;
  return object as ManifestObject;
}

/** The agent talks to no API: no token is mounted, and no role is bound to this account. */
export function agentServiceAccount(input: DesiredInput): ManifestObject {
  const object = {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: AGENT_NAME, namespace: input.namespace, labels: labelsOf(AGENT_NAME) },
    automountServiceAccountToken: false,
  } satisfies V1ServiceAccount;
  return object as ManifestObject;
}

export function peerTokenSecret(input: DesiredInput): ManifestObject {
  const object = {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: PEER_TOKEN_SECRET,
      namespace: input.namespace,
      labels: { "app.kubernetes.io/part-of": "peerpull", ...MANAGED_BY },
    },
    data: { [PEER_TOKEN_KEY]: Buffer.from(input.peerToken, "utf8").toString("base64") },
  } satisfies V1Secret;
  return object as ManifestObject;
}
