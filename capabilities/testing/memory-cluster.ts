/**
 * In-memory twin of MirrorCluster. Faithful where the tests depend on it: reads return copies (as the
 * API would), apply replaces the whole object, delete of a missing object succeeds, and owner
 * references are honoured on delete like the garbage collector would. Faults can be injected per call.
 */
import { V1Namespace, V1Secret } from "@kubernetes/client-node";
import { P2PAccelerationConfig } from "../crd/p2p-acceleration-config";
import { MirrorCluster } from "../pod-mirror/cluster";

type Method = keyof MirrorCluster;

export class MemoryCluster implements MirrorCluster {
  readonly namespaces = new Map<string, V1Namespace>();
  readonly configs = new Map<string, P2PAccelerationConfig>();
  readonly secrets = new Map<string, V1Secret>();
  readonly calls: { method: Method; args: string[] }[] = [];
  /** Benchmarks turn this off so the call log does not grow. */
  recordCalls = true;
  #faults = new Map<Method, Error>();

  /** The next calls of `method` reject with `error` until cleared with `failOn(method)`. */
  failOn(method: Method, error?: Error): void {
    if (error) this.#faults.set(method, error);
    else this.#faults.delete(method);
  }

  setNamespace(name: string, labels: Record<string, string> = {}): void {
    this.namespaces.set(name, {
      metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...labels } },
    });
  }

  setConfig(config: P2PAccelerationConfig): void {
    this.configs.set(config.metadata!.name!, structuredClone(config));
  }

  putSecret(secret: V1Secret): void {
    const { namespace, name } = secret.metadata!;
    const copy = structuredClone(secret);
    copy.metadata!.uid = copy.metadata!.uid ?? `uid-${namespace}-${name}`;
    this.secrets.set(`${namespace}/${name}`, copy);
  }

  async namespaceLabels(namespace: string): Promise<Readonly<Record<string, string>> | undefined> {
    this.#enter("namespaceLabels", namespace);
    const labels = this.namespaces.get(namespace)?.metadata?.labels;
    return labels && { ...labels };
  }

  async accelerationConfigs(): Promise<readonly P2PAccelerationConfig[]> {
    this.#enter("accelerationConfigs");
    return [...this.configs.values()].map(c => structuredClone(c));
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    this.#enter("readSecret", namespace, name);
    const secret = this.secrets.get(`${namespace}/${name}`);
    return secret && structuredClone(secret);
  }

  async applySecret(secret: V1Secret): Promise<void> {
    this.#enter("applySecret", secret.metadata?.namespace ?? "", secret.metadata?.name ?? "");
    if (!secret.metadata?.name || !secret.metadata.namespace)
      throw new Error("secret needs a name and namespace");
    this.putSecret(secret);
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    this.#enter("deleteSecret", namespace, name);
    const gone = this.secrets.get(`${namespace}/${name}`);
    this.secrets.delete(`${namespace}/${name}`);
    if (!gone) return;
    for (const [key, s] of this.secrets)
      if (s.metadata?.ownerReferences?.some(o => o.kind === "Secret" && o.uid === gone.metadata?.uid))
        this.secrets.delete(key);
  }

  #enter(method: Method, ...args: string[]): void {
    if (this.recordCalls) this.calls.push({ method, args });
    const fault = this.#faults.get(method);
    if (fault) throw fault;
  }
}
