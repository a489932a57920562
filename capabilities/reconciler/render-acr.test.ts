/**
 * `peerpull-render` resolving ACR instances against the fake Container Registry API (which checks
 * every request's signature): with a Secret manifest or the standard environment variables, it
 * prints exactly what the reconciler applies for the same config; cloud errors are one line with the
 * code and RequestId and exit 1; the cloud out of reach leaves the instances out with a line on
 * stderr; bad credential input exits 2.
 */
process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments, stringify } from "yaml";
import { createAcrResolver } from "../acr/create-acr-resolver";
import {
  DATA,
  KEY,
  keySecret,
  manifestPath,
  REGION,
  SHOP,
  shippedPolicyActions,
} from "../acr/testing/acr-fixtures";
import { FakeCrApi } from "../acr/testing/fake-cr-api";
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import { k8sSchemaProblems } from "../testing/k8s-schema";
import { accelerationConfig } from "../testing/fixtures";
import { MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { readSecretVia } from "./credentials-secret";
import { reconcilePass } from "./reconcile";
import { render } from "./render";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
const INTERNET = SHOP.internet[0].domain;
const VPC = SHOP.vpc[0].domain;
const TOKEN = "k".repeat(40);
const SPEC: P2PAccelerationConfigSpec = {
  registries: [{ host: "registry.example.com" }],
  region: REGION,
  acrInstances: [SHOP.id],
};
const ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.id, ALIBABA_CLOUD_ACCESS_KEY_SECRET: KEY.secret };

let api: FakeCrApi;
let dir: string;
beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "render-acr-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(async () => {
  api = new FakeCrApi(REGION);
  api.service.addAccessKey({ ...KEY, actions: shippedPolicyActions() });
  api.service.addInstance(SHOP);
  api.service.addInstance(DATA);
  await api.start();
});
afterEach(() => api.stop());

const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};
const configFile = (spec: P2PAccelerationConfigSpec) =>
  file("config.yaml", stringify(accelerationConfig([], spec)));
const tokenFile = () => file("token", TOKEN);
/** The shipped example Secret (stringData), with the fake API's key in it. */
const exampleSecretFile = () => {
  const doc = parse(readFileSync(manifestPath("manifests/acr/alibaba-addon-secret.yaml"), "utf8"));
  doc.stringData = { "access-key-id": KEY.id, "access-key-secret": KEY.secret };
  return file("secret.yaml", stringify(doc));
};
const run = (spec: P2PAccelerationConfigSpec, extra: string[], env: Record<string, string> = {}) =>
  render(
    [
      "-f",
      configFile(spec),
      "--peer-token-file",
      tokenFile(),
      "--acr-endpoint",
      `http://${api.endpoint}`,
      ...extra,
    ],
    env,
  );
const docs = (stdout: string): Any[] => parseAllDocuments(stdout).map(d => d.toJSON());
const agentYaml = (objects: Any[]) => parse(objects.find(o => o.kind === "ConfigMap").data["agent.yaml"]);

/** What the reconciler applies for the same spec, the same token and the same cloud. */
async function reconciled(spec: P2PAccelerationConfigSpec): Promise<Any[]> {
  const cluster = new MemoryCluster();
  cluster.putSecret(keySecret(KEY));
  cluster.setConfig(accelerationConfig([], spec));
  const acr = createAcrResolver({
    readSecret: readSecretVia(cluster),
    endpointFor: () => api.endpoint,
    protocol: "http",
  });
  await reconcilePass({ cluster, acr, log: new RecordingLog(), newToken: () => TOKEN });
  const kinds = ["Namespace", "ServiceAccount", "ConfigMap", "Secret", "Service", "StatefulSet", "DaemonSet"];
  return kinds.map(kind => {
    const live: Any = [...cluster.store(kind).values()].find(
      (o: Any) => o.metadata.namespace === "peerpull-system" || kind === "Namespace",
    );
    return { data: live.data, spec: live.spec };
  });
}

