/** The in-memory API's finalizer and deletion semantics, which the cleanup finalizer relies on. */
import { ApiError } from "../reconciler/cluster";
import { MemoryApi } from "./memory-api";

const F = "peerpull.io/mirror-cleanup";

function cluster() {
  const api = new MemoryApi();
  api.applyObject({ apiVersion: "v1", kind: "Namespace", metadata: { name: "ns" } });
  const owner = api.applyObject({
    apiVersion: "peerpull.io/v1alpha1",
    kind: "P2PAccelerationConfig",
    metadata: { name: "default" },
  });
  api.applyObject({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "owned", namespace: "ns", ownerReferences: [{ uid: owner.metadata!.uid }] },
  });
  const config = () => api.readObject("P2PAccelerationConfig", undefined, "default");
  const rv = () => config()!.metadata!.resourceVersion as string;
  const finalize = (finalizers: string[], version = rv()) =>
    api.patchFinalizers("P2PAccelerationConfig", undefined, "default", finalizers, version);
  const owned = () => api.readObject("ConfigMap", "ns", "owned");
  return { api, config, rv, finalize, owned };
}

describe("MemoryApi finalizers", () => {
  it("without finalizers, delete removes the object and cascades", () => {
    const { api, config, owned } = cluster();
    expect(api.removeObject("P2PAccelerationConfig", undefined, "default")).toBe(true);
    expect(config()).toBeUndefined();
    expect(owned()).toBeUndefined();
  });

  it("with one, delete only sets deletionTimestamp; removing the last finalizer removes and cascades", () => {
    const { api, config, finalize, owned } = cluster();
    finalize([F, "other/x"]);
    api.removeObject("P2PAccelerationConfig", undefined, "default");
    const stamp = config()!.metadata!.deletionTimestamp;
    expect(stamp).toBeDefined();
    expect(owned()).toBeDefined();
    api.removeObject("P2PAccelerationConfig", undefined, "default");
    expect(config()!.metadata!.deletionTimestamp).toBe(stamp);
    finalize(["other/x"]);
    expect(config()).toBeDefined();
    finalize([]);
    expect(config()).toBeUndefined();
    expect(owned()).toBeUndefined();
  });

  it("refuses a stale resourceVersion (409) and a new finalizer on an object being deleted (422)", () => {
    const { api, finalize, rv } = cluster();
    const stale = rv();
    finalize([F]);
    expect(() => finalize([], stale)).toThrow(expect.objectContaining({ status: 409 }));
    api.removeObject("P2PAccelerationConfig", undefined, "default");
    expect(() => finalize([F, "new/one"])).toThrow(ApiError);
    expect(() => finalize([F, "new/one"])).toThrow(expect.objectContaining({ status: 422 }));
  });

  it("an apply keeps finalizers and a pending deletion", () => {
    const { api, config, finalize } = cluster();
    finalize([F]);
    api.removeObject("P2PAccelerationConfig", undefined, "default");
    api.applyObject({
      apiVersion: "peerpull.io/v1alpha1",
      kind: "P2PAccelerationConfig",
      metadata: { name: "default" },
      spec: { mode: "rewrite" },
    });
    expect(config()!.metadata).toMatchObject({ finalizers: [F], deletionTimestamp: expect.any(String) });
  });
});
