/**
 * The caching decisions, with an in-memory Container Registry API and a hand-moved clock. The real
 * API client, signatures and credentials are exercised in acr-resolver.test.ts.
 */
import type { P2PAccelerationConfigSpec } from "../crd/p2p-acceleration-config";
import { failure } from "./acr-errors";
import { CachingAcrResolver, CrApiFor } from "./caching-acr-resolver";
import type { CrApi } from "./cr-api";

const A = "cri-aaaaaaaa11111111";
const B = "cri-bbbbbbbb22222222";
const HOUR = 60 * 60 * 1000;

const domains = (id: string) => ({
  internet: `${id}-registry.cn-hangzhou.cr.aliyuncs.com`,
  vpc: `${id}-registry-vpc.cn-hangzhou.cr.aliyuncs.com`,
});

/** An in-memory API: each instance's domains, failures to inject, and a count of calls. */
class MemoryCrApi implements CrApi {
  calls = 0;
  failWith = new Map<string, Error>();
  gate?: Promise<void>;

  async listInstanceEndpoint(id: string) {
    await this.#enter(id);
    const d = domains(id);
    return [
      { endpointType: "internet" as const, domain: d.internet, system: true },
      { endpointType: "vpc" as const, domain: d.vpc, system: true },
    ];
  }

  async getInstanceVpcEndpoint(id: string) {
    await this.#enter(id);
    return [domains(id).vpc];
  }

  async #enter(id: string): Promise<void> {
    this.calls += 1;
    await this.gate;
    const error = this.failWith.get(id) ?? this.failWith.get("*");
    if (error) throw error;
  }
}

function setup() {
  let now = 1_000_000;
  const api = new MemoryCrApi();
  const apiFor = jest.fn<ReturnType<CrApiFor>, Parameters<CrApiFor>>(async () => api);
  const resolver = new CachingAcrResolver(apiFor, { now: () => now });
  return { api, apiFor, resolver, advance: (ms: number) => (now += ms) };
}

const spec = (extra: Partial<P2PAccelerationConfigSpec> = {}): P2PAccelerationConfigSpec => ({
  region: "cn-hangzhou",
  acrInstances: [A, B],
  ...extra,
});

const hosts = (registries: { host: string }[]) => registries.map(r => r.host);

