import { V1Secret } from "@kubernetes/client-node";
import { deriveSecret } from "../../capabilities/pod-mirror/docker-config";
import { credentialsFor, keyFor, keyMatches, keyringFromSecrets, KeyringError } from "./kubelet-keyring";

const b64 = (text: string) => Buffer.from(text).toString("base64");
const entry = (user: string, password = `${user}-pw`) => ({ username: user, password });

function jsonSecret(name: string, auths: Record<string, unknown>): V1Secret {
  return {
    metadata: { name, namespace: "shop" },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": b64(JSON.stringify({ auths })) },
  };
}

describe("keyFor (a dockercfg location as kubelet indexes it)", () => {
  const rows: { name: string; location: string; key: string | undefined }[] = [
    { name: "bare host", location: "registry.test", key: "registry.test" },
    { name: "scheme dropped", location: "https://registry.test", key: "registry.test" },
    { name: "http scheme dropped", location: "http://registry.test:5000", key: "registry.test:5000" },
    { name: "/v1/ means the host", location: "https://index.docker.io/v1/", key: "index.docker.io" },
    { name: "/v2/ dropped before a path", location: "registry.test/v2/team", key: "registry.test/team" },
    { name: "a trailing slash alone is the host", location: "registry.test/", key: "registry.test" },
    {
      name: "node-local endpoint with a registry path",
      location: "127.0.0.1:65001/registry.test",
      key: "127.0.0.1:65001/registry.test",
    },
    {
      name: "node-local endpoint with a registry path and its slash (what the module writes)",
      location: "127.0.0.1:65001/registry.test/",
      key: "127.0.0.1:65001/registry.test/",
    },
    { name: "empty", location: "", key: undefined },
  ];
  it.each(rows)("$name", ({ location, key }) => expect(keyFor(location)).toBe(key));
});

describe("keyMatches (kubelet's urlsMatch)", () => {
  const matches: { name: string; key: string; repository: string }[] = [
    { name: "same host", key: "registry.test", repository: "registry.test/team/app" },
    {
      name: "endpoint path prefix",
      key: "127.0.0.1:65001/registry.test",
      repository: "127.0.0.1:65001/registry.test/team/app",
    },
    { name: "glob host part", key: "*.example.com", repository: "eu.example.com/app" },
    {
      name: "path prefix is a string prefix, not a path segment (as in kubelet)",
      key: "127.0.0.1:65001/registry.test",
      repository: "127.0.0.1:65001/registry.testing/app",
    },
  ];
  const misses: { name: string; key: string; repository: string }[] = [
    {
      name: "original registry key vs rewritten image",
      key: "registry.test",
      repository: "127.0.0.1:65001/registry.test/team/app",
    },
    {
      name: "port differs",
      key: "127.0.0.1:65002/registry.test",
      repository: "127.0.0.1:65001/registry.test/a",
    },
    { name: "port missing", key: "127.0.0.1/registry.test", repository: "127.0.0.1:65001/registry.test/a" },
    {
      name: "other registry path",
      key: "127.0.0.1:65001/other.test",
      repository: "127.0.0.1:65001/registry.test/a",
    },
    { name: "glob does not span parts", key: "*.com", repository: "eu.example.com/app" },
    {
      name: "longer path than the image",
      key: "registry.test/team/app/x",
      repository: "registry.test/team/app",
    },
  ];
  it.each(matches)("matches: $name", ({ key, repository }) => expect(keyMatches(key, repository)).toBe(true));
  it.each(misses)("misses: $name", ({ key, repository }) => expect(keyMatches(key, repository)).toBe(false));
});

describe("credentialsFor (what kubelet passes to PullImage, in order)", () => {
  const original = jsonSecret("regcred", { "registry.test": entry("orig") });
  const derived = jsonSecret("acr-credential-regcred-p2p", {
    "127.0.0.1:65001/registry.test/": entry("derived"),
  });
  const scoped = jsonSecret("team", {
    "127.0.0.1:65001/registry.test/team/app": entry("app"),
    "127.0.0.1:65001/registry.test/team": entry("team"),
  });
  const rows: { name: string; secrets: V1Secret[]; image: string; users: string[] }[] = [
    {
      name: "rewritten image picks the derived secret, not the original",
      secrets: [original, derived],
      image: "127.0.0.1:65001/registry.test/team/app:1",
      users: ["derived"],
    },
    {
      name: "original image picks the original secret",
      secrets: [original, derived],
      image: "registry.test/team/app@sha256:" + "a".repeat(64),
      users: ["orig"],
    },
    {
      name: "longest key first, then shorter ones",
      secrets: [derived, scoped],
      image: "127.0.0.1:65001/registry.test/team/app:1",
      users: ["app", "team", "derived"],
    },
    {
      name: "no secret: anonymous",
      secrets: [],
      image: "127.0.0.1:65001/registry.test/team/app:1",
      users: [],
    },
    {
      name: "auth field wins over username/password",
      secrets: [jsonSecret("a", { "registry.test": { username: "x", password: "y", auth: b64("u:p:w") } })],
      image: "registry.test/app",
      users: ["u"],
    },
    {
      name: "Docker Hub key for a short name",
      secrets: [jsonSecret("hub", { "https://index.docker.io/v1/": entry("hub") })],
      image: "nginx:1",
      users: ["hub"],
    },
    {
      name: "legacy dockercfg",
      secrets: [
        {
          metadata: { name: "old" },
          type: "kubernetes.io/dockercfg",
          data: { ".dockercfg": b64(JSON.stringify({ "registry.test": entry("old") })) },
        },
      ],
      image: "registry.test/app",
      users: ["old"],
    },
    {
      name: "an Opaque secret holding a docker config is ignored",
      secrets: [{ ...original, type: "Opaque" }],
      image: "registry.test/app",
      users: [],
    },
  ];
  it.each(rows)("$name", ({ secrets, image, users }) => {
    expect(credentialsFor(keyringFromSecrets(secrets), image).map(c => c.username)).toEqual(users);
  });

  it("a derived secret the module writes never matches another registry whose name it prefixes", () => {
    const written = deriveSecret(original, 65001, new Set(["registry.test", "registry.testing"]))!;
    const keyring = keyringFromSecrets([written]);
    expect(credentialsFor(keyring, "127.0.0.1:65001/registry.test/app:1").map(c => c.username)).toEqual([
      "orig",
    ]);
    expect(credentialsFor(keyring, "127.0.0.1:65001/registry.testing/app:1")).toEqual([]);
  });

  it("passes the password through", () => {
    const [cred] = credentialsFor(keyringFromSecrets([derived]), "127.0.0.1:65001/registry.test/a:1");
    expect(cred).toEqual({
      username: "derived",
      password: "derived-pw",
      key: "127.0.0.1:65001/registry.test/",
    });
  });
});

describe("rejects", () => {
  const rows: { name: string; run: () => unknown }[] = [
    {
      name: "a dockerconfigjson that is not JSON",
      run: () =>
        keyringFromSecrets([
          {
            metadata: { name: "bad" },
            type: "kubernetes.io/dockerconfigjson",
            data: { ".dockerconfigjson": b64("{") },
          },
        ]),
    },
    { name: "an invalid image", run: () => credentialsFor([], "not an image!") },
  ];
  it.each(rows)("$name", ({ run }) => expect(run).toThrow(KeyringError));
});
