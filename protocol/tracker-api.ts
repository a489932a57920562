/**
 * Wire types of the tracker HTTP JSON API (DESIGN 2.5) and their decoders. No I/O.
 *
 * POST /v1/announce  AnnounceRequest -> AnnounceResponse
 * POST /v1/leave     LeaveRequest    -> { ok: true }
 * Errors: status + TrackerErrorBody `{ error: { code, message } }`.
 *
 * Bitfields travel as base64 of ceil(pieceCount / 8) bytes, piece 0 in the most significant bit of
 * byte 0 (BitTorrent order); spare bits in the last byte must be zero. Piece ranges are
 * `{ start, end }` with `end` exclusive.
 */
import { SHA256_DIGEST, SHA256_HEX } from "./digest";
import { PROOF_SIGNATURE_BYTES } from "./piece-proof";

export const MAX_BODY_BYTES = 1024 * 1024;
export const MAX_PIECES = 100_000;
export const MAX_PEERS_IN_RESPONSE = 1_000;
export const MAX_PIECE_SIZE = 1024 ** 3;
export const MAX_LEASE_RANGES = 64;

export interface PieceRange {
  start: number;
  end: number;
}

/**
 * An origin lease: pieces start..end-1 are this member's to fetch from the origin, but it may
 * request only those below `fetchEnd` (its commitment, which the tracker extends on announces and a
 * split never cuts below). start <= fetchEnd <= end.
 */
export interface LeaseRange extends PieceRange {
  fetchEnd: number;
}

export interface AnnounceRequest {
  /** "sha256:<64 hex>" */
  digest: string;
  size: number;
  pieceSize: number;
  peerId: string;
  /** Where other peers reach this peer's peer API, "host:port". */
  address: string;
  /** base64 bitfield of verified pieces held. */
  have: string;
  /**
   * index -> sha256 hex of pieces this peer fetched from the origin and has no proof of yet, or of
   * every piece it holds when it needs proofs again (a seeder after a restart, or a new tracker key).
   * The tracker signs those it accepts and answers with the proofs.
   */
  pieceHashes: Record<number, string>;
  /** The whole blob is held and digest-verified (a seeder). */
  complete: boolean;
  /** false: do not grant this peer an origin lease (e.g. it is falling back on its own). Default true. */
  wantLease: boolean;
  /** true: give back the lease this peer holds (origin failed, shutting down). Default false. */
  releaseLease: boolean;
}

export interface PeerInfo {
  peerId: string;
  address: string;
  have: string;
  complete: boolean;
}

export interface AnnounceResponse {
  /** The swarm's piece size; when it differs from the request's, nothing was recorded: re-announce with it. */
  pieceSize: number;
  pieceCount: number;
  /**
   * A bounded sample of other members, rotating from answer to answer: first those holding something
   * the requester lacks, then members still downloading (to tell of its pieces: the HAVE push).
   */
  peers: PeerInfo[];
  /** Live members of the swarm, the requester included (the sample may show only some of them). */
  swarmMembers: number;
  /** Every copy of every piece the swarm's members hold: it grows while the swarm makes progress. */
  swarmCopies: number;
  /**
   * index -> base64 Ed25519 signature (protocol/piece-proof.ts) for each hash of the request the
   * swarm holds for that piece: the proofs the requester serves with those pieces.
   */
  proofs: Record<number, string>;
  /** base64 of the tracker's raw 32-byte Ed25519 public key, which verifies every proof. */
  trackerKey: string;
  /**
   * Origin leases held by the requester now (empty when none). Fetch them from the origin in order,
   * never past `fetchEnd`.
   */
  leases: LeaseRange[];
  /** A lease is lost when its holder reports no new piece for this long. */
  leaseTimeoutMs: number;
  /** How often a seeder re-announces (heartbeat). */
  announceIntervalMs: number;
  /**
   * How often a member still downloading announces at least (a lease holder also announces after
   * each origin piece). The tracker stretches it as its load grows.
   */
  downloadIntervalMs: number;
}

export interface LeaveRequest {
  peerId: string;
  /** Leave only this swarm; all swarms when absent. */
  digest?: string;
}

export const TRACKER_ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  SIZE_MISMATCH: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
  UNAVAILABLE: 503,
  TRACKER_FULL: 503,
} as const;

export type TrackerErrorCode = keyof typeof TRACKER_ERROR_STATUS;

export interface TrackerErrorBody {
  error: { code: string; message: string };
}

export class TrackerError extends Error {
  readonly status: number;

  constructor(
    readonly code: TrackerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TrackerError";
    this.status = TRACKER_ERROR_STATUS[code];
  }

  toBody(): TrackerErrorBody {
    return { error: { code: this.code, message: this.message } };
  }
}

export function pieceCountOf(size: number, pieceSize: number): number {
  return Math.ceil(size / pieceSize);
}

// ---- decoding helpers -------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function bad(message: string): never {
  throw new TrackerError("BAD_REQUEST", message);
}

