/**
 * The resolver as the reconciler gets it from `createAcrResolver`: the real `@alicloud/openapi-client`
 * and `@alicloud/credentials`, talking HTTP to the fake Container Registry API, which checks every
 * request's signature, timestamp and nonce. A request signed wrongly is refused, so these tests fail
 * if the client ever signs differently from the service.
 */
process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";

import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { V1Secret } from "@kubernetes/client-node";
import { MemoryCluster } from "../testing/memory-cluster";
import { accessKeyOf } from "./acr-credentials";
import { createAcrResolver } from "./create-acr-resolver";
import {
  accessKeySecret,
  DATA,
  KEY,
  keySecret,
  manifestPath,
  REGION,
  SHOP,
  shippedPolicyActions,
} from "./testing/acr-fixtures";
import { decodeParams, FakeCrApi } from "./testing/fake-cr-api";

const HOUR = 60 * 60 * 1000;
const SPEC = { region: REGION, acrInstances: [SHOP.id] };

let api: FakeCrApi;
let cluster: MemoryCluster;
let now: number;

beforeEach(async () => {
  api = new FakeCrApi(REGION);
  api.service.addAccessKey({ ...KEY, actions: shippedPolicyActions() });
  api.service.addInstance(SHOP);
  api.service.addInstance(DATA);
  await api.start();
  cluster = new MemoryCluster();
  cluster.putSecret(keySecret(KEY));
  now = 1_000_000;
});
afterEach(() => api.stop());

function resolver() {
  return createAcrResolver({
    readSecret: (namespace, name) => cluster.readSecret(namespace, name),
    endpointFor: () => api.endpoint,
    protocol: "http",
    now: () => now,
  });
}

describe("ACR resolution against the fake Container Registry API", () => {
  it("turns an instance id into its internet and VPC hosts, fetched from the VPC domain", async () => {
    expect(await resolver().resolve(SPEC)).toEqual({
      registries: [
        {
          host: "shop-registry.cn-hangzhou.cr.aliyuncs.com",
          origin: "https://shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
          source: "acr",
          instanceId: SHOP.id,
        },
        {
          host: "shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
          origin: "https://shop-registry-vpc.cn-hangzhou.cr.aliyuncs.com",
          source: "acr",
          instanceId: SHOP.id,
        },
      ],
    });
  });

  it("sends the two calls as the SDK would: POST, RPC parameters in the query, signed, Registry module", async () => {
    await resolver().resolve(SPEC);
    expect(api.service.calls.map(c => [c.params.Action, c.status, c.code]).sort()).toEqual([
      ["GetInstanceVpcEndpoint", 200, "success"],
      ["ListInstanceEndpoint", 200, "success"],
    ]);
    for (const { method, url } of api.wire) {
      expect(method).toBe("POST");
      const params = decodeParams(url.split("?")[1]);
      expect(params).toMatchObject({
        Version: "2018-12-01",
        Format: "json",
        InstanceId: SHOP.id,
        ModuleName: "Registry",
        AccessKeyId: KEY.id,
        SignatureMethod: "HMAC-SHA1",
        SignatureVersion: "1.0",
      });
      expect(params.Signature).toMatch(/^[A-Za-z0-9+/]{27}=$/);
      expect(params).not.toHaveProperty("SecurityToken");
    }
  });

  it("needs no permission beyond the two actions of manifests/acr/ram-policy.json", async () => {
    expect([...shippedPolicyActions()].sort()).toEqual([
      "cr:GetInstanceVpcEndpoint",
      "cr:ListInstanceEndpoint",
    ]);
    const { error } = await resolver().resolve({
      ...SPEC,
      acrInstances: [SHOP.id, DATA.id],
      pullImageInternet: true,
    });
    expect(error).toBeUndefined();
  });

  it("fetches from the internet domain with pullImageInternet, and custom domains are hosts too", async () => {
    const { registries } = await resolver().resolve({
      region: REGION,
      acrInstances: [DATA.id],
      pullImageInternet: true,
    });
    expect(registries.map(r => [r.host, r.origin])).toEqual([
      ["data-registry.cn-hangzhou.cr.aliyuncs.com", "https://data-registry.cn-hangzhou.cr.aliyuncs.com"],
      ["images.data.example", "https://data-registry.cn-hangzhou.cr.aliyuncs.com"],
      ["data-registry-vpc.cn-hangzhou.cr.aliyuncs.com", "https://data-registry.cn-hangzhou.cr.aliyuncs.com"],
    ]);
  });

  it("reads the example Secret of manifests/acr as the add-on's Secret", () => {
    const example = parse(
      readFileSync(manifestPath("manifests/acr/alibaba-addon-secret.yaml"), "utf8"),
    ) as V1Secret;
    expect(example.metadata).toEqual({ name: "alibaba-addon-secret", namespace: "kube-system" });
    const asStored = accessKeySecret(example.stringData!);
    expect(accessKeyOf(asStored, { namespace: "kube-system", name: "alibaba-addon-secret" })).toEqual({
      accessKeyId: example.stringData!["access-key-id"],
      accessKeySecret: example.stringData!["access-key-secret"],
    });
  });
});

