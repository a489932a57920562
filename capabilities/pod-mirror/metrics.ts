/**
 * `peerpull_mutations_total{result,reason}`. Pepr's /metrics serves only its own private registry,
 * whose counters take no labels, so the count is also mirrored there as the labelled series
 * `pepr_peerpull_mutations_total` (a gauge that only goes up).
 */
import { metricsCollector } from "pepr";
import { Counter, Registry } from "prom-client";

export type MutationResult = "mutated" | "skipped" | "error";

export interface MutationMetrics {
  record(result: MutationResult, reason: string): void;
}

const PEPR_NAME = "peerpull_mutations_total";
const HELP = "Pod admissions seen by the pod-mirror capability, by result and reason";

export function promMutationMetrics(registry: Registry, mirrorToPepr = false): MutationMetrics {
  const counter = new Counter({
    name: "peerpull_mutations_total",
    help: HELP,
    labelNames: ["result", "reason"] as const,
    registers: [registry],
  });
  if (mirrorToPepr) metricsCollector.addGauge(PEPR_NAME, HELP, ["result", "reason"]);
  return {
    record(result, reason) {
      counter.inc({ result, reason });
      if (mirrorToPepr) metricsCollector.incGauge(PEPR_NAME, { result, reason });
    },
  };
}
