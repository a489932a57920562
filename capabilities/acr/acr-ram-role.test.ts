/**
 * `credentials.ramRole`: @alicloud/credentials' ECS RAM-role provider (IMDSv2) against a local
 * metadata server, and the fake Container Registry API accepting exactly the STS credentials that
 * server issued, each with its SecurityToken and only until it expires. Only `Date` is faked (the
 * library reads `Date.now()` to decide when to refresh); timers and sockets are real.
 */
delete process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED; // a local metadata server is the point here

import { MemoryCluster } from "../testing/memory-cluster";
import { createAcrResolver } from "./create-acr-resolver";
import { REGION, SHOP, shippedPolicyActions } from "./testing/acr-fixtures";
import { FakeCrApi } from "./testing/fake-cr-api";
import { FakeMetadataServer } from "./testing/fake-metadata-server";
import { localMetadataProvider } from "./testing/local-metadata";

const ROLE = "KubernetesWorkerRole-peerpull";
const SPEC = { region: REGION, acrInstances: [SHOP.id], credentials: { ramRole: ROLE } };
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const START = Date.parse("2026-03-01T08:00:00Z");

let api: FakeCrApi;
let metadata: FakeMetadataServer;

beforeEach(async () => {
  jest.useFakeTimers({
    now: START,
    doNotFake: [
      "hrtime",
      "nextTick",
      "performance",
      "queueMicrotask",
      "setImmediate",
      "clearImmediate",
      "setInterval",
      "clearInterval",
      "setTimeout",
      "clearTimeout",
    ],
  });
  api = new FakeCrApi(REGION);
  api.service.addInstance(SHOP);
  await api.start();
  metadata = new FakeMetadataServer(ROLE, {
    onIssue: (sts, expiresAt) =>
      api.service.addAccessKey({
        id: sts.AccessKeyId,
        secret: sts.AccessKeySecret,
        securityToken: sts.SecurityToken,
        expiresAt,
        actions: shippedPolicyActions(),
      }),
  });
  await metadata.start();
});

afterEach(async () => {
  jest.useRealTimers();
  await Promise.all([api.stop(), metadata.stop()]);
});

function resolver() {
  const cluster = new MemoryCluster(); // no Secret at all: the role needs none
  return createAcrResolver({
    readSecret: (namespace, name) => cluster.readSecret(namespace, name),
    ramRoleProvider: localMetadataProvider(metadata.baseUrl),
    endpointFor: () => api.endpoint,
    protocol: "http",
  });
}

const usedKeys = () => api.service.calls.map(c => c.params.AccessKeyId);

