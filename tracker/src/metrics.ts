/** Every tracker metric, defined once, on the tracker's own prom-client Registry. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";

export interface TrackerMetrics {
  registry: Registry;
  announces: Counter<"result">;
  leases: Counter<"event">;
  requests: Counter<"route" | "code">;
}

export function createTrackerMetrics(
  counts: () => { swarms: number; peers: number; stateBytes: number },
  defaults = false,
): TrackerMetrics {
  const registry = new Registry();
  if (defaults) collectDefaultMetrics({ register: registry, prefix: "peerpull_tracker_" });
  new Gauge({
    name: "peerpull_tracker_swarms",
    help: "Blobs with at least one live member",
    registers: [registry],
    collect() {
      this.set(counts().swarms);
    },
  });
  new Gauge({
    name: "peerpull_tracker_peers",
    help: "Live swarm memberships (a peer in two swarms counts twice)",
    registers: [registry],
    collect() {
      this.set(counts().peers);
    },
  });
  new Gauge({
    name: "peerpull_tracker_state_bytes",
    help: "Estimated bytes of swarm state held, against --max-state-bytes",
    registers: [registry],
    collect() {
      this.set(counts().stateBytes);
    },
  });
  return {
    registry,
    announces: new Counter({
      name: "peerpull_tracker_announces_total",
      help: "Announces handled, by result (ok or the error code)",
      labelNames: ["result"],
      registers: [registry],
    }),
    leases: new Counter({
      name: "peerpull_tracker_leases_total",
      help: "Origin lease events: granted, split, expired, finished, released, dropped",
      labelNames: ["event"],
      registers: [registry],
    }),
    requests: new Counter({
      name: "peerpull_tracker_requests_total",
      help: "HTTP requests by route and status code",
      labelNames: ["route", "code"],
      registers: [registry],
    }),
  };
}
