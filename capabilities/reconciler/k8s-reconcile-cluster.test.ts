/**
 * The real ReconcileCluster against a stand-in API server on loopback (no API server exists here):
 * the HTTP requests it sends are the ones the in-memory twin records for the same calls, so the RBAC
 * test's request log stands for the real module; and the wire details that matter are right
 * (server-side apply with field manager peerpull, background deletion, status merge patch, the
 * derived-secret label selector).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { accelerationConfig } from "../testing/fixtures";
import { FakeApiServer } from "../testing/fake-api-server";
import type { ApiCall } from "../testing/memory-api";
import { MemoryCluster } from "../testing/memory-cluster";
import { keySecret, KEY } from "../acr/testing/acr-fixtures";
import { ReconcileCluster } from "./cluster";
import { readSecretVia } from "./credentials-secret";
import { desiredObjects } from "./desired-objects";
import { K8sReconcileCluster } from "./k8s-reconcile-cluster";
import { MIRROR_CLEANUP_FINALIZER } from "./names";

const NS = "peerpull-system";
const rendered = desiredObjects({
  spec: {},
  registries: [{ host: "r.example.com", origin: "https://r.example.com", source: "static" }],
  peerToken: "t".repeat(32),
  namespace: NS,
});
if (!rendered.ok) throw new Error("render failed");
const objects = rendered.objects;
const agentPod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "peerpull-agent-n1",
    namespace: NS,
    labels: { "app.kubernetes.io/name": "peerpull-agent", "app.kubernetes.io/part-of": "peerpull" },
  },
  spec: { nodeName: "n1", hostNetwork: true },
  status: { podIP: "10.0.0.1", conditions: [{ type: "Ready", status: "True" }] },
};
const CONFIG_PATH = "/apis/peerpull.io/v1alpha1/p2paccelerationconfigs/default";
const daemonSetRef = { apiVersion: "apps/v1", kind: "DaemonSet", namespace: NS, name: "peerpull-agent" };

/** The same calls on either cluster. */
async function calls(cluster: ReconcileCluster): Promise<unknown[]> {
  const results: unknown[] = [];
  for (const object of objects) await cluster.apply(object);
  results.push(await cluster.read(daemonSetRef));
  results.push(await cluster.read({ ...daemonSetRef, name: "missing" }));
  // what the ACR resolver reads its AccessKey with (capabilities/index.ts)
  const readSecret = readSecretVia(cluster);
  results.push((await readSecret("kube-system", "alibaba-addon-secret"))?.data);
  results.push(await readSecret("kube-system", "missing"));
  results.push(await cluster.agentPods(NS));
  await cluster.remove({ apiVersion: "v1", kind: "Service", namespace: NS, name: "peerpull-tracker" });
  await cluster.remove({ apiVersion: "v1", kind: "Namespace", name: NS });
  results.push((await cluster.derivedSecrets()).length);
  await cluster.patchConfigStatus("default", { observedGeneration: 1 });
  const [listed] = await cluster.listConfigs();
  await cluster.patchConfigFinalizers(
    "default",
    [MIRROR_CLEANUP_FINALIZER],
    listed.metadata!.resourceVersion!,
  );
  results.push((await cluster.listConfigs()).map(c => [c.metadata?.name, c.metadata?.finalizers]));
  return results;
}

