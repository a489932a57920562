import { accelerationConfig, basicAuth, decodeDockerConfig, dockerConfigSecret } from "../testing/fixtures";
import { MemoryCluster } from "../testing/memory-cluster";
import { deriveSecret } from "./docker-config";
import { followSecret } from "./follow-secrets";

const ACCELERATED = new Set(["registry.example.com"]);

function setup() {
  const cluster = new MemoryCluster();
  cluster.setConfig(accelerationConfig([{ host: "registry.example.com" }]));
  const original = dockerConfigSecret("shop", "regcred", { "registry.example.com": basicAuth("old", "pw") });
  cluster.putSecret(original);
  cluster.putSecret(deriveSecret(original, 65001, ACCELERATED)!);
  return { cluster };
}

describe("derived secrets follow their originals", () => {
  it("rewrites the derived secret when the original's credentials change", async () => {
    const { cluster } = setup();
    const changed = dockerConfigSecret("shop", "regcred", {
      "registry.example.com": basicAuth("new", "pw2"),
    });
    expect(await followSecret(changed, false, cluster)).toBe("updated");
    expect(decodeDockerConfig(cluster.secrets.get("shop/acr-credential-regcred-p2p")!)).toEqual({
      auths: { "127.0.0.1:65001/registry.example.com/": basicAuth("new", "pw2") },
    });
    expect(await followSecret(changed, false, cluster)).toBe("none");
  });

  it("deletes the derived secret when the original is deleted or loses its accelerated credentials", async () => {
    const { cluster } = setup();
    const original = cluster.secrets.get("shop/regcred")!;
    expect(await followSecret(original, true, cluster)).toBe("deleted");
    expect(cluster.secrets.has("shop/acr-credential-regcred-p2p")).toBe(false);

    const second = setup().cluster;
    const elsewhere = dockerConfigSecret("shop", "regcred", { "ghcr.io": basicAuth("x", "y") });
    expect(await followSecret(elsewhere, false, second)).toBe("deleted");
  });

  it("leaves secrets without a derived copy, derived secrets themselves, and a cluster without config alone", async () => {
    const { cluster } = setup();
    const unrelated = dockerConfigSecret("shop", "other", { "registry.example.com": basicAuth("a", "b") });
    expect(await followSecret(unrelated, false, cluster)).toBe("none");
    const derived = cluster.secrets.get("shop/acr-credential-regcred-p2p")!;
    expect(await followSecret(derived, true, cluster)).toBe("none");
    cluster.configs.clear();
    const changed = dockerConfigSecret("shop", "regcred", { "registry.example.com": basicAuth("n", "m") });
    expect(await followSecret(changed, false, cluster)).toBe("none");
    expect(cluster.calls.filter(c => c.method === "applySecret" || c.method === "deleteSecret")).toEqual([]);
  });
});
