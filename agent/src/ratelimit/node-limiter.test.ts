import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { NodeLimiter } from "./node-limiter";
import { InvalidArgumentError } from "./token-bucket";

/** A clock the test advances: sleeps resolve in deadline order, only when the test runs the clock. */
function virtualClock() {
  let now = 0;
  const timers: { at: number; resolve: () => void }[] = [];
  const settle = () => new Promise(resolve => setImmediate(resolve));
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>(resolve => timers.push({ at: now + ms, resolve })),
    /** Fires timers in order until `untilMs` of virtual time or nothing is waiting (bounded). */
    async run(untilMs: number): Promise<void> {
      for (let step = 0; step < 100_000; step++) {
        await settle();
        if (timers.length === 0 || now >= untilMs) return;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift()!;
        now = Math.max(now, next.at);
        next.resolve();
      }
      throw new Error("virtual clock did not settle");
    },
  };
}

async function shareOf(chunkA: number, chunkB: number, seconds: number): Promise<number[]> {
  const clock = virtualClock();
  const limiter = new NodeLimiter({ bytesPerSecond: 1024 * 1024, burstBytes: 64 * 1024, ...clock });
  const moved = [0, 0];
  let stop = false;
  const stream = async (index: number, chunk: number) => {
    for (let i = 0; i < 10_000 && !stop; i++) {
      await limiter.take(chunk);
      moved[index] += chunk;
    }
  };
  const streams = Promise.all([stream(0, chunkA), stream(1, chunkB)]);
  await clock.run(seconds * 1000);
  stop = true;
  await clock.run(Infinity);
  await streams;
  return moved;
}

describe("NodeLimiter with a virtual clock", () => {
  it("gives two streams taking equal chunks an equal share at the configured rate", async () => {
    const [a, b] = await shareOf(32 * 1024, 32 * 1024, 10);
    expect(a / (a + b)).toBeGreaterThan(0.45);
    expect(a / (a + b)).toBeLessThan(0.55);
    expect((a + b) / (1024 * 1024)).toBeGreaterThan(9);
    expect((a + b) / (1024 * 1024)).toBeLessThan(11.5);
  });

  it("keeps a small-chunk stream moving next to one taking huge chunks", async () => {
    const [, small] = await shareOf(8 * 1024 * 1024, 16 * 1024, 10);
    // One 16 KiB take per 256 KiB slice of the big stream: never starved, about 1/17 of the rate.
    expect(small).toBeGreaterThan(300 * 1024);
  });

  it("counts the total wait and reports increments without losing the total", async () => {
    const clock = virtualClock();
    const limiter = new NodeLimiter({ bytesPerSecond: 1000, burstBytes: 1000, ...clock });
    const done = (async () => {
      for (let i = 0; i < 3; i++) await limiter.take(1000);
    })();
    await clock.run(Infinity);
    await done;
    expect(limiter.waitedSecondsTotal).toBeCloseTo(2);
    expect(limiter.takeWaitedSeconds()).toBeCloseTo(2);
    expect(limiter.takeWaitedSeconds()).toBe(0);
    expect(limiter.waitedSecondsTotal).toBeCloseTo(2);
  });

  it("rejects a bad take", async () => {
    const limiter = new NodeLimiter({ bytesPerSecond: 1000 });
    await expect(limiter.take(-1)).rejects.toThrow(InvalidArgumentError);
    await expect(limiter.take(Number.NaN)).rejects.toThrow("bytes");
  });
});

describe("NodeLimiter.throttle", () => {
  it("passes every byte through in order, paced by the bucket", async () => {
    const clock = virtualClock();
    const limiter = new NodeLimiter({ bytesPerSecond: 10_000, burstBytes: 1000, ...clock });
    const chunks = Array.from({ length: 20 }, (_, i) => Buffer.alloc(1000, i));
    const out: Buffer[] = [];
    const piped = pipeline(
      Readable.from(chunks),
      limiter.throttle(),
      async (source: AsyncIterable<Buffer>) => {
        for await (const chunk of source) out.push(chunk);
      },
    );
    await clock.run(Infinity);
    await piped;
    expect(Buffer.concat(out).equals(Buffer.concat(chunks))).toBe(true);
    expect(clock.now()).toBeCloseTo(1900);
  });
});