describe("K8sReconcileCluster on the wire", () => {
  const server = new FakeApiServer();
  let dir: string;
  let previous: string | undefined;
  beforeAll(async () => {
    await server.start();
    dir = mkdtempSync(join(tmpdir(), "fake-api-"));
    previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = await server.writeKubeconfig(dir);
    server.objects.set(`/apis/apps/v1/namespaces/${NS}/daemonsets/peerpull-agent`, {
      ...objects.find(o => o.kind === "DaemonSet"),
      status: { numberReady: 1 },
    });
    server.objects.set(CONFIG_PATH, {
      ...accelerationConfig([]),
      metadata: { name: "default", resourceVersion: "7" },
    });
    server.objects.set("/api/v1/namespaces/kube-system/secrets/alibaba-addon-secret", keySecret(KEY));
    server.objects.set(`/api/v1/namespaces/${NS}/pods/peerpull-agent-n1`, agentPod);
    server.objects.set(`/api/v1/namespaces/other/pods/peerpull-agent-x`, {
      ...agentPod,
      metadata: { ...agentPod.metadata, namespace: "other" },
    });
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previous;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the requests the in-memory twin records, with the same results", async () => {
    const real = await calls(new K8sReconcileCluster());
    const twin = new MemoryCluster();
    twin.setNamespace(NS); // so the twin's apply is an update, which the wire cannot tell from a create
    for (const object of objects) twin.applyObject(object);
    twin.store("DaemonSet").get(`${NS}/peerpull-agent`)!.status = { numberReady: 1 };
    twin.setConfig(accelerationConfig([]));
    twin.putSecret(keySecret(KEY));
    twin.putAgentPod(NS, "n1", "10.0.0.1");
    const mirrored = await calls(twin);
    const key = (c: ApiCall) =>
      JSON.stringify([c.verb, c.group, c.resource, c.subresource, c.namespace, c.name]);
    expect(server.apiCalls().map(key)).toEqual(twin.apiCalls.map(key));
    expect((real[0] as { status: unknown }).status).toEqual({ numberReady: 1 });
    expect(real.slice(1)).toEqual(mirrored.slice(1));
    expect(real[2]).toEqual(keySecret(KEY).data);
  });

  it("applies server-side with field manager peerpull, forced", () => {
    const applies = server.requests.filter(
      r => r.method === "PATCH" && !r.path.endsWith("/status") && r.path !== CONFIG_PATH,
    );
    expect(applies).toHaveLength(objects.length);
    for (const r of applies) {
      expect(r.contentType).toBe("application/apply-patch+yaml");
      expect(r.query.get("fieldManager")).toBe("peerpull");
      expect(r.query.get("force")).toBe("true");
    }
    expect(applies[0].body).toEqual(objects[0]);
  });

  it("deletes in the background, merges status on the subresource, lists derived secrets by label", () => {
    const deletes = server.requests.filter(r => r.method === "DELETE");
    for (const r of deletes)
      expect(JSON.stringify(r.body ?? {}) + r.query.toString()).toContain("Background");
    const status = server.requests.find(r => r.path.endsWith("/status"))!;
    expect(status.contentType).toBe("application/merge-patch+json");
    expect(status.body).toEqual({ status: { observedGeneration: 1 } });
    const list = server.requests.find(r => r.path === "/api/v1/secrets")!;
    expect(list.query.get("labelSelector")).toBe("peerpull.io/derived-from");
    const pods = server.requests.find(r => r.path === `/api/v1/namespaces/${NS}/pods`)!;
    expect(pods.query.get("labelSelector")).toBe(
      "app.kubernetes.io/name=peerpull-agent,app.kubernetes.io/part-of=peerpull",
    );
  });

  it("sets finalizers with a merge patch locked to the resourceVersion; the last one off a deleting config removes it", async () => {
    const cluster = new K8sReconcileCluster();
    const [listed] = await cluster.listConfigs();
    const finalizer = server.requests.filter(r => r.method === "PATCH" && r.path === CONFIG_PATH)[0];
    expect(finalizer.contentType).toBe("application/merge-patch+json");
    expect(finalizer.body).toMatchObject({
      metadata: { name: "default", finalizers: [MIRROR_CLEANUP_FINALIZER], resourceVersion: "7" },
    });
    await expect(cluster.patchConfigFinalizers("default", [], "7")).rejects.toMatchObject({ code: 409 });
    await fetch(`${server.url}${CONFIG_PATH}`, { method: "DELETE" }); // kubectl delete
    const deleting = (await cluster.listConfigs())[0];
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    expect(listed.metadata?.finalizers).toEqual([MIRROR_CLEANUP_FINALIZER]);
    await expect(
      cluster.patchConfigFinalizers(
        "default",
        [MIRROR_CLEANUP_FINALIZER, "x/y"],
        deleting.metadata!.resourceVersion!,
      ),
    ).rejects.toMatchObject({ code: 422 });
    await cluster.patchConfigFinalizers("default", [], deleting.metadata!.resourceVersion!);
    expect(await cluster.listConfigs()).toEqual([]);
  });
});