describe("peerpull-render with ACR credentials", () => {
  it("with the Secret manifest as one would apply it: the instance's hosts, fetched from the VPC domain", async () => {
    const out = await run(SPEC, ["--acr-secret-file", exampleSecretFile()]);
    expect(out).toMatchObject({ code: 0, stderr: `resolved acrInstances ${SHOP.id}: ${INTERNET}, ${VPC}\n` });
    const objects = docs(out.stdout);
    expect(objects.flatMap(k8sSchemaProblems)).toEqual([]);
    expect(agentYaml(objects).upstreams).toEqual([
      { host: "registry.example.com", origin: "https://registry.example.com" },
      { host: INTERNET, origin: `https://${VPC}` },
      { host: VPC, origin: `https://${VPC}` },
    ]);
    // the two signed calls, nothing else
    expect(api.service.calls.map(c => [c.params.Action, c.code]).sort()).toEqual([
      ["GetInstanceVpcEndpoint", "success"],
      ["ListInstanceEndpoint", "success"],
    ]);
    // exactly what the reconciler applies for the same config
    expect(objects.map(o => ({ data: o.data, spec: o.spec }))).toEqual(await reconciled(SPEC));
  });

  it("with the standard environment variables; pullImageInternet fetches from the internet domain", async () => {
    const spec = { ...SPEC, pullImageInternet: true };
    const out = await run(spec, [], ENV);
    expect(out.code).toBe(0);
    expect(agentYaml(docs(out.stdout)).upstreams.slice(1)).toEqual([
      { host: INTERNET, origin: `https://${INTERNET}` },
      { host: VPC, origin: `https://${INTERNET}` },
    ]);
  });

  it("uses the credentials it was given whatever spec.credentials names (a RAM role is not reachable here)", async () => {
    const out = await run({ ...SPEC, credentials: { ramRole: "peerpull-nodes" } }, [], ENV);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain(INTERNET);
  });

  const cloudErrors: {
    name: string;
    spec?: P2PAccelerationConfigSpec;
    env?: Record<string, string>;
    line: RegExp;
    before?: () => void;
  }[] = [
    {
      name: "a wrong AccessKey secret",
      env: { ...ENV, ALIBABA_CLOUD_ACCESS_KEY_SECRET: "wrong" },
      line: /SignatureDoesNotMatch: Specified signature does not match our calculation.* \(RequestId [0-9A-F-]{36}\); check access-key-id and access-key-secret/,
    },
    {
      name: "an unknown AccessKey id",
      env: { ...ENV, ALIBABA_CLOUD_ACCESS_KEY_ID: "LTAI5tUnknownKey0000" },
      line: /InvalidAccessKeyId.NotFound: Specified access key is not found\. \(RequestId [0-9A-F-]{36}\)/,
    },
    {
      name: "an unknown instance",
      spec: { ...SPEC, acrInstances: ["cri-nosuchinstance000"] },
      line: /cri-nosuchinstance000: INSTANCE_NOT_EXIST: .*\(RequestId [0-9A-F-]{36}\); check the instance id/,
    },
    {
      name: "throttling",
      before: () => api.service.throttle(5),
      line: /Throttling.User: Request was denied due to user flow control\. \(RequestId [0-9A-F-]{36}\)/,
    },
  ];
  it.each(cloudErrors)(
    "$name: one line on stderr with the cloud's code and RequestId, exit 1, nothing printed",
    async ({ spec, env, line, before }) => {
      before?.();
      const out = await run(spec ?? SPEC, [], env ?? ENV);
      expect(out).toMatchObject({ code: 1, stdout: "" });
      expect(out.stderr).toMatch(/^peerpull-render: ACR resolution failed: /);
      expect(out.stderr).toMatch(line);
      expect(out.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(out.stderr.split("RequestId").length).toBe(2);
    },
  );

  it("the API unreachable: the instances left out with a NetworkError line (no signed URL), the rest rendered", async () => {
    await api.stop();
    const out = await run(SPEC, [], ENV);
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(
      /^left out, the cloud cannot be reached to resolve them: acrInstances .*NetworkError: .*ECONNREFUSED/,
    );
    expect(out.stderr).not.toMatch(/Signature=|AccessKeyId=/);
    const objects = parseAllDocuments(out.stdout).map(d => d.toJSON());
    const agentYaml = objects.find(o => o.kind === "ConfigMap")?.data?.["agent.yaml"] ?? "";
    expect(agentYaml).not.toMatch(/aliyuncs\.com/);
  });

  const badInput: { name: string; extra?: () => string[]; env?: Record<string, string>; stderr: RegExp }[] = [
    {
      name: "one of the two variables",
      env: { ALIBABA_CLOUD_ACCESS_KEY_ID: KEY.id },
      stderr: /set both ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, or neither/,
    },
    {
      name: "a file that is not a Secret",
      extra: () => ["--acr-secret-file", file("cm.yaml", "kind: ConfigMap\n")],
      stderr: /cm.yaml: not a Secret manifest/,
    },
    {
      name: "a Secret without the key id",
      extra: () => [
        "--acr-secret-file",
        file("s.yaml", stringify({ kind: "Secret", stringData: { "access-key-secret": "x" } })),
      ],
      stderr: /s.yaml: has no key access-key-id/,
    },
    {
      name: "a missing Secret file",
      extra: () => ["--acr-secret-file", join(dir, "nope.yaml")],
      stderr: /nope.yaml: ENOENT/,
    },
    {
      name: "an endpoint that is not a bare URL",
      extra: () => ["--acr-endpoint", "ftp://example.com/x"],
      stderr: /--acr-endpoint: want http\(s\):\/\/HOST\[:PORT\]/,
    },
  ];
  it.each(badInput)("exits 2 on $name, asking nothing of the cloud", async ({ extra, env, stderr }) => {
    const out = await run(SPEC, extra?.() ?? [], env ?? {});
    expect(out).toMatchObject({ code: 2, stdout: "" });
    expect(out.stderr).toMatch(stderr);
    expect(api.service.calls).toEqual([]);
  });

  it("without credentials: the instances are reported and left out, the cloud is not asked", async () => {
    const out = await run(SPEC, [], {});
    expect(out.code).toBe(0);
    expect(out.stderr).toMatch(/left out.*acrInstances cri-shop0000aaaa1111.*--acr-secret-file/);
    expect(agentYaml(docs(out.stdout)).upstreams).toEqual([
      { host: "registry.example.com", origin: "https://registry.example.com" },
    ]);
    expect(api.service.calls).toEqual([]);
  });
});
