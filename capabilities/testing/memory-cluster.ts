/**
 * In-memory twin of both cluster interfaces (pod mutation's MirrorCluster and the reconciler's
 * ReconcileCluster) over one MemoryApi store, so a test sees what one does to the other (a config
 * change reaching the mutation, cleanup removing derived secrets). Reads return copies, as the API
 * would. Each method records the requests its real counterpart makes (see the interfaces);
 * `failOn(method)` fails a method outright, `failApi(...)` fails matching requests.
 */
import { V1Namespace, V1Secret } from "@kubernetes/client-node";
import { P2PAccelerationConfig, P2PAccelerationConfigStatus } from "../crd/p2p-acceleration-config";
import { MirrorCluster } from "../pod-mirror/cluster";
import { DERIVED_LABEL } from "../pod-mirror/docker-config";
import { AgentPod, agentPodOf, ApiError, ReconcileCluster } from "../reconciler/cluster";
import { AGENT_NAME, labelsOf, selectorOf } from "../reconciler/names";
import { ManifestObject, ObjectRef } from "../reconciler/desired-objects";
import { keyOf, MemoryApi, StoredObject } from "./memory-api";

type Method = keyof MirrorCluster | keyof ReconcileCluster;

export class MemoryCluster extends MemoryApi implements MirrorCluster, ReconcileCluster {
  readonly calls: { method: Method; args: string[] }[] = [];
  #recordCalls = true;
  #faults = new Map<Method, Error>();
  #watching = false;

  /** Benchmarks turn this off so the call logs (method calls and API requests) do not grow. */
  get recordCalls(): boolean {
    return this.#recordCalls;
  }
  set recordCalls(on: boolean) {
    this.#recordCalls = on;
    this.recordApiCalls = on;
  }

  get namespaces(): Map<string, V1Namespace> {
    return this.store<V1Namespace>("Namespace");
  }
  get configs(): Map<string, P2PAccelerationConfig> {
    return this.store<P2PAccelerationConfig>("P2PAccelerationConfig");
  }
  get secrets(): Map<string, V1Secret> {
    return this.store<V1Secret>("Secret");
  }

  /** The next calls of `method` reject with `error` until cleared with `failOn(method)`. */
  failOn(method: Method, error?: Error): void {
    if (error) this.#faults.set(method, error);
    else this.#faults.delete(method);
  }

