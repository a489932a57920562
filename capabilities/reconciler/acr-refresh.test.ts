/**
 * Timing of ACR refreshes as the module runs them: the resolver reuses a resolution for an hour and
 * the controller resyncs every 5 minutes, so the cloud is asked again at the first resync at or after
 * the hour — not more often, and never later than an hour and one resync interval. Fake timers and
 * clock; an in-memory Container Registry API counts the calls (the wire is acr-reconcile.test.ts's).
 */
import { CachingAcrResolver, DEFAULT_REFRESH_AFTER_MS } from "../acr/caching-acr-resolver";
import type { CrApi } from "../acr/cr-api";
import { accelerationConfig } from "../testing/fixtures";
import { MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { DEFAULTS, ReconcileController } from "./controller";
import { reconcilePass, ReconcilerDeps } from "./reconcile";

const ID = "cri-shop0000aaaa1111";
const MINUTE = 60_000;

describe("ACR refresh through the controller's resync", () => {
  let controller: ReconcileController;
  let resolutions: number[];
  let fail: Error | undefined;
  let cluster: MemoryCluster;
  let started: number;

  beforeEach(() => {
    jest.useFakeTimers();
    started = Date.now();
    resolutions = [];
    fail = undefined;
    const api: CrApi = {
      listInstanceEndpoint: async id => {
        resolutions.push((Date.now() - started) / MINUTE);
        if (fail) throw fail;
        return [{ endpointType: "internet", domain: `${id}.cn-hangzhou.cr.aliyuncs.com`, system: true }];
      },
      getInstanceVpcEndpoint: async id => [`${id}-vpc.cn-hangzhou.cr.aliyuncs.com`],
    };
    cluster = new MemoryCluster();
    cluster.setConfig(accelerationConfig([], { region: "cn-hangzhou", acrInstances: [ID] }));
    const deps: ReconcilerDeps = {
      cluster,
      log: new RecordingLog(),
      acr: new CachingAcrResolver(async () => api),
      newToken: () => "t".repeat(32),
    };
    controller = new ReconcileController({
      pass: retryIn => reconcilePass(deps, retryIn),
      log: deps.log,
      random: () => 0.5,
    });
  });
  afterEach(() => {
    controller.stop();
    jest.useRealTimers();
  });

  it("uses the production intervals: resync 5 minutes, refresh after an hour", () => {
    expect(DEFAULTS.resyncMs).toBe(5 * MINUTE);
    expect(DEFAULT_REFRESH_AFTER_MS).toBe(60 * MINUTE);
  });

  it("asks the cloud once at start, then once per hour at a resync, not at the resyncs between", async () => {
    controller.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(resolutions).toEqual([0]);
    await jest.advanceTimersByTimeAsync(55 * MINUTE);
    expect(resolutions).toEqual([0]); // 11 resyncs, all from the cache
    await jest.advanceTimersByTimeAsync(3 * 60 * MINUTE);
    const gaps = resolutions.slice(1).map((at, i) => at - resolutions[i]);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(60);
      expect(gap).toBeLessThanOrEqual(65);
    }
  });

  it("a refresh that fails is retried with backoff, not only at the next resync, and recovers", async () => {
    controller.start();
    await jest.advanceTimersByTimeAsync(0);
    fail = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    await jest.advanceTimersByTimeAsync(60 * MINUTE);
    expect(resolutions).toEqual([0, 60]);
    const registries = cluster.configs
      .get("default")!
      .status!.conditions!.find(c => c.type === "RegistriesResolved")!;
    expect(registries).toMatchObject({ status: "False", reason: "AcrResolutionFailed" });
    expect(registries.message).toMatch(
      /NetworkError.*Using the last resolved domains.*Retrying with backoff/,
    );
    // backoff: 1 s, 2 s, 4 s ... after the failed refresh
    await jest.advanceTimersByTimeAsync(7_000);
    expect(resolutions.length).toBe(5);
    fail = undefined;
    await jest.advanceTimersByTimeAsync(8_000);
    expect(controller.failures).toBe(0);
    expect(
      cluster.configs.get("default")!.status!.conditions!.find(c => c.type === "RegistriesResolved"),
    ).toMatchObject({ status: "True" });
  });
});