describe("ACR resolution with a RAM role", () => {
  it("signs with the role's STS credentials and sends their SecurityToken", async () => {
    const { registries, error } = await resolver().resolve(SPEC);
    expect(error).toBeUndefined();
    expect(registries.map(r => r.host)).toEqual([SHOP.internet[0].domain, SHOP.vpc[0].domain]);
    const sts = metadata.current;
    for (const call of api.service.calls) {
      expect([call.status, call.code]).toEqual([200, "success"]);
      expect(call.params).toMatchObject({ AccessKeyId: sts.AccessKeyId, SecurityToken: sts.SecurityToken });
    }
  });

  it("uses IMDSv2: a token first, then the role's credentials with that token", async () => {
    await resolver().resolve(SPEC);
    const [put, get] = metadata.requests;
    expect(put).toMatchObject({ method: "PUT", path: "/latest/api/token", ttl: "21600" });
    expect(get).toMatchObject({ method: "GET", path: `/latest/meta-data/ram/security-credentials/${ROLE}` });
    expect(get.token).toEqual(expect.any(String));
    expect(metadata.requests.every(r => r.method === "PUT" || r.token)).toBe(true);
  });

  it("fetches credentials once while they are fresh", async () => {
    const acr = resolver();
    await acr.resolve(SPEC);
    jest.setSystemTime(START + HOUR + MINUTE); // the resolution is stale, the credentials are not
    await acr.resolve(SPEC);
    expect(api.service.calls).toHaveLength(4);
    expect(metadata.requests.filter(r => r.method === "GET")).toHaveLength(1);
  });

  it("rotates: new STS credentials are used before the old ones expire, and after", async () => {
    const acr = resolver();
    await acr.resolve(SPEC);
    const first = metadata.current;

    jest.setSystemTime(START + 5 * HOUR); // ECS issues the next set ahead of expiry
    const second = metadata.rotate();
    jest.setSystemTime(START + 5 * HOUR + 10 * MINUTE); // 50 minutes before the first set expires
    const { error } = await acr.resolve(SPEC);
    expect(error).toBeUndefined();
    expect(usedKeys()).toEqual([
      first.AccessKeyId,
      first.AccessKeyId,
      second.AccessKeyId,
      second.AccessKeyId,
    ]);

    // past the first set's expiry (the fake API refuses it from now on) the second set carries on
    jest.setSystemTime(START + 6 * HOUR + MINUTE);
    const late = await acr.resolve(SPEC);
    expect(late.error).toBeUndefined();
    expect(usedKeys().slice(-2)).toEqual([second.AccessKeyId, second.AccessKeyId]);
  });

  it("rides out a metadata outage on credentials that are still valid (the library keeps them)", async () => {
    const acr = resolver();
    await acr.resolve(SPEC);
    const first = metadata.current;
    jest.setSystemTime(START + 5 * HOUR + 30 * MINUTE); // due for a refresh, 30 minutes left
    metadata.rotate();
    metadata.failNext(100);
    expect((await acr.resolve(SPEC)).error).toBeUndefined();
    expect(usedKeys().slice(-1)).toEqual([first.AccessKeyId]);
  });

  it("keeps the last good registries when an outage outlasts the credentials, then recovers", async () => {
    const acr = resolver();
    const good = await acr.resolve(SPEC);
    jest.setSystemTime(START + 6 * HOUR + MINUTE); // expired, and no new set obtainable
    metadata.rotate();
    metadata.failNext(100);
    const failed = await acr.resolve(SPEC);
    expect(failed.registries).toEqual(good.registries);
    expect(failed.error).toMatchObject({ code: "InvalidSecurityToken.Expired", retryable: true });
    metadata.failNext(0);
    jest.setSystemTime(START + 6 * HOUR + 2 * MINUTE); // the library asks again seconds after a failure
    expect((await acr.resolve(SPEC)).error).toBeUndefined();
    expect(usedKeys().slice(-1)).toEqual([metadata.current.AccessKeyId]);
  });

  it("says CredentialsUnavailable, retryable, when the first fetch fails", async () => {
    metadata.failNext(100);
    const { registries, error } = await resolver().resolve(SPEC);
    expect(registries).toEqual([]);
    expect(error).toMatchObject({ code: "CredentialsUnavailable", retryable: true });
    expect(error!.message).toMatch(new RegExp(`^CredentialsUnavailable: RAM role ${ROLE}: `));
    expect(api.service.calls).toHaveLength(0);
  });

  it("says which role when the instance has no such role", async () => {
    const { error } = await resolver().resolve({ ...SPEC, credentials: { ramRole: "NoSuchRole" } });
    expect(error).toMatchObject({ code: "CredentialsUnavailable" });
    expect(error!.message).toMatch(
      /^CredentialsUnavailable: RAM role NoSuchRole: get sts token failed, httpStatus: 404/,
    );
    expect(api.service.calls).toHaveLength(0);
  });

  it("refuses the role when ALIBABA_CLOUD_ECS_METADATA_DISABLED=true, without asking the metadata service", async () => {
    process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED = "true";
    try {
      const { error } = await resolver().resolve(SPEC);
      expect(error).toMatchObject({ code: "CredentialsUnavailable", retryable: false });
      expect(error!.message).toMatch(/IMDS credentials is disabled/);
      expect(metadata.requests).toHaveLength(0);
    } finally {
      delete process.env.ALIBABA_CLOUD_ECS_METADATA_DISABLED;
    }
  });
});