function asObject(value: unknown, field: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    bad(`${field}: expected an object`);
  return value as Obj;
}

function onlyKeys(obj: Obj, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(obj))
    if (!allowed.includes(key)) bad(`${field}${field ? "." : ""}${key}: unknown field`);
}

function str(obj: Obj, key: string, pattern: RegExp, what: string): string {
  const value = obj[key];
  if (typeof value !== "string") bad(`${key}: expected a string (${what})`);
  if (!pattern.test(value)) bad(`${key}: expected ${what}, got ${JSON.stringify(value.slice(0, 80))}`);
  return value;
}

function int(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) bad(`${field}: expected an integer`);
  if (value < min || value > max) bad(`${field}: must be between ${min} and ${max}, got ${value}`);
  return value;
}

function bool(obj: Obj, key: string, fallback: boolean): boolean {
  const value = obj[key];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") bad(`${key}: expected true or false`);
  return value;
}

const DIGEST = SHA256_DIGEST;
const PEER_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const INDEX = /^(0|[1-9]\d{0,8})$/;

/** "host:port" with a DNS name, an IPv4 address or a bracketed IPv6 address. */
export function isPeerAddress(text: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?):(\d{1,5})$/.exec(text);
  if (!m) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}

/** Decodes and checks a wire bitfield for `pieceCount` pieces; throws naming `field`. */
export function decodeBitfield(text: string, pieceCount: number, field = "have"): Uint8Array {
  const bytes = Math.ceil(pieceCount / 8);
  if (!BASE64.test(text) || text.length % 4 !== 0) bad(`${field}: expected base64`);
  const buf = Buffer.from(text, "base64");
  if (buf.length !== bytes)
    bad(`${field}: expected ${bytes} bytes for ${pieceCount} pieces, got ${buf.length}`);
  const spare = bytes * 8 - pieceCount;
  if (spare > 0 && (buf[bytes - 1] & ((1 << spare) - 1)) !== 0)
    bad(`${field}: bits beyond piece ${pieceCount - 1} are set`);
  return new Uint8Array(buf);
}

export function encodeBitfield(bits: Uint8Array): string {
  return Buffer.from(bits.buffer, bits.byteOffset, bits.byteLength).toString("base64");
}

function pieceHashes(value: unknown, pieceCount: number, field: string): Record<number, string> {
  if (value === undefined) return {};
  const obj = asObject(value, field);
  const keys = Object.keys(obj);
  if (keys.length > pieceCount) bad(`${field}: more hashes (${keys.length}) than pieces (${pieceCount})`);
  const out: Record<number, string> = {};
  for (const key of keys) {
    if (!INDEX.test(key) || Number(key) >= pieceCount)
      bad(`${field}.${key}: not a piece index below ${pieceCount}`);
    const hash = obj[key];
    if (typeof hash !== "string" || !SHA256_HEX.test(hash))
      bad(`${field}.${key}: expected 64 lowercase hex characters`);
    out[Number(key)] = hash;
  }
  return out;
}

function proofSignatures(value: unknown, pieceCount: number): Record<number, string> {
  const obj = asObject(value, "proofs");
  const out: Record<number, string> = {};
  for (const [key, signature] of Object.entries(obj)) {
    const index = Number(key);
    if (!/^\d+$/.test(key) || index >= pieceCount)
      bad(`proofs.${key}: expected a piece index below ${pieceCount}`);
    if (typeof signature !== "string" || Buffer.from(signature, "base64").length !== PROOF_SIGNATURE_BYTES)
      bad(`proofs.${key}: expected base64 of a ${PROOF_SIGNATURE_BYTES}-byte signature`);
    out[index] = signature;
  }
  return out;
}

function trackerKey(value: unknown): string {
  if (
    typeof value !== "string" ||
    Buffer.from(value, "base64").length !== 32 ||
    Buffer.from(value, "base64").toString("base64") !== value
  )
    bad("trackerKey: expected base64 of a 32-byte Ed25519 public key");
  return value;
}

function leaseRanges(value: unknown, pieceCount: number, field: string): LeaseRange[] {
  if (!Array.isArray(value)) bad(`${field}: expected an array`);
  if (value.length > MAX_LEASE_RANGES) bad(`${field}: at most ${MAX_LEASE_RANGES} ranges`);
  return value.map((item, i) => {
    const range = asObject(item, `${field}[${i}]`);
    onlyKeys(range, ["start", "end", "fetchEnd"], `${field}[${i}]`);
    const start = int(range.start, `${field}[${i}].start`, 0, pieceCount - 1);
    const end = int(range.end, `${field}[${i}].end`, start + 1, pieceCount);
    const fetchEnd = int(range.fetchEnd, `${field}[${i}].fetchEnd`, start, end);
    return { start, end, fetchEnd };
  });
}

// ---- decoders ---------------------------------------------------------------------------------

