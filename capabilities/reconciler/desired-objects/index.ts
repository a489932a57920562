/**
 * The one pure function of the reconciler: (spec, resolved registries, peer token) -> every object
 * peerpull runs, in the order they are applied. `npx peerpull-render` prints the same list.
 */
import { createHash } from "node:crypto";
import { AGENT_NAME, PEER_PORT, PEER_TOKEN_SECRET, TRACKER_NAME } from "../names";
import { agentConfigFile, agentConfigMap, agentConfigProblems, swarmEnabled } from "./agent-config";
import { agentDaemonSet } from "./agent-daemonset";
import { agentServiceAccount, peerTokenSecret, systemNamespace } from "./basics";
import { trackerService, trackerStatefulSet } from "./tracker";
import { DesiredInput, DesiredObjects, ManifestObject } from "./types";

export type { DesiredInput, DesiredObjects, ManifestObject } from "./types";

export function desiredObjects(input: DesiredInput): DesiredObjects {
  if (input.registries.length === 0)
    return {
      ok: false,
      reason: "NoRegistries",
      problems: ["no accelerated registry: set spec.registries or spec.acrInstances (resolved)"],
    };
  const doc = agentConfigFile(input);
  const problems = agentConfigProblems(doc);
  if (input.spec.p2p?.port === PEER_PORT)
    problems.push(`p2p.port: ${PEER_PORT} is the agents' peer port on the same host network; choose another`);
  if (problems.length > 0) return { ok: false, reason: "InvalidConfig", problems };

  const configMap = agentConfigMap(input, doc);
  const secret = peerTokenSecret(input);
  const checksum = sha256(JSON.stringify([configMap.data, secret.data]));
  const objects: ManifestObject[] = [systemNamespace(input), agentServiceAccount(input), configMap, secret];
  if (swarmEnabled(input))
    objects.push(trackerService(input), trackerStatefulSet(input, sha256(JSON.stringify(secret.data))));
  objects.push(agentDaemonSet(input, checksum));
  return { ok: true, objects: input.owner ? objects.map(o => owned(o, input.owner!)) : objects };
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** Everything the reconciler may have created, deletion order (dependents first, namespace last). */
export function managedRefs(namespace: string): ObjectRef[] {
  return [
    { apiVersion: "apps/v1", kind: "DaemonSet", namespace, name: AGENT_NAME },
    { apiVersion: "apps/v1", kind: "StatefulSet", namespace, name: TRACKER_NAME },
    { apiVersion: "v1", kind: "Service", namespace, name: TRACKER_NAME },
    { apiVersion: "v1", kind: "Secret", namespace, name: PEER_TOKEN_SECRET },
    { apiVersion: "v1", kind: "ConfigMap", namespace, name: AGENT_NAME },
    { apiVersion: "v1", kind: "ServiceAccount", namespace, name: AGENT_NAME },
    { apiVersion: "v1", kind: "Namespace", name: namespace },
  ];
}

export function refOf(object: ManifestObject): ObjectRef {
  const { apiVersion, kind, metadata } = object;
  return {
    apiVersion,
    kind,
    name: metadata.name,
    ...(metadata.namespace ? { namespace: metadata.namespace } : {}),
  };
}

export function sameRef(a: ObjectRef, b: ObjectRef): boolean {
  return (
    a.apiVersion === b.apiVersion && a.kind === b.kind && a.name === b.name && a.namespace === b.namespace
  );
}

/** No blockOwnerDeletion: it would need update rights on the config's finalizers subresource. */
function owned(object: ManifestObject, owner: NonNullable<DesiredInput["owner"]>): ManifestObject {
  return {
    ...object,
    metadata: { ...object.metadata, ownerReferences: [{ ...owner, controller: true }] },
  };
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}
