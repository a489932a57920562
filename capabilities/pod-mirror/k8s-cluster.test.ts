/**
 * The pod mutation's real cluster client (its Secret calls; its watches stay untested) against the
 * loopback API stand-in: the same requests the in-memory twin records for the RBAC test.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FakeApiServer } from "../testing/fake-api-server";
import { dockerConfigSecret } from "../testing/fixtures";
import type { ApiCall } from "../testing/memory-api";
import { MemoryCluster } from "../testing/memory-cluster";
import { MirrorCluster } from "./cluster";
import { K8sCluster } from "./k8s-cluster";

const original = dockerConfigSecret("shop", "regcred", {});
const derived = dockerConfigSecret("shop", "acr-credential-regcred-p2p", {});

async function calls(cluster: MirrorCluster): Promise<unknown[]> {
  const found = await cluster.readSecret("shop", "regcred");
  const missing = await cluster.readSecret("shop", "nope");
  await cluster.applySecret(derived);
  await cluster.deleteSecret("shop", "acr-credential-regcred-p2p");
  await cluster.deleteSecret("shop", "already-gone");
  return [found?.metadata?.name, missing];
}

describe("K8sCluster secret calls on the wire", () => {
  const server = new FakeApiServer();
  let dir: string;
  let previous: string | undefined;
  beforeAll(async () => {
    await server.start();
    dir = mkdtempSync(join(tmpdir(), "fake-api-"));
    previous = process.env.KUBECONFIG;
    process.env.KUBECONFIG = await server.writeKubeconfig(dir);
    server.objects.set("/api/v1/namespaces/shop/secrets/regcred", original);
  });
  afterAll(async () => {
    if (previous === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = previous;
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the requests the in-memory twin records", async () => {
    const real = await calls(new K8sCluster());
    const twin = new MemoryCluster();
    twin.putSecret(original);
    twin.putSecret(derived); // an update on the twin, as the wire cannot show a create
    const mirrored = await calls(twin);
    const key = (c: ApiCall) => JSON.stringify([c.verb, c.group, c.resource, c.namespace, c.name]);
    expect(server.apiCalls().map(key)).toEqual(twin.apiCalls.map(key));
    expect(real).toEqual(mirrored);
    const apply = server.requests.find(r => r.method === "PATCH")!;
    expect(apply.contentType).toBe("application/apply-patch+yaml");
    expect(apply.query.get("force")).toBe("true");
  });

  describe("the memo of applied secrets", () => {
    const patches = () => server.requests.filter(r => r.method === "PATCH").length;
    const secret = (name: string, data = "a") => ({
      ...dockerConfigSecret("shop", name, {}),
      data: { ".dockerconfigjson": Buffer.from(data).toString("base64") },
    });

    it("skips a secret applied with the same data within a minute, not after", async () => {
      const clock = { now: 1_000 }; // lru-cache reads a start time of 0 as "no TTL"
      const cluster = new K8sCluster({ now: () => clock.now });
      const before = patches();
      await cluster.applySecret(secret("memo-a"));
      await cluster.applySecret(secret("memo-a"));
      expect(patches() - before).toBe(1);
      await cluster.applySecret(secret("memo-a", "changed"));
      expect(patches() - before).toBe(2);
      clock.now = 61_001;
      await cluster.applySecret(secret("memo-a", "changed"));
      expect(patches() - before).toBe(3);
    });

    it("remembers at most maxAppliedMemo secrets, forgetting the least recently applied", async () => {
      const cluster = new K8sCluster({ maxAppliedMemo: 2 });
      const before = patches();
      for (const name of ["m1", "m2", "m1", "m3", "m2"]) await cluster.applySecret(secret(name));
      // m1, m2 applied; m1 remembered; m3 pushes m2 out; m2 applied again
      expect(patches() - before).toBe(4);
    });
  });
});
