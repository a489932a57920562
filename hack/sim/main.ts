/**
 * `npm run sim -- --nodes N --size S --mbit B [--gap 0s] [--rtt 1ms] [--max-peers 48]
 * [--max-announce-rate 2000] [--have-push-gap 1000ms] [--seed 1]`: the swarm simulation
 * (sim-swarm.ts); prints one JSON result (with PEERPULL_SIM_TIMELINE=1, a timeline every S/B/10).
 * Bad arguments: one line, exit 2.
 */
import { parseArgs } from "node:util";
import { HAVE_PUSH_GAP_MS } from "../../agent/src/swarm/have-push";
import { FIELDS } from "../../protocol/agent-config";
import { parseByteSize, parseDuration } from "../../protocol/units";
import { simulateSwarm, SimOptions } from "./sim-swarm";

export function parseSimArgs(argv: string[]): SimOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: "string", default: "10" },
      size: { type: "string", default: "100M" },
      mbit: { type: "string", default: "25" },
      gap: { type: "string", default: "0s" },
      rtt: { type: "string", default: "1ms" },
      "max-peers": { type: "string", default: "48" },
      "max-origin-streams": { type: "string", default: "4" },
      "lease-timeout": { type: "string", default: "30s" },
      "max-total": { type: "string" },
      "upload-slots": { type: "string", default: FIELDS.peerUploadSlots.default },
      "max-per-peer": { type: "string" },
      seed: { type: "string", default: "1" },
      "max-announce-rate": { type: "string", default: "2000" },
      "have-push-gap": { type: "string", default: `${HAVE_PUSH_GAP_MS}ms` },
    },
    strict: true,
  });
  const positive = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0)
      throw new Error(`--${name}: expected a positive number, got ${JSON.stringify(text)}`);
    return n;
  };
  return {
    nodes: Math.round(positive("nodes", values.nodes!)),
    sizeBytes: parseByteSize(values.size!),
    mbit: positive("mbit", values.mbit!),
    gapMs: parseDuration(values.gap!),
    rttMs: parseDuration(values.rtt!),
    maxPeers: Math.round(positive("max-peers", values["max-peers"]!)),
    maxOriginStreams: Math.round(positive("max-origin-streams", values["max-origin-streams"]!)),
    leaseTimeoutMs: parseDuration(values["lease-timeout"]!),
    uploadSlots: Math.round(positive("upload-slots", values["upload-slots"]!)),
    seed: Math.round(positive("seed", values.seed!)),
    maxAnnounceRate: positive("max-announce-rate", values["max-announce-rate"]!),
    havePushGapMs: parseDuration(values["have-push-gap"]!),
    limits: {
      ...(values["max-total"] ? { maxTotal: Math.round(positive("max-total", values["max-total"])) } : {}),
      ...(values["max-per-peer"]
        ? { maxPerPeer: Math.round(positive("max-per-peer", values["max-per-peer"])) }
        : {}),
    },
  };
}

if (require.main === module) {
  let options: SimOptions;
  try {
    options = parseSimArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sim: ${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(simulateSwarm(options)) + "\n");
}
