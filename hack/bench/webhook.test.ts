import { webhookBench } from "./webhook";

it("reports p50/p99 for 1 and 20 containers with the 20-container p99 gated", async () => {
  const results = await webhookBench(["200"]);
  expect(results.map(r => r.metric)).toEqual([
    "mutation_latency_p50_1_container",
    "mutation_latency_p99_1_container",
    "mutation_latency_p50_20_containers",
    "mutation_latency_p99_20_containers",
  ]);
  for (const r of results) {
    expect(r.value).toBeGreaterThan(0);
    expect(r.baseline).toBeGreaterThan(0);
  }
  expect(results[3].target).toBe("value < 2 ms");
  expect(typeof results[3].pass).toBe("boolean");
});