/** Parses JSON text, mapping a syntax error to BAD_REQUEST. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    bad(`body: invalid JSON (${(err as Error).message})`);
  }
}

const ANNOUNCE_KEYS = [
  "digest",
  "size",
  "pieceSize",
  "peerId",
  "address",
  "have",
  "pieceHashes",
  "complete",
  "wantLease",
  "releaseLease",
] as const;

export function decodeAnnounceRequest(value: unknown): AnnounceRequest {
  const obj = asObject(value, "body");
  onlyKeys(obj, ANNOUNCE_KEYS, "");
  const digest = str(obj, "digest", DIGEST, "sha256:<64 lowercase hex>");
  const size = int(obj.size, "size", 1, Number.MAX_SAFE_INTEGER);
  const pieceSize = int(obj.pieceSize, "pieceSize", 1, MAX_PIECE_SIZE);
  const pieceCount = pieceCountOf(size, pieceSize);
  if (pieceCount > MAX_PIECES) bad(`pieceSize: ${pieceCount} pieces exceed the limit of ${MAX_PIECES}`);
  const peerId = str(obj, "peerId", PEER_ID, "1-128 characters of [A-Za-z0-9._:-]");
  const address = str(obj, "address", /^.{1,300}$/, "host:port");
  if (!isPeerAddress(address))
    bad(`address: expected host:port, got ${JSON.stringify(address.slice(0, 80))}`);
  if (typeof obj.have !== "string") bad("have: expected a base64 string");
  decodeBitfield(obj.have, pieceCount);
  return {
    digest,
    size,
    pieceSize,
    peerId,
    address,
    have: obj.have,
    pieceHashes: pieceHashes(obj.pieceHashes, pieceCount, "pieceHashes"),
    complete: bool(obj, "complete", false),
    wantLease: bool(obj, "wantLease", true),
    releaseLease: bool(obj, "releaseLease", false),
  };
}

export function decodeLeaveRequest(value: unknown): LeaveRequest {
  const obj = asObject(value, "body");
  onlyKeys(obj, ["peerId", "digest"], "");
  const peerId = str(obj, "peerId", PEER_ID, "1-128 characters of [A-Za-z0-9._:-]");
  if (obj.digest === undefined) return { peerId };
  return { peerId, digest: str(obj, "digest", DIGEST, "sha256:<64 lowercase hex>") };
}

/** Used by the agent: checks a tracker answer as strictly as the tracker checks requests. */
export function decodeAnnounceResponse(value: unknown): AnnounceResponse {
  const obj = asObject(value, "body");
  const pieceSize = int(obj.pieceSize, "pieceSize", 1, MAX_PIECE_SIZE);
  const pieceCount = int(obj.pieceCount, "pieceCount", 1, MAX_PIECES);
  if (!Array.isArray(obj.peers)) bad("peers: expected an array");
  if (obj.peers.length > MAX_PEERS_IN_RESPONSE) bad(`peers: at most ${MAX_PEERS_IN_RESPONSE}`);
  const peers = obj.peers.map((item, i) => decodePeerInfo(item, pieceCount, `peers[${i}]`));
  return {
    pieceSize,
    pieceCount,
    peers,
    swarmMembers: int(obj.swarmMembers, "swarmMembers", 0, Number.MAX_SAFE_INTEGER),
    swarmCopies: int(obj.swarmCopies, "swarmCopies", 0, Number.MAX_SAFE_INTEGER),
    proofs: proofSignatures(obj.proofs, pieceCount),
    trackerKey: trackerKey(obj.trackerKey),
    leases: leaseRanges(obj.leases, pieceCount, "leases"),
    leaseTimeoutMs: int(obj.leaseTimeoutMs, "leaseTimeoutMs", 1, 86_400_000),
    announceIntervalMs: int(obj.announceIntervalMs, "announceIntervalMs", 1, 86_400_000),
    downloadIntervalMs: int(obj.downloadIntervalMs, "downloadIntervalMs", 1, 86_400_000),
  };
}

function decodePeerInfo(value: unknown, pieceCount: number, field: string): PeerInfo {
  const obj = asObject(value, field);
  const peerId = obj.peerId;
  if (typeof peerId !== "string" || !PEER_ID.test(peerId)) bad(`${field}.peerId: invalid`);
  if (typeof obj.address !== "string" || !isPeerAddress(obj.address))
    bad(`${field}.address: expected host:port`);
  if (typeof obj.have !== "string") bad(`${field}.have: expected a base64 string`);
  decodeBitfield(obj.have, pieceCount, `${field}.have`);
  if (typeof obj.complete !== "boolean") bad(`${field}.complete: expected true or false`);
  return { peerId, address: obj.address, have: obj.have, complete: obj.complete };
}

/** Decodes an error body from the tracker; undefined when the body is not that shape. */
export function decodeTrackerErrorBody(value: unknown): { code: string; message: string } | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const error = (value as Obj).error;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, message } = error as Obj;
  if (typeof code !== "string" || typeof message !== "string") return undefined;
  return { code, message };
}
