/**
 * The real ReconcileCluster. Server-side apply goes through @kubernetes/client-node's generic object
 * API because kubernetes-fluent-client's Apply fixes the field manager to "pepr"; everything else
 * uses `K8s` from pepr. Untested here: no API server (the in-memory twin stands in).
 */
import { KubeConfig, KubernetesObjectApi, PatchStrategy } from "@kubernetes/client-node";
import { K8s, kind } from "pepr";
import {
  P2P_CONFIG_GVK,
  P2PAccelerationConfig,
  P2PAccelerationConfigStatus,
} from "../crd/p2p-acceleration-config";
import { DERIVED_LABEL } from "../pod-mirror/docker-config";
import { AgentPod, agentPodOf, ReconcileCluster } from "./cluster";
import { ManifestObject, ObjectRef } from "./desired-objects";
import { AGENT_NAME, FIELD_MANAGER, selectorOf } from "./names";

const NOT_FOUND = 404;

export class K8sReconcileCluster implements ReconcileCluster {
  #objects: KubernetesObjectApi | undefined;

  async apply(object: ManifestObject): Promise<void> {
    await this.#api().patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
  }

  async read<T = ManifestObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return (await this.#api().read({
        apiVersion: ref.apiVersion,
        kind: ref.kind,
        metadata: metaOf(ref),
      })) as T;
    } catch (err) {
      if (statusOf(err) === NOT_FOUND) return undefined;
      throw err;
    }
  }

  async remove(ref: ObjectRef): Promise<void> {
    try {
      await this.#api().delete(
        { apiVersion: ref.apiVersion, kind: ref.kind, metadata: metaOf(ref) },
        undefined,
        undefined,
        undefined,
        undefined,
        "Background",
      );
    } catch (err) {
      if (statusOf(err) !== NOT_FOUND) throw err;
    }
  }

  async derivedSecrets(): Promise<{ namespace: string; name: string }[]> {
    const list = await K8s(kind.Secret).WithLabel(DERIVED_LABEL).Get();
    return list.items.map(s => ({ namespace: s.metadata!.namespace!, name: s.metadata!.name! }));
  }

  async patchConfigStatus(name: string, status: P2PAccelerationConfigStatus): Promise<void> {
    await K8s(P2PAccelerationConfig).PatchStatus({ metadata: { name }, status });
  }

  async patchConfigFinalizers(name: string, finalizers: string[], resourceVersion: string): Promise<void> {
    const { group, version, kind } = P2P_CONFIG_GVK;
    await this.#api().patch(
      { apiVersion: `${group}/${version}`, kind, metadata: { name, finalizers, resourceVersion } },
      undefined,
      undefined,
      FIELD_MANAGER,
      undefined,
      PatchStrategy.MergePatch,
    );
  }

  async agentPods(namespace: string): Promise<AgentPod[]> {
    let query = K8s(kind.Pod).InNamespace(namespace);
    for (const [key, value] of Object.entries(selectorOf(AGENT_NAME))) query = query.WithLabel(key, value);
    return (await query.Get()).items.map(agentPodOf);
  }

  async listConfigs(): Promise<P2PAccelerationConfig[]> {
    return (await K8s(P2PAccelerationConfig).Get()).items;
  }

  #api(): KubernetesObjectApi {
    if (!this.#objects) {
      const config = new KubeConfig();
      config.loadFromDefault();
      this.#objects = KubernetesObjectApi.makeApiClient(config);
    }
    return this.#objects;
  }
}

function metaOf(ref: ObjectRef): { name: string; namespace?: string } {
  return ref.namespace ? { name: ref.name, namespace: ref.namespace } : { name: ref.name };
}

function statusOf(err: unknown): number | undefined {
  const e = err as { status?: unknown; code?: unknown; statusCode?: unknown } | null;
  for (const value of [e?.status, e?.code, e?.statusCode]) if (typeof value === "number") return value;
  return undefined;
}
