import { ByteBudget } from "./throttle";

describe("ByteBudget", () => {
  const rows: {
    name: string;
    rate: number;
    burstMs: number;
    steps: Array<[bytes: number, nowMs: number, waitMs: number]>;
  }[] = [
    {
      name: "an idle link sends a burst at once",
      rate: 1000,
      burstMs: 20,
      steps: [
        [10, 0, 0],
        [10, 0, 0],
      ],
    },
    {
      name: "beyond the burst, the rate",
      rate: 1000,
      burstMs: 0,
      steps: [
        [100, 0, 100],
        [100, 0, 200],
        [50, 100, 150],
      ],
    },
    {
      name: "idle time is not saved up beyond the burst",
      rate: 1000,
      burstMs: 10,
      steps: [
        [100, 0, 90],
        [100, 5000, 90],
      ],
    },
    {
      name: "two streams taking turns share the rate",
      rate: 2000,
      burstMs: 0,
      steps: [
        [1000, 0, 500],
        [1000, 0, 1000],
        [1000, 500, 1000],
        [1000, 1000, 1000],
      ],
    },
  ];
  it.each(rows)("$name", ({ rate, burstMs, steps }) => {
    const budget = new ByteBudget(rate, burstMs);
    expect(steps.map(([bytes, now]) => budget.reserve(bytes, now))).toEqual(steps.map(s => s[2]));
  });

  it("total bytes over total time never beat the rate by more than the burst", () => {
    const budget = new ByteBudget(1_000_000, 20);
    let now = 0;
    for (let i = 0; i < 1000; i++) now += budget.reserve(64 * 1024, now);
    expect((1000 * 64 * 1024) / 1_000_000).toBeLessThanOrEqual(now / 1000 + 0.02 + 0.0656);
    expect(now / 1000).toBeGreaterThanOrEqual((999 * 64 * 1024) / 1_000_000 - 0.02);
  });

  it("rejects a rate that is not positive and a negative burst", () => {
    expect(() => new ByteBudget(0)).toThrow(RangeError);
    expect(() => new ByteBudget(10, -1)).toThrow(RangeError);
  });
});
