// POST /v1/announce and POST /v1/leave: decode -> store -> JSON. Sequencing only.
import type { IncomingMessage } from "node:http";
import {
  MAX_BODY_BYTES,
  TrackerError,
  decodeAnnounceRequest,
  decodeLeaveRequest,
  parseJsonBody,
} from "../../../protocol/tracker-api";
import { AnnounceOptions, ProofSigner, announce } from "../announce";
import type { TrackerMetrics } from "../metrics";
import type { SwarmStore } from "../swarm-store";
import { readBody } from "./body";

export interface AnnounceDeps {
  store: SwarmStore;
  options: AnnounceOptions;
  signer: ProofSigner;
  metrics: TrackerMetrics;
  now: () => number;
}

export type JsonReply = { status: number; body: unknown };
/** A reply whose body is already text (an announce answer is built as JSON text). */
export type RawReply = { status: number; contentType: string; text: string };

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers["content-type"];
  if (type !== undefined && !/^application\/json\s*(;.*)?$/i.test(type))
    throw new TrackerError("UNSUPPORTED_MEDIA_TYPE", `content-type: expected application/json, got ${type}`);
  return parseJsonBody(await readBody(req, MAX_BODY_BYTES));
}

export async function handleAnnounce(req: IncomingMessage, deps: AnnounceDeps): Promise<RawReply> {
  try {
    const request = decodeAnnounceRequest(await readJson(req));
    const now = deps.now();
    const result = announce(deps.store, request, deps.options, deps.signer, now, sourceOf(req));
    for (const event of result.leaseEvents) deps.metrics.leases.inc({ event });
    if (result.newSwarm) deps.metrics.swarmBlobBytes.inc(request.size);
    deps.metrics.announces.inc({ result: "ok" });
    return { status: 200, contentType: "application/json", text: result.responseJson() };
  } catch (err) {
    deps.metrics.announces.inc({ result: err instanceof TrackerError ? err.code : "INTERNAL" });
    throw err;
  }
}

export async function handleLeave(req: IncomingMessage, deps: AnnounceDeps): Promise<JsonReply> {
  const request = decodeLeaveRequest(await readJson(req));
  const removed = deps.store.removeMember(request.peerId, request.digest, sourceOf(req));
  return { status: 200, body: { ok: true, removed } };
}

/** The address the request came from (an IPv4-mapped IPv6 address as plain IPv4). */
function sourceOf(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
