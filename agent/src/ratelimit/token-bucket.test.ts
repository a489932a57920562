import { checkLimits, fullBucket, InvalidArgumentError, reserve } from "./token-bucket";
import { NodeLimiter } from "./node-limiter";

const limits = { bytesPerSecond: 1000, burstBytes: 500 };

describe("reserve", () => {
  const rows = [
    { name: "within burst", tokens: 500, bytes: 200, elapsed: 0, wait: 0, left: 300 },
    {
      name: "beyond burst waits for the debt",
      tokens: 500,
      bytes: 1500,
      elapsed: 0,
      wait: 1000,
      left: -1000,
    },
    { name: "refills with time", tokens: 0, bytes: 300, elapsed: 300, wait: 0, left: 0 },
    { name: "refill capped at burst", tokens: 0, bytes: 600, elapsed: 10_000, wait: 100, left: -100 },
    { name: "queued debt adds up", tokens: -1000, bytes: 500, elapsed: 0, wait: 1500, left: -1500 },
  ];
  it.each(rows)("$name", ({ tokens, bytes, elapsed, wait, left }) => {
    const { bucket, waitMs } = reserve({ tokens, updatedAtMs: 0 }, bytes, limits, elapsed);
    expect(waitMs).toBeCloseTo(wait);
    expect(bucket.tokens).toBeCloseTo(left);
  });
  it("starts full", () => expect(fullBucket(limits, 5)).toEqual({ tokens: 500, updatedAtMs: 5 }));
});

describe("NodeLimiter", () => {
  it("rejects bad options naming the option", () => {
    expect(() => new NodeLimiter({ bytesPerSecond: 0 })).toThrow(InvalidArgumentError);
    expect(() => new NodeLimiter({ bytesPerSecond: 1000, burstBytes: -1 })).toThrow("burstBytes");
  });

  it("paces takes to the rate and records the wait", async () => {
    let now = 0;
    const sleeps: number[] = [];
    const limiter = new NodeLimiter({
      bytesPerSecond: 1000,
      burstBytes: 1000,
      now: () => now,
      sleep: async ms => {
        sleeps.push(ms);
        now += ms;
      },
    });
    for (let i = 0; i < 5; i++) await limiter.take(1000);
    expect(now).toBeCloseTo(4000);
    expect(limiter.takeWaitedSeconds()).toBeCloseTo(4);
    expect(limiter.takeWaitedSeconds()).toBe(0);
  });

  it("shares the rate fairly between concurrent streams", async () => {
    const limiter = new NodeLimiter({ bytesPerSecond: 4 * 1024 * 1024, burstBytes: 64 * 1024 });
    const moved = [0, 0];
    const deadline = performance.now() + 500;
    const stream = async (index: number, chunk: number) => {
      while (performance.now() < deadline) {
        await limiter.take(chunk);
        moved[index] += chunk;
      }
    };
    await Promise.all([stream(0, 16 * 1024), stream(1, 16 * 1024)]);
    const share = moved[0] / (moved[0] + moved[1]);
    expect(share).toBeGreaterThan(0.35);
    expect(share).toBeLessThan(0.65);
  });
});

describe("checkLimits rejects", () => {
  const rows = [
    { name: "zero rate", limits: { bytesPerSecond: 0, burstBytes: 1 }, message: "bytesPerSecond" },
    { name: "infinite rate", limits: { bytesPerSecond: Infinity, burstBytes: 1 }, message: "bytesPerSecond" },
    { name: "NaN burst", limits: { bytesPerSecond: 1, burstBytes: Number.NaN }, message: "burstBytes" },
    { name: "negative burst", limits: { bytesPerSecond: 1, burstBytes: -5 }, message: "burstBytes" },
  ];
  it.each(rows)("$name", ({ limits, message }) => {
    expect(() => checkLimits(limits)).toThrow(InvalidArgumentError);
    expect(() => checkLimits(limits)).toThrow(message);
  });
});
