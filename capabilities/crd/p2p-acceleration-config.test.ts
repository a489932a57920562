import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseByteRate, parseDuration } from "../../protocol/units";
import { check, Schema } from "../testing/openapi-check";
import {
  P2PAccelerationConfigSpec,
  P2PAccelerationConfigStatus,
  P2P_CONFIG_GVK,
} from "./p2p-acceleration-config";

type DeepRequired<T> = T extends (infer U)[]
  ? DeepRequired<U>[]
  : T extends Date
    ? T
    : T extends object
      ? { [K in keyof T]-?: DeepRequired<T[K]> }
      : T;

const crd = parse(readFileSync(join(__dirname, "../../crds/p2p-acceleration-config.yaml"), "utf8"));
const version = crd.spec.versions[0];
const root: Schema = version.schema.openAPIV3Schema;

/** Every field of the TypeScript type filled in (DeepRequired makes the compiler insist). */
const spec: DeepRequired<P2PAccelerationConfigSpec> = {
  region: "cn-hangzhou",
  acrInstances: ["cri-abcdef1234567890"],
  registries: [{ host: "registry.example.com", origin: "https://registry.example.com", anonymous: false }],
  pullImageInternet: false,
  mode: "rewrite",
  optInLabel: "k8s.aliyun.com/image-accelerate-mode",
  credentials: {
    secretRef: { namespace: "kube-system", name: "alibaba-addon-secret" },
    ramRole: "peerpull-role",
  },
  p2p: {
    port: 65001,
    ratelimit: "512M",
    cacheTTL: "24h",
    cacheHostPath: "/var/lib/peerpull",
    cacheMaxSize: "100G",
    downloadPattern: "p2p",
    nodeSelectorEnable: true,
  },
  agent: {
    image: "ghcr.io/peerpull/peerpull:0.1.0",
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "1Gi" } },
  },
  tracker: { replicas: 2 },
};

const status = {
  observedGeneration: 3,
  conditions: [
    {
      type: "Ready",
      status: "True",
      observedGeneration: 3,
      lastTransitionTime: "2026-01-01T00:00:00Z",
      reason: "AgentsReady",
      message: "3 of 3 agents ready",
    },
  ],
  registries: [
    {
      host: "x.cn-hangzhou.cr.aliyuncs.com",
      origin: "https://x-vpc.cn-hangzhou.cr.aliyuncs.com",
      source: "acr",
      instanceId: "cri-abcdef1234567890",
    },
  ],
  agents: { desired: 3, ready: 3 },
} satisfies P2PAccelerationConfigStatus;

function keysOf(schema: Schema, prefix = ""): string[] {
  const own = Object.entries(schema.properties ?? {}).flatMap(([k, s]) => [
    prefix + k,
    ...keysOf(s.items ?? s, prefix + k + "."),
  ]);
  return own;
}
function keysOfValue(value: unknown, prefix = ""): string[] {
  if (Array.isArray(value)) return keysOfValue(value[0], prefix);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) =>
    prefix.endsWith("requests.") || prefix.endsWith("limits.")
      ? []
      : [prefix + k, ...keysOfValue(v, prefix + k + ".")],
  );
}

describe("P2PAccelerationConfig CRD", () => {
  it("names the group, version, kind and scope of the TypeScript type", () => {
    expect(crd.spec.group).toBe(P2P_CONFIG_GVK.group);
    expect(version.name).toBe(P2P_CONFIG_GVK.version);
    expect(crd.spec.names.kind).toBe(P2P_CONFIG_GVK.kind);
    expect(crd.spec.names.plural).toBe(P2P_CONFIG_GVK.plural);
    expect(crd.spec.scope).toBe("Cluster");
    expect(version.subresources).toEqual({ status: {} });
  });

  it("has exactly the fields of the TypeScript type, and a full object validates", () => {
    const specSchema = root.properties!.spec;
    expect(keysOf(specSchema).sort()).toEqual(keysOfValue(spec).sort());
    expect(
      check(
        { apiVersion: "peerpull.io/v1alpha1", kind: "P2PAccelerationConfig", metadata: {}, spec, status },
        root,
      ),
    ).toEqual([]);
  });

  it("describes every spec field", () => {
    const undocumented = Object.entries(root.properties!.spec.properties!)
      .filter(([, s]) => !(s as { description?: string }).description && s.type !== "object")
      .map(([k]) => k);
    expect(undocumented).toEqual([]);
  });

  const rejects: { name: string; patch: Record<string, unknown>; error: RegExp }[] = [
    { name: "rate with an unknown unit", patch: { p2p: { ratelimit: "512X" } }, error: /ratelimit/ },
    { name: "TTL written in words", patch: { p2p: { cacheTTL: "1 day" } }, error: /cacheTTL/ },
    {
      name: "cache size with a rate suffix",
      patch: { p2p: { cacheMaxSize: "10G/s" } },
      error: /cacheMaxSize/,
    },
    { name: "instance id without cri- prefix", patch: { acrInstances: ["abc"] }, error: /acrInstances/ },
    { name: "port out of range", patch: { p2p: { port: 70000 } }, error: /port/ },
    { name: "unknown mode", patch: { mode: "fast" }, error: /mode/ },
    { name: "region in capitals", patch: { region: "Hangzhou" }, error: /region/ },
    { name: "registry host with a scheme", patch: { registries: [{ host: "https://r.io" }] }, error: /host/ },
    { name: "registry without host", patch: { registries: [{ anonymous: true }] }, error: /host: required/ },
    { name: "relative cache path", patch: { p2p: { cacheHostPath: "var/lib" } }, error: /cacheHostPath/ },
    { name: "unknown field", patch: { bandwidth: "1G" }, error: /unknown field/ },
  ];
  it.each(rejects)("rejects $name", ({ patch, error }) => {
    const errors = check({ spec: patch }, { type: "object", properties: { spec: root.properties!.spec } });
    expect(errors.join("\n")).toMatch(error);
  });

  it("accepts the size and duration forms the shared parsers accept", () => {
    for (const ratelimit of ["512M", "1G", "100Mi", "2.5G", "1024", "512M/s", "10MiB"]) {
      expect(check({ p2p: { ratelimit } }, root.properties!.spec)).toEqual([]);
      expect(parseByteRate(ratelimit)).toBeGreaterThan(0);
    }
    for (const cacheTTL of ["24h", "90m", "1h30m", "500ms", "7d"]) {
      expect(check({ p2p: { cacheTTL } }, root.properties!.spec)).toEqual([]);
      expect(parseDuration(cacheTTL)).toBeGreaterThan(0);
    }
  });
});
