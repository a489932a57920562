/**
 * An in-memory Kubernetes API store, the part both cluster twins share. Faithful where the module
 * relies on it, and records every request as (verb, group, resource, subresource, namespace, name)
 * so the RBAC test can check each against the generated ClusterRole:
 * - server-side apply by one field manager: the applied fields replace that manager's previous ones
 *   (a field dropped from the applied object is removed), server fields (uid, resourceVersion,
 *   generation, creationTimestamp) and `status` are kept; `metadata.generation` moves when anything
 *   but metadata and status changes; immutable selectors (and a StatefulSet's serviceName and
 *   podManagementPolicy) refuse a change with 422; a namespaced object in a missing namespace is 404;
 * - status only through the status subresource;
 * - delete of a missing object is 404 to the caller (the real clients turn that into success);
 *   an object with finalizers is not removed by delete: it gets `deletionTimestamp` (kept by later
 *   deletes) and stays until its last finalizer is removed; no finalizer may be added to it then;
 *   removal cascades like the garbage collector (owner references, and a namespace's contents), at
 *   once rather than in the background;
 * - a metadata merge patch (finalizers) with optimistic locking: a stale resourceVersion is 409;
 * - faults: `failApi(match, error, times)` makes matching requests fail before they change anything.
 */
import { appendFileSync } from "node:fs";
import { ApiError, RESOURCES } from "../reconciler/cluster";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete";

