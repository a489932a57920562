// Fill durations by fill: a swarm fill is timed as source="swarm" once it committed, never when it failed.
import { createHash } from "node:crypto";
import pino from "pino";
import { ANONYMOUS } from "../credentials/client-credentials";
import { FsBlobStore } from "../cache/fs-blob-store";
import { FillFunction, InFlight } from "../cache/in-flight";
import { createAgentMetrics } from "../metrics";
import { UpstreamClient } from "../upstream/upstream-client";
import { removeDir, tempDir } from "../../../hack/testenv/processes";
import { CachedBlobProvider } from "./cached-blob-provider";

const DATA = Buffer.alloc(64 * 1024, 7);
const DIGEST = "sha256:" + createHash("sha256").update(DATA).digest("hex");

async function fillCount(metrics: ReturnType<typeof createAgentMetrics>, source: string): Promise<number> {
  const json = await metrics.blobFetchDuration.get();
  return (
    json.values.find(v => v.metricName?.endsWith("_count") && v.labels.source === source)?.value ?? Number.NaN
  );
}

async function readAll(provider: CachedBlobProvider): Promise<void> {
  const blob = await provider.open({
    upstream: { host: "registry.test", origin: "http://127.0.0.1:9" },
    repo: "team/app",
    digest: DIGEST,
    credentials: ANONYMOUS,
    size: DATA.length,
  });
  const buffer = Buffer.alloc(DATA.length);
  let at = 0;
  for (;;) {
    const n = await blob.slices.readInto(buffer, at, buffer.length - at);
    if (n === 0) break;
    at += n;
  }
  await blob.slices.close();
}

describe("CachedBlobProvider fill timing", () => {
  let dir: string;
  let store: FsBlobStore;
  let client: UpstreamClient;

  beforeEach(async () => {
    dir = await tempDir("provider");
    store = await FsBlobStore.open(dir, { ttlMs: 60_000, maxBytes: 0 });
    client = new UpstreamClient({ timeoutMs: 1000, retries: 0 });
  });
  afterEach(async () => {
    await client.close();
    await removeDir(dir);
  });

  function provider(metrics: ReturnType<typeof createAgentMetrics>, swarm: FillFunction) {
    return new CachedBlobProvider({
      store,
      inFlight: new InFlight(store),
      client,
      metrics,
      log: pino({ level: "silent" }),
      swarm: () => swarm,
    });
  }

  it("observes a committed swarm fill as source=swarm", async () => {
    const metrics = createAgentMetrics();
    await readAll(
      provider(metrics, async writer => {
        await writer.write(DATA);
        await writer.commit();
      }),
    );
    expect(await fillCount(metrics, "swarm")).toBe(1);
    expect(await fillCount(metrics, "origin")).toBe(0);
  });

  it("does not observe a swarm fill that failed", async () => {
    const metrics = createAgentMetrics();
    await expect(
      readAll(
        provider(metrics, async writer => {
          await writer.write(DATA.subarray(0, 10));
          throw new Error("swarm gave up");
        }),
      ),
    ).rejects.toThrow();
    expect(await fillCount(metrics, "swarm")).toBe(0);
  });
});
