import { accelerationConfig } from "../testing/fixtures";
import { ApiError, MemoryCluster } from "../testing/memory-cluster";
import { RecordingLog } from "../testing/recording-log";
import { backoffMs, ReconcileController } from "./controller";
import { reconcilePass, ReconcilerDeps } from "./reconcile";

const NS = "peerpull-system";

describe("backoffMs", () => {
  const rows = [
    { name: "first retry", attempt: 1, random: 0.5, ms: 1_000 },
    { name: "doubles", attempt: 3, random: 0.5, ms: 4_000 },
    { name: "capped", attempt: 20, random: 0.5, ms: 300_000 },
    { name: "jitter low", attempt: 2, random: 0, ms: 1_600 },
    { name: "jitter high", attempt: 2, random: 1, ms: 2_400 },
  ];
  it.each(rows)("$name", ({ attempt, random, ms }) =>
    expect(backoffMs(attempt, 1_000, 300_000, random)).toBe(ms),
  );
});

describe("ReconcileController", () => {
  let cluster: MemoryCluster;
  let controller: ReconcileController;
  let passes: number;

  beforeEach(() => {
    jest.useFakeTimers();
    cluster = new MemoryCluster();
    cluster.setConfig(accelerationConfig([{ host: "registry.example.com" }]));
    const deps: ReconcilerDeps = { cluster, log: new RecordingLog(), newToken: () => "t".repeat(32) };
    passes = 0;
    controller = new ReconcileController({
      pass: retryIn => {
        passes += 1;
        return reconcilePass(deps, retryIn);
      },
      log: deps.log,
      resyncMs: 60_000,
      random: () => 0.5,
    });
  });
  afterEach(() => {
    controller.stop();
    jest.useRealTimers();
  });

  const ready = () => cluster.configs.get("default")!.status?.conditions?.find(c => c.type === "Ready");

  it("retries a failed pass with growing backoff, shows the error meanwhile, and recovers", async () => {
    cluster.failApi({ verb: "patch", resource: "daemonsets" }, new ApiError(503, "apiserver unavailable"), 2);
    await controller.request("created");
    expect(passes).toBe(1);
    expect(ready()).toMatchObject({
      reason: "ApplyFailed",
      message: "503 apiserver unavailable; retrying in 1s",
    });
    await jest.advanceTimersByTimeAsync(999);
    expect(passes).toBe(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(passes).toBe(2);
    expect(ready()).toMatchObject({
      reason: "ApplyFailed",
      message: "503 apiserver unavailable; retrying in 2s",
    });
    expect(controller.failures).toBe(2);
    await jest.advanceTimersByTimeAsync(2_000);
    expect(passes).toBe(3);
    expect(controller.failures).toBe(0);
    expect(cluster.store("DaemonSet").has(`${NS}/peerpull-agent`)).toBe(true);
    // no retry is left scheduled after the good pass
    await jest.advanceTimersByTimeAsync(30_000);
    expect(passes).toBe(3);
  });

  it("a thrown error (status cannot be written) is retried too", async () => {
    cluster.failApi({ verb: "list", resource: "p2paccelerationconfigs" }, new ApiError(500, "boom"), 1);
    await controller.request("created");
    expect(controller.failures).toBe(1);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(controller.failures).toBe(0);
    expect(ready()).toBeDefined();
  });

  it("brings back a deleted DaemonSet at the next resync", async () => {
    controller.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(cluster.store("DaemonSet").has(`${NS}/peerpull-agent`)).toBe(true);
    cluster.removeObject("DaemonSet", NS, "peerpull-agent");
    await jest.advanceTimersByTimeAsync(59_999);
    expect(cluster.store("DaemonSet").has(`${NS}/peerpull-agent`)).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(cluster.store("DaemonSet").has(`${NS}/peerpull-agent`)).toBe(true);
  });

  it("requests during a pass coalesce into one more pass", async () => {
    const first = controller.request("a");
    const second = controller.request("b");
    const third = controller.request("c");
    await Promise.all([first, second, third]);
    expect(passes).toBe(2);
  });
});