describe("ACR errors, as the cloud reports them", () => {
  const cases: {
    name: string;
    arrange: () => void;
    code: string;
    retryable: boolean;
    cloud: boolean;
    message: RegExp;
  }[] = [
    {
      name: "a wrong AccessKey secret (the request is signed wrongly and refused)",
      arrange: () => cluster.putSecret(keySecret({ id: KEY.id, secret: "not-the-secret" })),
      code: "SignatureDoesNotMatch",
      retryable: false,
      cloud: true,
      message: /check access-key-id and access-key-secret in Secret kube-system\/alibaba-addon-secret/,
    },
    {
      name: "an AccessKey id the cloud does not know",
      arrange: () => cluster.putSecret(keySecret({ id: "LTAI5tDeleted", secret: KEY.secret })),
      code: "InvalidAccessKeyId.NotFound",
      retryable: false,
      cloud: true,
      message: /Specified access key is not found/,
    },
    {
      name: "a RAM policy without GetInstanceVpcEndpoint",
      arrange: () => api.service.addAccessKey({ ...KEY, actions: new Set(["cr:ListInstanceEndpoint"]) }),
      code: "Forbidden.RAM",
      retryable: false,
      cloud: true,
      message: /grant cr:ListInstanceEndpoint and cr:GetInstanceVpcEndpoint/,
    },
    {
      name: "an unknown instance (IsSuccess false in a 200)",
      arrange: () => (SPEC.acrInstances = ["cri-unknown00000000"]),
      code: "INSTANCE_NOT_EXIST",
      retryable: false,
      cloud: true,
      message: /^cri-unknown00000000: INSTANCE_NOT_EXIST/,
    },
    {
      name: "an unknown instance (an HTTP error)",
      arrange: () => {
        api.service.unknownInstanceStyle = "status";
        SPEC.acrInstances = ["cri-unknown00000000"];
      },
      code: "INSTANCE_NOT_EXIST",
      retryable: false,
      cloud: true,
      message: /instance not exist/,
    },
    {
      name: "an instance of another region",
      arrange: () => api.service.addInstance({ ...SHOP, region: "cn-beijing" }),
      code: "INSTANCE_NOT_EXIST",
      retryable: false,
      cloud: true,
      message: /spec.region is the instance's region/,
    },
    {
      name: "throttling",
      arrange: () => api.service.throttle(2),
      code: "Throttling.User",
      retryable: true,
      cloud: true,
      message: /user flow control/,
    },
    {
      name: "a 503",
      arrange: () => api.service.unavailable(2),
      code: "ServiceUnavailable",
      retryable: true,
      cloud: true,
      message: /temporary failure/,
    },
    {
      name: "a connection reset",
      arrange: () => api.failNext("reset", "reset"),
      code: "NetworkError",
      retryable: true,
      cloud: false,
      message: /socket hang up|ECONNRESET/,
    },
    {
      name: "no Secret",
      arrange: () => cluster.secrets.clear(),
      code: "CredentialsMissing",
      retryable: false,
      cloud: false,
      message: /Secret kube-system\/alibaba-addon-secret not found/,
    },
    {
      name: "a Secret without access-key-secret",
      arrange: () => cluster.putSecret(accessKeySecret({ "access-key-id": KEY.id })),
      code: "CredentialsMalformed",
      retryable: false,
      cloud: false,
      message: /has no key access-key-secret/,
    },
    {
      name: "a Secret whose value is not an AccessKey",
      arrange: () =>
        cluster.putSecret(accessKeySecret({ "access-key-id": "two words", "access-key-secret": KEY.secret })),
      code: "CredentialsMalformed",
      retryable: false,
      cloud: false,
      message: /key access-key-id is empty or not an AccessKey/,
    },
    {
      name: "the Secret cannot be read",
      arrange: () => cluster.failOn("readSecret", new Error("etcdserver: request timed out")),
      code: "SecretReadFailed",
      retryable: true,
      cloud: false,
      message: /etcdserver: request timed out/,
    },
  ];

  afterEach(() => (SPEC.acrInstances = [SHOP.id]));

  it.each(cases)("$name -> $code", async ({ arrange, code, retryable, cloud, message }) => {
    arrange();
    const { registries, error } = await resolver().resolve(SPEC);
    expect(registries).toEqual([]);
    expect(error).toMatchObject({ code, retryable });
    expect(error!.message).toMatch(message);
    if (cloud) {
      expect(error!.requestId).toMatch(/^[0-9A-F-]{36}$/);
      expect(api.service.calls.map(c => c.code)).toContain(code);
    } else expect(error!.requestId).toBeUndefined();
  });

  it("says NetworkError when nothing listens, and keeps the last good registries", async () => {
    const acr = resolver();
    const good = await acr.resolve(SPEC);
    await api.stop();
    now += HOUR;
    const { registries, error } = await acr.resolve(SPEC);
    expect(error).toMatchObject({ code: "NetworkError", retryable: true });
    // refused, or "socket hang up" when the client reuses a pooled connection it has not yet seen closed
    expect(error!.message).toMatch(
      /^cri-shop0000aaaa1111: NetworkError: (connect ECONNREFUSED 127\.0\.0\.1:\d+|socket hang up) \(POST http:\/\/127\.0\.0\.1:\d+\)$/,
    );
    expect(error!.message).not.toMatch(/AccessKeyId|Signature=/);
    expect(registries).toEqual(good.registries);
  });
});

