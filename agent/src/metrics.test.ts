import { createAgentMetrics, METRIC_LABEL_VALUES } from "./metrics";
import { parsePromText } from "../../hack/testenv/prom-text";

async function samples() {
  return parsePromText(await createAgentMetrics().registry.metrics());
}

describe("agent metrics", () => {
  // Zero series let a dashboard show 0 and an alert's rate() see the first increment.
  it.each([
    {
      name: "blob bytes by source",
      metric: "peerpull_blob_bytes_total",
      label: "source",
      values: METRIC_LABEL_VALUES.blobSources,
    },
    {
      name: "evictions by reason",
      metric: "peerpull_cache_evictions_total",
      label: "reason",
      values: METRIC_LABEL_VALUES.evictionReasons,
    },
    {
      name: "auth decisions by result",
      metric: "peerpull_auth_decisions_total",
      label: "result",
      values: METRIC_LABEL_VALUES.authResults,
    },
    {
      name: "fallbacks by reason",
      metric: "peerpull_fallback_total",
      label: "reason",
      values: METRIC_LABEL_VALUES.fallbackReasons,
    },
    {
      name: "peer bans by reason",
      metric: "peerpull_peer_bans_total",
      label: "reason",
      values: METRIC_LABEL_VALUES.banReasons,
    },
    {
      name: "HAVE pushes by result",
      metric: "peerpull_have_pushes_total",
      label: "result",
      values: METRIC_LABEL_VALUES.havePushResults,
    },
    {
      name: "fill durations by fill",
      metric: "peerpull_blob_fetch_duration_seconds_count",
      label: "source",
      values: METRIC_LABEL_VALUES.fillSources,
    },
  ])("$name exist at 0 before anything happened", async ({ metric, label, values }) => {
    const found = (await samples()).filter(s => s.name === metric);
    expect(found.map(s => s.labels[label]).sort()).toEqual([...values].sort());
    expect(found.every(s => s.value === 0)).toBe(true);
  });

  it("counts a ban under its reason", async () => {
    const metrics = createAgentMetrics();
    metrics.peerBans.inc({ reason: "bad-piece" });
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^peerpull_peer_bans_total\{reason="bad-piece"\} 1$/m);
    expect(text).toMatch(/^peerpull_peer_bans_total\{reason="failures"\} 0$/m);
  });
});
