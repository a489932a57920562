/**
 * Runs a real AdmissionRequest through Pepr's own mutate processor (its TypeScript source, loaded by
 * jest), so tests see the exact response and JSON patch the module returns to the API server.
 */
import { V1Pod } from "@kubernetes/client-node";
import type { Capability } from "pepr";
import type { AdmissionRequest } from "pepr/dist/lib/common-types";
import type { MutateResponse } from "pepr/dist/lib/k8s";
import type { ModuleConfig } from "pepr/dist/lib/types";
import pkg from "../../package.json";

export type PatchOperation = { op: string; path: string; value?: unknown };

type MutateProcessor = (
  config: ModuleConfig,
  capabilities: Capability[],
  req: AdmissionRequest,
  reqMetadata: Record<string, string>,
) => Promise<MutateResponse>;

// required, not imported: tsc would otherwise type-check pepr's sources under this project's settings
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { mutateProcessor } = require("pepr/src/lib/processors/mutate-processor") as {
  mutateProcessor: MutateProcessor;
};

let counter = 0;

export function podCreateRequest(pod: V1Pod, namespace: string, dryRun = false): AdmissionRequest {
  counter += 1;
  return {
    uid: `uid-${counter}`,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    requestKind: { group: "", version: "v1", kind: "Pod" },
    requestResource: { group: "", version: "v1", resource: "pods" },
    name: pod.metadata?.name ?? "",
    namespace,
    operation: "CREATE",
    userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller", groups: [] },
    object: pod,
    dryRun,
    options: { kind: "CreateOptions", apiVersion: "meta.k8s.io/v1" },
  } as unknown as AdmissionRequest;
}

export interface Admission {
  response: MutateResponse;
  patch: PatchOperation[];
}

export async function admit(capability: Capability, request: AdmissionRequest): Promise<Admission> {
  const config = { ...pkg.pepr, description: pkg.description } as unknown as ModuleConfig;
  const response = await mutateProcessor(config, [capability], request, { uid: request.uid });
  const patch = response.patch
    ? (JSON.parse(Buffer.from(response.patch, "base64").toString("utf8")) as PatchOperation[])
    : [];
  return { response, patch };
}
