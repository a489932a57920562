/** Every tracker metric, defined once, on the tracker's own prom-client Registry. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import type { LeaseEvent } from "./lease-policy";

export interface TrackerMetrics {
  registry: Registry;
  announces: Counter<"result">;
  leases: Counter<"event">;
  swarmBlobBytes: Counter;
  requests: Counter<"route" | "code">;
}

/** Every lease event, so each series exists at 0 from the start (dashboards, rate()). */
const LEASE_EVENTS: readonly LeaseEvent[] = [
  "granted",
  "split",
  "expired",
  "finished",
  "released",
  "dropped",
];

export function createTrackerMetrics(
  counts: () => { swarms: number; peers: number; leases: number; stateBytes: number },
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
  new Gauge({
    name: "peerpull_tracker_leases",
    help: "Origin leases held right now",
    registers: [registry],
    collect() {
      this.set(counts().leases);
    },
  });
  const leases = new Counter({
    name: "peerpull_tracker_leases_total",
    help: "Origin lease events: granted, split, expired, finished, released, dropped",
    labelNames: ["event"],
    registers: [registry],
  });
  for (const event of LEASE_EVENTS) leases.inc({ event }, 0);
  return {
    registry,
    leases,
    announces: new Counter({
      name: "peerpull_tracker_announces_total",
      help: "Announces handled, by result (ok or the error code)",
      labelNames: ["result"],
      registers: [registry],
    }),
    swarmBlobBytes: new Counter({
      name: "peerpull_tracker_swarm_blob_bytes_total",
      help: "Sizes of the blobs whose swarm started here (again if it emptied and restarted): what the origin should serve about once",
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