describe("the Secret is read at every resolution", () => {
  it("a fixed Secret works at the next resolution, without a new resolver", async () => {
    cluster.putSecret(keySecret({ id: KEY.id, secret: "typo" }));
    const acr = resolver();
    expect((await acr.resolve(SPEC)).error?.code).toBe("SignatureDoesNotMatch");
    cluster.putSecret(keySecret(KEY));
    expect((await acr.resolve(SPEC)).error).toBeUndefined();
  });

  it("a rotated key is used at the hourly refresh after the old one is deleted", async () => {
    const acr = resolver();
    expect((await acr.resolve(SPEC)).error).toBeUndefined();
    const next = { id: "LTAI5tFakeKeyId0002", secret: "fake-access-key-secret-0002" };
    api.service.addAccessKey({ ...next, actions: shippedPolicyActions() });
    api.service.removeAccessKey(KEY.id);
    cluster.putSecret(keySecret(next));
    now += HOUR;
    expect((await acr.resolve(SPEC)).error).toBeUndefined();
    expect(api.service.calls.slice(-2).map(c => c.params.AccessKeyId)).toEqual([next.id, next.id]);
  });

  it("accepts values written with a trailing newline (echo ... | base64)", async () => {
    cluster.putSecret(
      accessKeySecret({ "access-key-id": `${KEY.id}\n`, "access-key-secret": `${KEY.secret}\n` }),
    );
    expect((await resolver().resolve(SPEC)).error).toBeUndefined();
  });

  it("reads the Secret named in spec.credentials.secretRef", async () => {
    cluster.secrets.clear();
    cluster.putSecret(keySecret(KEY, "peerpull-system", "acr-key"));
    const { error } = await resolver().resolve({
      ...SPEC,
      credentials: { secretRef: { namespace: "peerpull-system", name: "acr-key" } },
    });
    expect(error).toBeUndefined();
  });
});