export interface ApiCall {
  verb: Verb;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StoredObject = Record<string, any> & {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};

interface Fault {
  match: Partial<ApiCall>;
  error: Error;
  times: number;
}

const IMMUTABLE: Record<string, string[]> = {
  DaemonSet: ["selector"],
  StatefulSet: ["selector", "serviceName", "podManagementPolicy"],
};

/**
 * Set by jest's global setup: every request any suite's in-memory cluster serves is appended there
 * (one JSON line each), so the RBAC suite, run last, checks the whole run's requests against the
 * generated ClusterRole, not only its own journey's.
 */
export const API_CALLS_LOG_ENV = "PEERPULL_API_CALLS_LOG";

function recordForTheRun(call: ApiCall): void {
  const file = process.env[API_CALLS_LOG_ENV];
  if (file) appendFileSync(file, JSON.stringify(call) + "\n");
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class MemoryApi {
  readonly apiCalls: ApiCall[] = [];
  recordApiCalls = true;
  #stores = new Map<string, Map<string, StoredObject>>();
  #faults: Fault[] = [];
  #version = 0;

  /** The live objects of one kind, keyed "namespace/name" (or "name" when cluster-scoped). */
  store<T extends StoredObject = StoredObject>(kind: string): Map<string, T> {
    let store = this.#stores.get(kind);
    if (!store) this.#stores.set(kind, (store = new Map()));
    return store as Map<string, T>;
  }

  /** The next resourceVersion (every write moves it). */
  nextResourceVersion(): string {
    return String(++this.#version);
  }

  failApi(match: Partial<ApiCall>, error: Error, times = Infinity): void {
    this.#faults.push({ match, error, times });
  }

  clearFaults(): void {
    this.#faults = [];
  }

  /** Records a request and throws an injected fault for it, if any. */
  request(call: ApiCall): void {
    if (this.recordApiCalls) {
      this.apiCalls.push(call);
      recordForTheRun(call);
    }
    const fault = this.#faults.find(
      f => f.times > 0 && Object.entries(f.match).every(([k, v]) => call[k as keyof ApiCall] === v),
    );
    if (!fault) return;
    fault.times -= 1;
    throw fault.error;
  }

  callFor(verb: Verb, kind: string, namespace?: string, name?: string, subresource?: string): ApiCall {
    const info = RESOURCES[kind];
    if (!info) throw new Error(`memory API: unknown kind ${kind}`);
    return {
      verb,
      group: info.group,
      resource: info.resource,
      ...(subresource ? { subresource } : {}),
      ...(namespace && info.namespaced ? { namespace } : {}),
      ...(name ? { name } : {}),
    };
  }

  readObject<T extends StoredObject>(
    kind: string,
    namespace: string | undefined,
    name: string,
  ): T | undefined {
    const found = this.store(kind).get(keyOf(namespace, name));
    return found && (structuredClone(found) as T);
  }

  /** Server-side apply by one field manager (see the header for what is modelled). */
  applyObject(object: StoredObject): StoredObject {
    const kind = object.kind!;
    const { name, namespace } = object.metadata ?? {};
    if (!name) throw new ApiError(422, `${kind}: metadata.name is required`);
    if (RESOURCES[kind]?.namespaced) {
      if (!namespace) throw new ApiError(422, `${kind} ${name}: metadata.namespace is required`);
      if (!this.store("Namespace").has(namespace))
        throw new ApiError(404, `namespaces "${namespace}" not found`);
    }
    const store = this.store(kind);
    const key = keyOf(namespace, name);
    const live = store.get(key);
    const applied = structuredClone(object);
    delete applied.status;
    if (live) this.#checkImmutable(kind, name, live, applied);
    const generation = live?.metadata?.generation ?? 1;
    const changed = live && JSON.stringify(specOf(live)) !== JSON.stringify(specOf(applied));
    const next: StoredObject = {
      ...applied,
      metadata: {
        ...applied.metadata,
        uid: live?.metadata?.uid ?? `uid-${kind.toLowerCase()}-${key.replace("/", "-")}`,
        creationTimestamp: live?.metadata?.creationTimestamp ?? new Date(0).toISOString(),
        ...keptByTheServer(live),
        generation: changed ? generation + 1 : generation,
        resourceVersion: String(++this.#version),
      },
      ...(live?.status !== undefined ? { status: live.status } : {}),
    };
    store.set(key, next);
    return structuredClone(next);
  }

  patchStatus(kind: string, namespace: string | undefined, name: string, status: unknown): void {
    const live = this.store(kind).get(keyOf(namespace, name));
    if (!live) throw new ApiError(404, `${kind} "${name}" not found`);
    live.status = { ...(live.status ?? {}), ...structuredClone(status as object) };
    live.metadata!.resourceVersion = String(++this.#version);
  }

  /**
   * A merge patch of `metadata.finalizers`, as the API server does it: `resourceVersion`, when
   * given, must be the live one (409); a finalizer may not be added to an object being deleted
   * (422); removing the last one from an object being deleted removes it, and cascades.
   */
  patchFinalizers(
    kind: string,
    namespace: string | undefined,
    name: string,
    finalizers: string[],
    resourceVersion?: string,
  ): void {
    const key = keyOf(namespace, name);
    const live = this.store(kind).get(key);
    if (!live) throw new ApiError(404, `${kind} "${name}" not found`);
    const meta = live.metadata!;
    if (resourceVersion !== undefined && resourceVersion !== meta.resourceVersion)
      throw new ApiError(
        409,
        `Operation cannot be fulfilled on ${RESOURCES[kind]?.resource ?? kind} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    const before: string[] = meta.finalizers ?? [];
    if (meta.deletionTimestamp && finalizers.some(f => !before.includes(f)))
      throw new ApiError(
        422,
        `${kind} "${name}" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted`,
      );
    if (finalizers.length > 0) meta.finalizers = [...finalizers];
    else delete meta.finalizers;
    meta.resourceVersion = String(++this.#version);
    if (meta.deletionTimestamp && finalizers.length === 0) this.#erase(kind, namespace, name);
  }

  /**
   * DELETE: an object with finalizers only gets `deletionTimestamp`; one without is removed, and
   * what it owns with it. False when there was nothing to delete.
   */
  removeObject(kind: string, namespace: string | undefined, name: string): boolean {
    const live = this.store(kind).get(keyOf(namespace, name));
    if (!live) return false;
    if ((live.metadata?.finalizers ?? []).length > 0) {
      if (!live.metadata!.deletionTimestamp) {
        live.metadata!.deletionTimestamp = new Date().toISOString();
        live.metadata!.deletionGracePeriodSeconds = 0;
        live.metadata!.resourceVersion = String(++this.#version);
      }
      return true;
    }
    this.#erase(kind, namespace, name);
    return true;
  }

  /** Removes an object for good and cascades like the garbage collector. */
  #erase(kind: string, namespace: string | undefined, name: string): void {
    const store = this.store(kind);
    const gone = store.get(keyOf(namespace, name));
    if (!gone) return;
    store.delete(keyOf(namespace, name));
    for (const [otherKind, objects] of this.#stores)
      for (const [key, object] of [...objects]) {
        const owned = object.metadata?.ownerReferences?.some(
          (o: { uid?: string }) => o.uid === gone.metadata?.uid,
        );
        const inNamespace = kind === "Namespace" && object.metadata?.namespace === name;
        if ((owned || inNamespace) && objects.has(key))
          this.removeObject(otherKind, object.metadata?.namespace, object.metadata!.name);
      }
  }

  list<T extends StoredObject>(kind: string, labelSelector: Record<string, string | true> = {}): T[] {
    return [...this.store(kind).values()]
      .filter(o =>
        Object.entries(labelSelector).every(([k, v]) =>
          v === true ? o.metadata?.labels?.[k] !== undefined : o.metadata?.labels?.[k] === v,
        ),
      )
      .map(o => structuredClone(o) as T);
  }

  #checkImmutable(kind: string, name: string, live: StoredObject, applied: StoredObject): void {
    for (const field of IMMUTABLE[kind] ?? [])
      if (JSON.stringify(live.spec?.[field]) !== JSON.stringify(applied.spec?.[field]))
        throw new ApiError(422, `${kind}.apps "${name}" is invalid: spec.${field}: field is immutable`);
  }
}

/** What an apply by one field manager never drops: others' finalizers, a pending deletion. */
function keptByTheServer(live: StoredObject | undefined): Record<string, unknown> {
  const meta = live?.metadata ?? {};
  return {
    ...(meta.finalizers ? { finalizers: meta.finalizers } : {}),
    ...(meta.deletionTimestamp
      ? { deletionTimestamp: meta.deletionTimestamp, deletionGracePeriodSeconds: 0 }
      : {}),
  };
}

function specOf(object: StoredObject): unknown {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return rest;
}
