/**
 * The control-plane half of a rollout, with the module's real code: a Deployment's pod template
 * becomes a Pod as the ReplicaSet controller creates it, and that Pod goes through the pod-mirror
 * capability in Pepr's own mutate processor against the in-memory cluster (namespace labels,
 * the P2PAccelerationConfig, pull secrets). What comes back is the Pod kubelet would see.
 */
import { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import type { Capability } from "pepr";
import { podMirrorCapability } from "../../capabilities/pod-mirror/capability";
import { promMutationMetrics } from "../../capabilities/pod-mirror/metrics";
import { admit, PatchOperation, podCreateRequest } from "../../capabilities/testing/admission";
import { MemoryCluster } from "../../capabilities/testing/memory-cluster";
import { RecordingLog } from "../../capabilities/testing/recording-log";

export interface DeploymentShape {
  name: string;
  namespace: string;
  replicas: number;
  images: string[];
  pullSecrets?: string[];
  labels?: Record<string, string>;
}

export function deployment(shape: DeploymentShape): V1Deployment {
  const selector = { app: shape.name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: shape.name, namespace: shape.namespace, uid: `uid-deploy-${shape.name}` },
    spec: {
      replicas: shape.replicas,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels: { ...selector, ...shape.labels } },
        spec: {
          containers: shape.images.map((image, i) => ({ name: `c${i}`, image, imagePullPolicy: "Always" })),
          ...(shape.pullSecrets ? { imagePullSecrets: shape.pullSecrets.map(name => ({ name })) } : {}),
        },
      },
    },
  };
}

/** Replica `index` of the Deployment's ReplicaSet, as the controller submits it (no name yet). */
export function podFromTemplate(deploy: V1Deployment, index: number): V1Pod {
  const name = deploy.metadata!.name!;
  const hash = "7d4b9c8f6";
  const template = structuredClone(deploy.spec!.template);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      generateName: `${name}-${hash}-`,
      namespace: deploy.metadata!.namespace,
      labels: { ...template.metadata?.labels, "pod-template-hash": hash },
      ownerReferences: [
        {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          name: `${name}-${hash}`,
          uid: `uid-rs-${name}-${hash}`,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      annotations: { "peerpull.test/replica": String(index) },
    },
    spec: template.spec,
  };
}

export interface ModulePipeline {
  capability: Capability;
  log: RecordingLog;
  /** Pod CREATE through Pepr's mutate processor; the Pod as stored (patch applied). */
  admitPod(pod: V1Pod, namespace: string): Promise<{ pod: V1Pod; patch: PatchOperation[] }>;
}

/** The pod-mirror capability bound to `cluster`, as the module's admission pods run it. */
export function modulePipeline(cluster: MemoryCluster): ModulePipeline {
  const log = new RecordingLog();
  const capability = podMirrorCapability({
    cluster,
    metrics: promMutationMetrics(new Registry()),
    log,
    ignoredNamespaces: new Set(["kube-system", "pepr-system"]),
  });
  return {
    capability,
    log,
    async admitPod(pod, namespace) {
      const { response, patch } = await admit(capability, podCreateRequest(pod, namespace));
      if (!response.allowed) throw new Error(`admission refused the pod: ${JSON.stringify(response)}`);
      return { pod: applyJsonPatch(pod, patch), patch };
    },
  };
}

function applyJsonPatch<T>(doc: T, ops: PatchOperation[]): T {
  // fast-json-patch comes with pepr, which builds its patches with it
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { applyPatch } = require("fast-json-patch") as {
    applyPatch: (d: T, o: unknown[], validate: boolean, mutate: boolean) => { newDocument: T };
  };
  return applyPatch(doc, ops, true, false).newDocument;
}

/** Every image the pod's containers name (init containers first), as kubelet pulls them. */
export function podImages(pod: V1Pod): string[] {
  const spec = pod.spec!;
  return [...(spec.initContainers ?? []), ...spec.containers].map(c => c.image!);
}
