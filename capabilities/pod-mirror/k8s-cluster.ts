/**
 * The real MirrorCluster. Namespaces and P2PAccelerationConfigs are cached from watches started on
 * first use in the admission process (Pepr runs Watch bindings only in its watcher deployment); a
 * namespace or config list not seen yet is fetched once and cached. Untested here: no API server.
 */
import { V1Secret } from "@kubernetes/client-node";
import { LRUCache } from "lru-cache";
import { K8s, kind, Log } from "pepr";
import { P2PAccelerationConfig } from "../crd/p2p-acceleration-config";
import { MirrorCluster } from "./cluster";

type Labels = Readonly<Record<string, string>>;

const NOT_FOUND = 404;
/** Derived secrets already written with the same content are not re-applied for this long. */
const APPLY_MEMO_MS = 60_000;
const CRD_RETRY_MS = 30_000;
/** Memories of what was applied and of namespace labels stay bounded however many namespaces pass. */
const MAX_REMEMBERED = 10_000;

export interface K8sClusterOptions {
  /** Derived secrets remembered as applied (least recently used forgotten first). */
  maxAppliedMemo?: number;
  now?: () => number;
}

export class K8sCluster implements MirrorCluster {
  #namespaces = new LRUCache<string, Labels>({ max: MAX_REMEMBERED });
  #configs = new Map<string, P2PAccelerationConfig>();
  #configsListed = false;
  #crdMissingUntil = 0;
  #watching = false;
  /** `namespace/name` -> the data last applied, for APPLY_MEMO_MS. */
  #applied: LRUCache<string, string>;

  constructor(options: K8sClusterOptions = {}) {
    const now = options.now ?? (() => performance.now());
    this.#applied = new LRUCache({
      max: options.maxAppliedMemo ?? MAX_REMEMBERED,
      ttl: APPLY_MEMO_MS,
      ttlResolution: 0, // read the clock on every check, not a cached value
      perf: { now },
    });
  }

  async namespaceLabels(namespace: string): Promise<Labels | undefined> {
    this.#startWatches();
    const cached = this.#namespaces.get(namespace);
    if (cached) return cached;
    const ns = await orUndefined(K8s(kind.Namespace).Get(namespace));
    const labels = ns?.metadata?.labels ?? {};
    if (ns) this.#namespaces.set(namespace, labels);
    return ns ? labels : undefined;
  }

  async accelerationConfigs(): Promise<readonly P2PAccelerationConfig[]> {
    this.#startWatches();
    if (!this.#configsListed && Date.now() >= this.#crdMissingUntil) {
      const list = await orUndefined(K8s(P2PAccelerationConfig).Get());
      if (!list) {
        // CRD not installed: nothing to accelerate; ask again later rather than on every pod
        this.#crdMissingUntil = Date.now() + CRD_RETRY_MS;
        return [];
      }
      for (const item of list.items) this.#configs.set(item.metadata!.name!, item);
      this.#configsListed = true;
    }
    return [...this.#configs.values()];
  }

  async readSecret(namespace: string, name: string): Promise<V1Secret | undefined> {
    return orUndefined(K8s(kind.Secret).InNamespace(namespace).Get(name));
  }

  async applySecret(secret: V1Secret): Promise<void> {
    const key = `${secret.metadata!.namespace}/${secret.metadata!.name}`;
    const data = JSON.stringify(secret.data);
    if (this.#applied.get(key) === data) return;
    await K8s(kind.Secret).Apply(secret, { force: true });
    this.#applied.set(key, data);
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    this.#applied.delete(`${namespace}/${name}`);
    try {
      await K8s(kind.Secret).InNamespace(namespace).Delete(name);
    } catch (err) {
      if (statusOf(err) !== NOT_FOUND) throw err;
    }
  }

  #startWatches(): void {
    if (this.#watching) return;
    this.#watching = true;
    void K8s(kind.Namespace)
      .Watch((ns, phase) => {
        const name = ns.metadata?.name;
        if (!name) return;
        if (phase === "DELETED") this.#namespaces.delete(name);
        else this.#namespaces.set(name, ns.metadata?.labels ?? {});
      })
      .start()
      .catch(err => Log.error({ err: String(err) }, "namespace watch failed to start"));
    void K8s(P2PAccelerationConfig)
      .Watch((config, phase) => {
        const name = config.metadata?.name;
        if (!name) return;
        if (phase === "DELETED") this.#configs.delete(name);
        else this.#configs.set(name, config);
      })
      .start()
      .catch(err => Log.error({ err: String(err) }, "P2PAccelerationConfig watch failed to start"));
  }
}

async function orUndefined<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (err) {
    if (statusOf(err) === NOT_FOUND) return undefined;
    throw err;
  }
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === "number" ? status : undefined;
}