  setNamespace(name: string, labels: Record<string, string> = {}): void {
    this.namespaces.set(name, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, uid: `uid-ns-${name}`, labels: { "kubernetes.io/metadata.name": name, ...labels } },
    });
  }

  /**
   * What `kubectl apply` of a config does: uid, finalizers and a pending deletion kept, generation
   * moved when the spec changes, resourceVersion moved.
   */
  setConfig(config: P2PAccelerationConfig): void {
    const name = config.metadata!.name!;
    const live = this.configs.get(name);
    const copy = structuredClone(config);
    const generation = live?.metadata?.generation ?? 1;
    const changed = live && JSON.stringify(live.spec) !== JSON.stringify(copy.spec);
    const { finalizers, deletionTimestamp } = live?.metadata ?? {};
    copy.metadata = {
      ...copy.metadata,
      ...(finalizers ? { finalizers: [...finalizers] } : {}),
      ...(deletionTimestamp ? { deletionTimestamp } : {}),
      uid: live?.metadata?.uid ?? copy.metadata?.uid ?? `uid-config-${name}`,
      generation: live ? (changed ? generation + 1 : generation) : (copy.metadata?.generation ?? 1),
      resourceVersion: this.nextResourceVersion(),
    };
    if (live?.status && !copy.status) copy.status = live.status;
    this.configs.set(name, copy);
  }

  /**
   * What `kubectl delete` of a config does: with finalizers it only gets deletionTimestamp; without,
   * it is removed and garbage collection follows.
   */
  deleteConfig(name: string): void {
    this.removeObject("P2PAccelerationConfig", undefined, name);
  }

  putSecret(secret: V1Secret): void {
    const { namespace, name } = secret.metadata!;
    const copy = structuredClone(secret);
    copy.metadata!.uid = copy.metadata!.uid ?? `uid-${namespace}-${name}`;
    this.secrets.set(`${namespace}/${name}`, copy);
  }

  /** Plays the DaemonSet controller: `ready` of `nodes` agents up to date with the latest spec. */
  setDaemonSetStatus(namespace: string, name: string, nodes: number, ready: number): void {
    const ds = this.store("DaemonSet").get(`${namespace}/${name}`);
    if (!ds) throw new Error(`no DaemonSet ${namespace}/${name}`);
    ds.status = {
      observedGeneration: ds.metadata!.generation,
      desiredNumberScheduled: nodes,
      currentNumberScheduled: nodes,
      updatedNumberScheduled: nodes,
      numberReady: ready,
      numberAvailable: ready,
      ...(nodes > ready ? { numberUnavailable: nodes - ready } : {}),
      numberMisscheduled: 0,
    };
  }

  // --- MirrorCluster (pod mutation). Its real one serves namespaces and configs from watches. ---

  async namespaceLabels(namespace: string): Promise<Readonly<Record<string, string>> | undefined> {
    this.#enter("namespaceLabels", namespace);
    this.#startWatches();
    this.request(this.callFor("get", "Namespace", undefined, namespace));
    const labels = this.namespaces.get(namespace)?.metadata?.labels;
    return labels && { ...labels };
  }

  async accelerationConfigs(): Promise<readonly P2PAccelerationConfig[]> {
    this.#enter("accelerationConfigs");
    this.#startWatches();
    this.request(this.callFor("list", "P2PAccelerationConfig"));
    return [...this.configs.values()].map(c => structuredClone(c));
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    this.#enter("readSecret", namespace, name);
    this.request(this.callFor("get", "Secret", namespace, name));
    const secret = this.secrets.get(`${namespace}/${name}`);
    return secret && structuredClone(secret);
  }

  async applySecret(secret: V1Secret): Promise<void> {
    this.#enter("applySecret", secret.metadata?.namespace ?? "", secret.metadata?.name ?? "");
    if (!secret.metadata?.name || !secret.metadata.namespace)
      throw new Error("secret needs a name and namespace");
    this.#applyRequests("Secret", secret.metadata.namespace, secret.metadata.name);
    this.putSecret(secret);
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    this.#enter("deleteSecret", namespace, name);
    this.request(this.callFor("delete", "Secret", namespace, name));
    this.removeObject("Secret", namespace, name);
  }

  // --- ReconcileCluster ---

  async apply(object: ManifestObject): Promise<void> {
    const { namespace, name } = object.metadata;
    this.#enter("apply", object.kind, namespace ?? "", name);
    this.#applyRequests(object.kind, namespace, name);
    this.applyObject(object as StoredObject);
  }

  async read<T = ManifestObject>(ref: ObjectRef): Promise<T | undefined> {
    this.#enter("read", ref.kind, ref.namespace ?? "", ref.name);
    this.request(this.callFor("get", ref.kind, ref.namespace, ref.name));
    return this.readObject<StoredObject>(ref.kind, ref.namespace, ref.name) as T | undefined;
  }

  async remove(ref: ObjectRef): Promise<void> {
    this.#enter("remove", ref.kind, ref.namespace ?? "", ref.name);
    this.request(this.callFor("delete", ref.kind, ref.namespace, ref.name));
    this.removeObject(ref.kind, ref.namespace, ref.name);
  }

  async derivedSecrets(): Promise<{ namespace: string; name: string }[]> {
    this.#enter("derivedSecrets");
    this.request(this.callFor("list", "Secret"));
    return this.list<V1Secret & StoredObject>("Secret", { [DERIVED_LABEL]: true }).map(s => ({
      namespace: s.metadata!.namespace!,
      name: s.metadata!.name!,
    }));
  }

  async patchConfigStatus(name: string, status: P2PAccelerationConfigStatus): Promise<void> {
    this.#enter("patchConfigStatus", name);
    this.request(this.callFor("patch", "P2PAccelerationConfig", undefined, name, "status"));
    this.patchStatus("P2PAccelerationConfig", undefined, name, status);
  }

  async patchConfigFinalizers(name: string, finalizers: string[], resourceVersion: string): Promise<void> {
    this.#enter("patchConfigFinalizers", name, ...finalizers);
    this.request(this.callFor("patch", "P2PAccelerationConfig", undefined, name));
    this.patchFinalizers("P2PAccelerationConfig", undefined, name, finalizers, resourceVersion);
  }

  async agentPods(namespace: string): Promise<AgentPod[]> {
    this.#enter("agentPods", namespace);
    this.request(this.callFor("list", "Pod", namespace));
    return this.list("Pod", selectorOf(AGENT_NAME))
      .filter(p => p.metadata?.namespace === namespace)
      .map(p => agentPodOf(p));
  }

  /** Plays the kubelet: an agent pod on `node` (host network: the pod IP is the node's). */
  putAgentPod(namespace: string, node: string, ip: string, ready = true): void {
    const name = `${AGENT_NAME}-${node}`;
    this.store("Pod").set(`${namespace}/${name}`, {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, labels: labelsOf(AGENT_NAME), uid: `uid-pod-${name}` },
      spec: { nodeName: node, hostNetwork: true },
      status: { podIP: ip, conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
    });
  }

  async listConfigs(): Promise<P2PAccelerationConfig[]> {
    this.#enter("listConfigs");
    this.request(this.callFor("list", "P2PAccelerationConfig"));
    return this.list<StoredObject>("P2PAccelerationConfig") as P2PAccelerationConfig[];
  }

  /** Server-side apply is a PATCH, and the API server also authorizes it as `create` when the object
   * does not exist yet (kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply). */
  #applyRequests(kind: string, namespace: string | undefined, name: string): void {
    this.request(this.callFor("patch", kind, namespace, name));
    if (!this.store(kind).has(keyOf(namespace, name)))
      this.request(this.callFor("create", kind, namespace, name));
  }

  #startWatches(): void {
    if (this.#watching) return;
    this.#watching = true;
    for (const kind of ["Namespace", "P2PAccelerationConfig"])
      for (const verb of ["list", "watch"] as const) this.request(this.callFor(verb, kind));
  }

  #enter(method: Method, ...args: string[]): void {
    if (this.#recordCalls) this.calls.push({ method, args });
    const fault = this.#faults.get(method);
    if (fault) throw fault;
  }
}

export { ApiError };
