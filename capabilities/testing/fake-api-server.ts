/**
 * A Kubernetes API server stand-in on 127.0.0.1 for the real cluster clients: it answers API
 * discovery for the kinds the module uses, serves objects from a map, and records every other
 * request (method, path, query, content type, body) so a test can hold the real client's requests
 * against the in-memory twin's. A kubeconfig pointing at it is written for KUBECONFIG.
 * For objects in the map it also does what the module relies on around finalizers, as the API
 * server does: a merge patch (RFC 7386) with optimistic locking (a stale resourceVersion is 409), no
 * new finalizer on an object being deleted (422), DELETE of an object with finalizers only sets
 * deletionTimestamp, and removing the last finalizer of an object being deleted removes it.
 */
import { createServer, IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { RESOURCES } from "../reconciler/cluster";
import type { ApiCall } from "./memory-api";

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  body?: unknown;
}

const DISCOVERY: Record<string, { name: string; kind: string; namespaced: boolean }[]> = {};
for (const [kind, info] of Object.entries(RESOURCES)) {
  const groupVersion =
    info.group === "" ? "v1" : info.group === "apps" ? "apps/v1" : `${info.group}/v1alpha1`;
  (DISCOVERY[groupVersion] ??= []).push({ name: info.resource, kind, namespaced: info.namespaced });
  if (kind === "P2PAccelerationConfig")
    DISCOVERY[groupVersion].push({ name: `${info.resource}/status`, kind, namespaced: false });
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** Objects served by GET, keyed by request path. */
  readonly objects = new Map<string, unknown>();
  #server: Server | undefined;
  #version = 1000;
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      void this.#handle(req).then(({ status, body }) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
    this.#server.listen(0, "127.0.0.1");
    await new Promise(resolve => this.#server!.once("listening", resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise(resolve => this.#server?.close(resolve));
  }

  async writeKubeconfig(dir: string): Promise<string> {
    const file = join(dir, "kubeconfig");
    const config = {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: this.url, "insecure-skip-tls-verify": true } }],
      users: [{ name: "fake", user: { token: "fake-token" } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake" } }],
      "current-context": "fake",
    };
    await writeFile(file, JSON.stringify(config));
    return file;
  }

  /** The recorded requests as RBAC sees them (discovery left out). */
  apiCalls(): ApiCall[] {
    return this.requests.map(r => callOf(r.method, r.path, r.query));
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? "/", "http://x");
    const text = await new Promise<string>(resolve => {
      let data = "";
      req.on("data", chunk => (data += chunk));
      req.on("end", () => resolve(data));
    });
    const discovery = url.pathname.replace(/^\/apis?\//, "");
    if (req.method === "GET" && DISCOVERY[discovery])
      return {
        status: 200,
        body: {
          kind: "APIResourceList",
          groupVersion: discovery,
          resources: DISCOVERY[discovery].map(r => ({
            ...r,
            singularName: "",
            verbs: ["get", "list", "patch"],
          })),
        },
      };
    this.requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: url.searchParams,
      contentType: req.headers["content-type"],
      body: text ? JSON.parse(text) : undefined,
    });
    if (req.method === "GET") {
      const call = callOf("GET", url.pathname, url.searchParams);
      if (call.name) {
        const found = this.objects.get(url.pathname);
        return found
          ? { status: 200, body: found }
          : { status: 404, body: { kind: "Status", status: "Failure", reason: "NotFound", code: 404 } };
      }
      const items = [...this.objects]
        .filter(([key]) => {
          const item = callOf("GET", key, new URLSearchParams());
          return item.resource === call.resource && (!call.namespace || item.namespace === call.namespace);
        })
        .filter(([, object]) => matchesLabels(object, url.searchParams.get("labelSelector")))
        .map(([, object]) => object);
      return { status: 200, body: { kind: "List", metadata: { resourceVersion: "1" }, items } };
    }
    const stored = this.objects.get(url.pathname) as StoredObject | undefined;
    if (req.method === "DELETE") return stored ? this.#delete(url.pathname, stored) : SUCCESS;
    if (req.method === "PATCH" && stored && req.headers["content-type"] === MERGE_PATCH)
      return this.#mergePatch(url.pathname, stored, JSON.parse(text) as StoredObject);
    return { status: 200, body: text ? JSON.parse(text) : {} };
  }

  #delete(path: string, stored: StoredObject): { status: number; body: unknown } {
    if ((stored.metadata?.finalizers ?? []).length === 0) {
      this.objects.delete(path);
      return SUCCESS;
    }
    stored.metadata!.deletionTimestamp ??= new Date().toISOString();
    stored.metadata!.resourceVersion = this.#nextVersion();
    return { status: 200, body: stored };
  }

  #mergePatch(path: string, stored: StoredObject, patch: StoredObject): { status: number; body: unknown } {
    const meta = stored.metadata ?? {};
    const wanted = patch.metadata?.resourceVersion;
    if (wanted !== undefined && wanted !== meta.resourceVersion)
      return failure(
        409,
        "Conflict",
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    const next = mergePatch(stored, patch) as StoredObject;
    const before: string[] = meta.finalizers ?? [];
    const after: string[] = next.metadata?.finalizers ?? [];
    if (meta.deletionTimestamp && after.some(f => !before.includes(f)))
      return failure(
        422,
        "Invalid",
        "metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted",
      );
    next.metadata = { ...next.metadata, resourceVersion: this.#nextVersion() };
    if (meta.deletionTimestamp && after.length === 0) this.objects.delete(path);
    else this.objects.set(path, next);
    return { status: 200, body: next };
  }

  #nextVersion(): string {
    return String(++this.#version);
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type StoredObject = { metadata?: Record<string, any> } & Record<string, unknown>;

const MERGE_PATCH = "application/merge-patch+json";
const SUCCESS = { status: 200, body: { kind: "Status", status: "Success" } };

function failure(code: number, reason: string, message: string): { status: number; body: unknown } {
  return {
    status: code,
    body: { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code },
  };
}

/** RFC 7386: objects merge, null removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

const VERBS: Record<string, ApiCall["verb"]> = {
  PATCH: "patch",
  DELETE: "delete",
  POST: "create",
  PUT: "update",
};

/** An API path and method -> the request as RBAC authorizes it. */
export function callOf(method: string, path: string, query: URLSearchParams): ApiCall {
  const parts = path.split("/").filter(Boolean);
  const rest = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  const group = parts[0] === "api" ? "" : parts[1];
  const namespaced = rest[0] === "namespaces" && rest.length >= 3;
  const [namespace, resource, name, subresource] = namespaced
    ? [rest[1], rest[2], rest[3], rest[4]]
    : [undefined, rest[0], rest[1], rest[2]];
  const verb =
    method === "GET" ? (name ? "get" : query.get("watch") === "true" ? "watch" : "list") : VERBS[method];
  return {
    verb,
    group,
    resource,
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
  };
}

/** The equality-based label selectors the module sends (`key`, `!key`, `key=value`, `key!=value`). */
function matchesLabels(object: unknown, selector: string | null): boolean {
  if (!selector) return true;
  const labels = (object as { metadata?: { labels?: Record<string, string> } }).metadata?.labels ?? {};
  return selector.split(",").every(term => {
    const [, not, key, op, value] = /^(!?)([^!=]+)(?:(!=|==?)(.*))?$/.exec(term.trim()) ?? [];
    if (key === undefined) throw new Error(`label selector term not understood here: ${term}`);
    if (!op) return not ? !(key in labels) : key in labels;
    return op === "!=" ? labels[key] !== value : labels[key] === value;
  });
}
