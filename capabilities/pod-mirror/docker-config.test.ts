import {
  basicAuth,
  decodeDockerConfig,
  dockerConfigSecret,
  legacyDockerCfgSecret,
} from "../testing/fixtures";
import { credentialFor, deriveSecret, derivedSecretName, readCredentials } from "./docker-config";

const CRED = basicAuth("u", "p");
const ACCELERATED = new Set(["registry.example.com", "docker.io", "quay.io"]);

describe("readCredentials finds the registry of each auths key", () => {
  const rows: { name: string; key: string; registry: string; path: string }[] = [
    { name: "bare host", key: "registry.example.com", registry: "registry.example.com", path: "" },
    { name: "https scheme", key: "https://registry.example.com", registry: "registry.example.com", path: "" },
    {
      name: "http scheme and /v2/",
      key: "http://registry.example.com/v2/",
      registry: "registry.example.com",
      path: "",
    },
    { name: "docker hub legacy key", key: "https://index.docker.io/v1/", registry: "docker.io", path: "" },
    { name: "registry-1 alias", key: "registry-1.docker.io", registry: "docker.io", path: "" },
    { name: "path scope", key: "quay.io/org/", registry: "quay.io", path: "org" },
    { name: "uppercase host", key: "Registry.Example.COM", registry: "registry.example.com", path: "" },
  ];
  it.each(rows)("$name", ({ key, registry, path }) => {
    expect(readCredentials(dockerConfigSecret("ns", "s", { [key]: CRED }))).toEqual([
      { registry, path, entry: CRED },
    ]);
  });

  it("reads legacy .dockercfg secrets", () => {
    expect(
      readCredentials(legacyDockerCfgSecret("ns", "s", { "https://index.docker.io/v1/": CRED })),
    ).toEqual([{ registry: "docker.io", path: "", entry: CRED }]);
  });

  it("ignores wildcard keys, non-object entries and malformed secrets", () => {
    const wild = dockerConfigSecret("ns", "s", {
      "*.example.com": CRED,
      "a.io": "nope" as unknown as Record<string, unknown>,
    });
    expect(readCredentials(wild)).toEqual([]);
    expect(
      readCredentials({ metadata: { name: "x" }, data: { ".dockerconfigjson": "bm90IGpzb24=" } }),
    ).toEqual([]);
    expect(readCredentials({ metadata: { name: "x" }, data: { token: "eA==" } })).toEqual([]);
  });
});

describe("credentialFor", () => {
  const creds = readCredentials(
    dockerConfigSecret("ns", "s", { "quay.io": basicAuth("all", "x"), "quay.io/org": basicAuth("org", "y") }),
  );
  it("prefers the longest matching path like kubelet", () => {
    expect(credentialFor(creds, "quay.io", "org/app")?.entry).toEqual(basicAuth("org", "y"));
    expect(credentialFor(creds, "quay.io", "organisation/app")?.entry).toEqual(basicAuth("all", "x"));
    expect(credentialFor(creds, "docker.io", "library/x")).toBeUndefined();
  });
});

describe("deriveSecret", () => {
  it("keys each accelerated credential by the node-local endpoint and drops the rest", () => {
    const original = dockerConfigSecret("shop", "pull", {
      "https://index.docker.io/v1/": CRED,
      "quay.io/org": basicAuth("q", "r"),
      "ghcr.io": basicAuth("g", "h"),
    });
    original.metadata!.uid = "u-1";
    const derived = deriveSecret(original, 65001, ACCELERATED)!;
    expect(derived.metadata).toEqual({
      name: "acr-credential-pull-p2p",
      namespace: "shop",
      labels: { "app.kubernetes.io/managed-by": "peerpull", "peerpull.io/derived-from": "pull" },
      ownerReferences: [
        { apiVersion: "v1", kind: "Secret", name: "pull", uid: "u-1", blockOwnerDeletion: false },
      ],
    });
    expect(derived.type).toBe("kubernetes.io/dockerconfigjson");
    expect(decodeDockerConfig(derived)).toEqual({
      auths: { "127.0.0.1:65001/docker.io/": CRED, "127.0.0.1:65001/quay.io/org": basicAuth("q", "r") },
    });
  });

  it("returns nothing for secrets without accelerated credentials, derived secrets and over-long names", () => {
    expect(
      deriveSecret(dockerConfigSecret("ns", "s", { "ghcr.io": CRED }), 65001, ACCELERATED),
    ).toBeUndefined();
    const derived = deriveSecret(dockerConfigSecret("ns", "s", { "quay.io": CRED }), 65001, ACCELERATED)!;
    expect(deriveSecret(derived, 65001, ACCELERATED)).toBeUndefined();
    expect(derivedSecretName("a".repeat(234))).toHaveLength(253);
    expect(derivedSecretName("a".repeat(235))).toBeUndefined();
  });
});

describe("decoded secrets", () => {
  it("reads .dockerconfigjson that is already decoded (as Pepr passes Secrets to Mutate)", () => {
    const secret = {
      metadata: { name: "s" },
      data: { ".dockerconfigjson": JSON.stringify({ auths: { "r.io": CRED } }) },
    };
    expect(readCredentials(secret)).toEqual([{ registry: "r.io", path: "", entry: CRED }]);
  });
});