describe("CachingAcrResolver", () => {
  it("resolves every instance's domains, in spec order", async () => {
    const { resolver } = setup();
    const { registries, error } = await resolver.resolve(spec());
    expect(error).toBeUndefined();
    expect(hosts(registries)).toEqual([
      domains(A).internet,
      domains(A).vpc,
      domains(B).internet,
      domains(B).vpc,
    ]);
    expect(registries[0]).toEqual({
      host: domains(A).internet,
      origin: `https://${domains(A).vpc}`,
      source: "acr",
      instanceId: A,
    });
  });

  it("reuses a success for an hour, then resolves again", async () => {
    const { api, resolver, advance } = setup();
    await resolver.resolve(spec());
    expect(api.calls).toBe(4);
    advance(HOUR - 1);
    await resolver.resolve(spec());
    expect(api.calls).toBe(4);
    advance(1);
    await resolver.resolve(spec());
    expect(api.calls).toBe(8);
  });

  const changes: { name: string; change: Partial<P2PAccelerationConfigSpec> }[] = [
    { name: "region", change: { region: "cn-shanghai" } },
    { name: "instance ids", change: { acrInstances: [A] } },
    { name: "pullImageInternet", change: { pullImageInternet: true } },
    { name: "credentials ref", change: { credentials: { secretRef: { name: "other" } } } },
  ];
  it.each(changes)("resolves again at once when the $name changes", async ({ change }) => {
    const { api, apiFor, resolver } = setup();
    await resolver.resolve(spec());
    const before = api.calls;
    await resolver.resolve(spec(change));
    expect(api.calls).toBeGreaterThan(before);
    expect(apiFor).toHaveBeenCalledTimes(2);
  });

  it("does not call the cloud, nor need credentials, without instances", async () => {
    const { apiFor, resolver } = setup();
    expect(await resolver.resolve({ region: "cn-hangzhou" })).toEqual({ registries: [] });
    expect(apiFor).not.toHaveBeenCalled();
  });

  it("keeps the last good registries of a failing instance and says which failed", async () => {
    const { api, resolver, advance } = setup();
    const good = await resolver.resolve(spec());
    advance(HOUR);
    api.failWith.set(
      B,
      failure("INSTANCE_NOT_EXIST", "ListInstanceEndpoint answered INSTANCE_NOT_EXIST", false, "R-9"),
    );
    const { registries, error } = await resolver.resolve(spec());
    expect(registries).toEqual(good.registries);
    expect(error).toEqual({
      code: "INSTANCE_NOT_EXIST",
      message: expect.stringMatching(
        new RegExp(`^${B}: INSTANCE_NOT_EXIST: .*\\(RequestId R-9\\); check the instance id`),
      ),
      requestId: "R-9",
      retryable: false,
    });
  });

  it("does not cache a failure: the next call tries again, and a recovery is cached", async () => {
    const { api, resolver } = setup();
    api.failWith.set("*", failure("Throttling.User", "Request was denied due to user flow control.", true));
    const first = await resolver.resolve(spec());
    expect(first).toMatchObject({ registries: [], error: { code: "Throttling.User", retryable: true } });
    expect(api.calls).toBe(2); // the first instance only: throttling would fail B the same way
    api.failWith.clear();
    expect((await resolver.resolve(spec())).error).toBeUndefined();
    const calls = api.calls;
    await resolver.resolve(spec());
    expect(api.calls).toBe(calls);
  });

  it("goes on to the next instance after an error that concerns one instance", async () => {
    const { api, resolver } = setup();
    api.failWith.set(A, failure("INSTANCE_NOT_EXIST", "gone", false));
    const { registries, error } = await resolver.resolve(spec());
    expect(hosts(registries)).toEqual([domains(B).internet, domains(B).vpc]);
    expect(error?.message).toMatch(new RegExp(`^${A}:`));
  });

  it("returns credential failures with the last good registries, retryable or not as they say", async () => {
    const { apiFor, resolver, advance } = setup();
    const good = await resolver.resolve(spec());
    advance(HOUR);
    apiFor.mockRejectedValueOnce(
      failure("CredentialsMissing", "Secret kube-system/alibaba-addon-secret not found", false),
    );
    const { registries, error } = await resolver.resolve(spec());
    expect(registries).toEqual(good.registries);
    expect(error).toMatchObject({ code: "CredentialsMissing", retryable: false });
  });

  it("answers an invalid spec with InvalidSpec and the last good registries of its instances", async () => {
    const { apiFor, resolver } = setup();
    const good = await resolver.resolve(spec());
    const { registries, error } = await resolver.resolve(spec({ region: undefined }));
    expect(error).toMatchObject({ code: "InvalidSpec", retryable: false });
    expect(registries).toEqual(good.registries);
    expect(apiFor).toHaveBeenCalledTimes(1);
  });

  it("forgets instances removed from the spec", async () => {
    const { api, resolver } = setup();
    await resolver.resolve(spec());
    await resolver.resolve(spec({ acrInstances: [A] }));
    api.failWith.set("*", failure("Throttling.User", "slow down", true));
    expect(
      hosts((await resolver.resolve(spec({ acrInstances: [A, B], region: "cn-shanghai" }))).registries),
    ).toEqual([domains(A).internet, domains(A).vpc]);
  });

  it("shares one resolution between concurrent calls with the same inputs", async () => {
    const { api, resolver } = setup();
    let open!: () => void;
    api.gate = new Promise(resolve => (open = resolve));
    const calls = [resolver.resolve(spec()), resolver.resolve(spec()), resolver.resolve(spec())];
    open();
    const results = await Promise.all(calls);
    expect(api.calls).toBe(4);
    expect(results[1]).toEqual(results[0]);
  });

  it("hands out copies: a caller changing its result does not change the cache", async () => {
    const { resolver } = setup();
    const first = await resolver.resolve(spec());
    first.registries[0].origin = "https://evil.example";
    first.registries.pop();
    const second = await resolver.resolve(spec());
    expect(second.registries).toHaveLength(4);
    expect(second.registries[0].origin).toBe(`https://${domains(A).vpc}`);
  });
});
